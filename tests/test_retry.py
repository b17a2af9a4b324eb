"""Retries wait (cnis_crawler.crawling.retry): the delays computed, and crawls of a failing mirror timed
from the server's own request log."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from cnis_crawler import settings as project_settings
from cnis_crawler.crawling.retry import (
    NOT_BEFORE_META,
    STOP_CHECK_INTERVAL,
    BackoffRetryMiddleware,
    backoff_delay,
    parse_retry_after,
)
from tests.conftest import SITE, expected_by_url, live_url
from tests.crawling import CrawlResult, run_crawl
from tests.tooling.fault_mirror import running_mirror
from tests.tooling.faults import requests_seen

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# The crawls' CNIS_RETRY_BACKOFF_BASE. Its shortest first wait, 0.3 s, is longer than Scrapy's own
# retries take in these crawls (0.1 to 0.29 s, busy with the other pages): the tests tell them apart.
BASE = 0.4
JITTER = project_settings.CNIS_RETRY_BACKOFF_JITTER
RETRY_TIMES = project_settings.RETRY_TIMES
# Timers may fire this much early, and the server and the crawler read the clock apart.
CLOCK_SLACK = 0.005
LISTING = "/en.cnis.ac.cn/kycg/index.shtml"
TWICE_FAILING = "/en.cnis.ac.cn/zdxw/202205/t20220520_50790.shtml"
ALWAYS_FAILING = "/en.cnis.ac.cn/zdxw/201908/t20190820_40012.shtml"
CUT_ONCE = "/en.cnis.ac.cn/zdxw/202006/t20200605_43210.shtml"
FAULTS: dict[str, dict[str, Any]] = {
    LISTING: {"kind": "status", "statuses": [503], "then": "serve", "headers": {"Retry-After": "1"}},
    TWICE_FAILING: {"kind": "status", "statuses": [503, 502], "then": "serve"},
    ALWAYS_FAILING: {"kind": "status", "statuses": [503]},
    CUT_ONCE: {"kind": "truncate", "times": 1},
}


def least_wait(retry_number: int) -> float:
    """The shortest wait before the ``retry_number``-th retry in the crawls below."""
    return BASE * 2 ** (retry_number - 1) * (1 - JITTER) - CLOCK_SLACK


# --- The delays ----------------------------------------------------------------------------------


def no_jitter(low: float, high: float) -> float:
    return (low + high) / 2


def test_backoff_doubles_with_each_retry() -> None:
    delays = [backoff_delay(number, 2, 60, 0.25, draw=no_jitter) for number in range(1, 6)]
    assert delays == [2, 4, 8, 16, 32]


def test_backoff_never_exceeds_the_maximum() -> None:
    assert backoff_delay(6, 2, 60, 0.25, draw=no_jitter) == 60  # 64 capped
    assert backoff_delay(6, 2, 60, 0.25, draw=lambda low, high: high) == 60
    assert backoff_delay(5000, 2, 60, 0.25, draw=no_jitter) == 60  # no OverflowError


def test_jitter_stays_within_its_bounds_and_varies() -> None:
    assert backoff_delay(2, 2, 60, 0.25, draw=lambda low, high: low) == 3
    assert backoff_delay(2, 2, 60, 0.25, draw=lambda low, high: high) == 5
    draw = random.Random(7).uniform
    delays = [backoff_delay(2, 2, 60, 0.25, draw=draw) for _ in range(1000)]
    assert all(3 <= delay <= 5 for delay in delays)
    assert max(delays) - min(delays) > 1.5  # spread over the range, not one value
    # At the cap the jitter still spreads the waits, downwards only.
    capped = [backoff_delay(10, 2, 60, 0.25, draw=draw) for _ in range(1000)]
    assert all(45 <= delay <= 60 for delay in capped)
    assert min(capped) < 50


def test_a_longer_retry_after_replaces_the_backoff_unvaried() -> None:
    assert backoff_delay(1, 2, 60, 0.25, retry_after=10, draw=lambda low, high: high) == 10
    assert backoff_delay(1, 2, 60, 0.25, retry_after=10, draw=lambda low, high: low) == 10


def test_a_shorter_retry_after_leaves_the_backoff() -> None:
    assert backoff_delay(3, 2, 60, 0.25, retry_after=1, draw=no_jitter) == 8
    assert backoff_delay(3, 2, 60, 0.25, retry_after=0, draw=no_jitter) == 8


def test_a_retry_after_beyond_the_maximum_is_capped() -> None:
    assert backoff_delay(1, 2, 60, 0.25, retry_after=3600, draw=no_jitter) == 60


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("120", 120, id="seconds"),
        pytest.param(b" 5 ", 5, id="seconds-bytes-padded"),
        pytest.param("0", 0, id="now"),
        pytest.param(None, None, id="absent"),
        pytest.param("", None, id="empty"),
        pytest.param("soon", None, id="not-understood"),
        pytest.param("-5", None, id="negative"),
        pytest.param("1.5", None, id="not-whole-seconds"),
    ],
)
def test_retry_after_seconds(value: str | bytes | None, seconds: float | None) -> None:
    assert parse_retry_after(value, time.time()) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 24, 8, 0, 0, tzinfo=UTC)
    later = http_date(now + timedelta(seconds=90))  # "Tue, 24 Nov 2026 08:01:30 GMT"
    assert parse_retry_after(later, now.timestamp()) == 90
    assert parse_retry_after(later.encode(), now.timestamp()) == 90
    assert parse_retry_after(http_date(now - timedelta(hours=1)), now.timestamp()) == 0  # passed
    assert parse_retry_after("Tue, 24 Nov 2026 08:01:30", now.timestamp()) == 90  # no zone: GMT


# --- The middleware, without a crawl -------------------------------------------------------------


@pytest.fixture
def middleware() -> BackoffRetryMiddleware:
    crawler = get_crawler(Spider, settings_dict={"CNIS_RETRY_BACKOFF_BASE": 2, "RETRY_TIMES": 3})
    crawler.spider = crawler._create_spider("retry")
    return BackoffRetryMiddleware.from_crawler(crawler)


def answer(status: int, headers: dict[str, str] | None = None) -> HtmlResponse:
    return HtmlResponse("https://en.cnis.ac.cn/kycg/index.shtml", status=status, headers=headers)


def waits(retry: Request | HtmlResponse | None, since: float) -> float:
    assert isinstance(retry, Request)
    return retry.meta[NOT_BEFORE_META] - since


def test_a_retry_carries_the_time_it_may_go(middleware: BackoffRetryMiddleware) -> None:
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml")
    before = time.time()
    first = middleware.process_response(request, answer(502))
    assert 1.5 <= waits(first, before) <= 2.5 + 0.5
    assert isinstance(first, Request)
    second = middleware.process_exception(first, DownloadTimeoutError("took too long"))
    assert 3 <= waits(second, before) <= 5 + 0.5
    stats = middleware.crawler.stats
    assert stats is not None
    assert stats.get_value("retry/count") == 2
    assert 4500 <= stats.get_value("retry/backoff_ms") <= 7500


def test_retry_after_of_a_503_or_429_sets_the_wait(middleware: BackoffRetryMiddleware) -> None:
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml")
    before = time.time()
    assert 7 <= waits(middleware.process_response(request, answer(503, {"Retry-After": "7"})), before) < 8
    assert 7 <= waits(middleware.process_response(request, answer(429, {"Retry-After": "7"})), before) < 8
    # A 502 is not one of the answers Retry-After is defined for: the backoff stands.
    assert waits(middleware.process_response(request, answer(502, {"Retry-After": "7"})), before) < 3.6
    capped = middleware.process_response(request, answer(503, {"Retry-After": "3600"}))
    assert 60 <= waits(capped, before) < 61
    stats = middleware.crawler.stats
    assert stats is not None
    assert stats.get_value("retry/retry_after") == 3
    assert stats.get_value("retry/retry_after_capped") == 1


def test_exhausted_retries_give_the_answer_back(middleware: BackoffRetryMiddleware) -> None:
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml", meta={"retry_times": 3})
    response = answer(503)
    assert middleware.process_response(request, response) is response
    assert middleware.process_exception(request, DownloadTimeoutError()) is None


@pytest.mark.parametrize(
    "setting",
    [{"CNIS_RETRY_BACKOFF_BASE": -1}, {"CNIS_RETRY_BACKOFF_MAX": -1}, {"CNIS_RETRY_BACKOFF_JITTER": 1}],
)
def test_nonsense_settings_are_refused(setting: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="CNIS_RETRY_BACKOFF"):
        BackoffRetryMiddleware.from_crawler(get_crawler(Spider, settings_dict=setting))


def test_the_wait_lets_the_event_loop_run(middleware: BackoffRetryMiddleware) -> None:
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml", meta={NOT_BEFORE_META: 0.0})
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def wait() -> float:
        ticker = asyncio.ensure_future(tick())
        request.meta[NOT_BEFORE_META] = time.time() + 0.3
        started = time.perf_counter()
        await middleware.process_request(request)
        ticker.cancel()
        return time.perf_counter() - started

    assert asyncio.run(wait()) >= 0.3 - CLOCK_SLACK
    assert ticks >= 10  # the loop ran other work meanwhile (about 30 ticks)
    assert NOT_BEFORE_META not in request.meta  # a redirect of the retry does not wait again


def crawl_running(middleware: BackoffRetryMiddleware) -> SimpleNamespace:
    """Makes the middleware's crawler look like one crawling (what retry.crawl_stopping reads);
    returns its engine's slot (what retry.spider_closing reads)."""
    slot = SimpleNamespace(closing=None)
    middleware.crawler.engine = SimpleNamespace(running=True, _slot=slot)  # type: ignore[assignment]
    middleware.crawler.crawling = True
    return slot


def stop_crawler(middleware: BackoffRetryMiddleware, slot: SimpleNamespace) -> None:
    middleware.crawler.crawling = False  # crawler.stop(): Ctrl-C, SIGTERM (a Scrapyd cancel)


def close_spider(middleware: BackoffRetryMiddleware, slot: SimpleNamespace) -> None:
    slot.closing = object()  # the engine's close_spider_async(): CLOSESPIDER_*, CloseSpider


@pytest.mark.parametrize("stop", [stop_crawler, close_spider], ids=["crawler-stop", "spider-closing"])
def test_a_wait_is_given_up_when_the_crawl_stops(
    middleware: BackoffRetryMiddleware, stop: Callable[[BackoffRetryMiddleware, SimpleNamespace], None]
) -> None:
    slot = crawl_running(middleware)
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml", meta={NOT_BEFORE_META: 0.0})

    async def wait() -> float:
        request.meta[NOT_BEFORE_META] = time.time() + 30
        asyncio.get_running_loop().call_later(0.2, stop, middleware, slot)
        started = time.perf_counter()
        with pytest.raises(IgnoreRequest, match="the crawl stopped during the wait"):
            await middleware.process_request(request)
        return time.perf_counter() - started

    assert 0.2 <= asyncio.run(wait()) < 0.2 + STOP_CHECK_INTERVAL + 0.2
    stats = middleware.crawler.stats
    assert stats is not None
    assert stats.get_value("retry/given_up_stopping") == 1
    assert 200 <= stats.get_value("retry/backoff_waited_ms") < 1000


def test_a_retry_of_a_stopping_crawl_is_not_sent_nor_kept_waiting(middleware: BackoffRetryMiddleware) -> None:
    close_spider(middleware, crawl_running(middleware))
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml", meta={NOT_BEFORE_META: time.time() + 30})
    started = time.perf_counter()
    with pytest.raises(IgnoreRequest):
        asyncio.run(middleware.process_request(request))
    assert time.perf_counter() - started < 0.1
    # One whose time has come goes, as a redirect of it or any request in the downloader does.
    due = Request("https://en.cnis.ac.cn/kycg/index.shtml", meta={NOT_BEFORE_META: time.time() - 1})
    assert asyncio.run(middleware.process_request(due)) is None


# --- Crawls of a failing mirror ------------------------------------------------------------------


Crawled = tuple[CrawlResult, dict[str, Any]]
"""A crawl, and what the server was asked (path -> its requests, in order)."""


def crawl_failing_mirror(workdir: Path, faults: dict[str, dict[str, Any]], *settings: str) -> Crawled:
    with running_mirror(SITE, faults=faults) as url:
        crawl = run_crawl(
            workdir,
            *("-a", f"mirror={url}", "-a", "sites=en.cnis.ac.cn"),
            *("-s", f"CNIS_RETRY_BACKOFF_BASE={BASE}"),
            *(argument for setting in settings for argument in ("-s", setting)),
        )
        return crawl, requests_seen(url)


@pytest.fixture(scope="module")
def failing_crawl(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """en.cnis.ac.cn with FAULTS, at the mirror's concurrency (16 connections, no delay), retries
    first in the queue: a retry that did not wait would reach the server within milliseconds."""
    return crawl_failing_mirror(tmp_path_factory.mktemp("retry"), FAULTS, "RETRY_PRIORITY_ADJUST=100")


@pytest.fixture(scope="module")
def one_connection_crawl(tmp_path_factory: pytest.TempPathFactory) -> Crawled:
    """en.cnis.ac.cn with its first listing page waiting its Retry-After, over one connection:
    a wait that held the site's download slot would stop the crawl. A download delay above 0
    makes Scrapy keep to that limit (at 0 it hands out every queued request at once), and at
    0.05 s the other pages last beyond the listing's wait."""
    faults = {LISTING: FAULTS[LISTING]}
    settings = ("CONCURRENT_REQUESTS_PER_DOMAIN=1", "DOWNLOAD_DELAY=0.05")
    return crawl_failing_mirror(tmp_path_factory.mktemp("retry"), faults, *settings)


def answers(seen: dict[str, Any], path: str) -> list[str]:
    return [entry["answer"] for entry in seen[path]]


def gaps(seen: dict[str, Any], path: str) -> list[float]:
    times = [entry["at"] for entry in seen[path]]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def written(crawl: CrawlResult, path: str) -> bool:
    return live_url(SITE / path.lstrip("/")) in {record["url"] for record in crawl.records}


def test_a_page_failing_twice_is_retried_after_growing_waits(
    failing_crawl: Crawled,
) -> None:
    crawl, seen = failing_crawl
    assert answers(seen, TWICE_FAILING) == ["503", "502", "serve"]
    first, second = gaps(seen, TWICE_FAILING)
    assert first >= least_wait(1)
    assert second >= least_wait(2)  # above the longest first wait: the waits grow
    assert written(crawl, TWICE_FAILING)


def test_retry_after_sets_the_wait_and_the_listing_is_read_whole(
    failing_crawl: Crawled,
) -> None:
    crawl, seen = failing_crawl
    assert answers(seen, LISTING) == ["503", "serve"]
    assert gaps(seen, LISTING)[0] >= 1 - CLOCK_SLACK
    kycg = crawl.summary["sections"]["en.cnis.ac.cn/kycg"]
    assert (kycg["listing_pages_fetched"], kycg["listing_pages_failed"]) == (2, 0)
    listed = {url for url in expected_by_url() if url.startswith("https://en.cnis.ac.cn/kycg/")}
    assert listed
    assert listed <= {record["url"] for record in crawl.records}
    assert kycg["records"] == len(listed)


def test_the_site_is_fetched_all_through_a_wait(one_connection_crawl: Crawled) -> None:
    _, seen = one_connection_crawl
    start, end = (entry["at"] for entry in seen[LISTING])
    assert end - start >= 1 - CLOCK_SLACK  # the listing waited its Retry-After
    meanwhile = sorted(
        entry["at"] for entries in seen.values() for entry in entries if start < entry["at"] < end
    )
    assert len(meanwhile) >= 10  # about 20
    # Never a pause near the second the listing waited: the wait held neither the reactor nor
    # the site's one connection. (About 0.1 s at most: the download delay, and other retries.)
    assert max(later - earlier for earlier, later in itertools.pairwise([start, *meanwhile, end])) < 0.5


def test_a_page_cut_short_is_retried_after_a_wait(
    failing_crawl: Crawled,
) -> None:
    crawl, seen = failing_crawl
    assert answers(seen, CUT_ONCE) == ["truncate", "serve"]
    assert gaps(seen, CUT_ONCE)[0] >= least_wait(1)
    assert written(crawl, CUT_ONCE)


def test_a_page_failing_every_time_becomes_a_fetch_failed_drop(
    failing_crawl: Crawled,
) -> None:
    crawl, seen = failing_crawl
    assert answers(seen, ALWAYS_FAILING) == ["503"] * (RETRY_TIMES + 1)
    assert [gap >= least_wait(number) for number, gap in enumerate(gaps(seen, ALWAYS_FAILING), 1)] == [
        True
    ] * RETRY_TIMES
    assert not written(crawl, ALWAYS_FAILING)
    zdxw = crawl.summary["sections"]["en.cnis.ac.cn/zdxw"]
    assert zdxw["dropped"] == {"FetchFailed": 1}
    assert zdxw["unaccounted"] == 0
    assert crawl.stats["item_dropped_reasons_count/FetchFailed"] == 1
    assert crawl.stats["retry/max_reached"] == 1


def test_retries_and_their_waits_are_counted(failing_crawl: Crawled) -> None:
    crawl, _ = failing_crawl
    stats = crawl.stats
    assert stats["retry/count"] == 1 + 2 + RETRY_TIMES + 1  # listing, twice, always, cut
    assert stats["retry/retry_after"] == 1
    shortest = 1 + sum(least_wait(n) for n in (1, 2, *range(1, RETRY_TIMES + 1), 1))
    assert stats["retry/backoff_ms"] >= shortest * 1000
    assert 0 < stats["retry/backoff_waited_ms"] <= stats["retry/backoff_ms"]


def test_a_crawl_stopping_gives_up_a_long_wait_and_the_next_run_fetches_the_page(tmp_path: Path) -> None:
    """CLOSESPIDER_TIMEOUT (as Ctrl-C or a Scrapyd cancel) during a Retry-After of 30 s: the crawl
    closes at once, the page is a FetchFailed drop, and the next run fetches it."""
    faults = {
        TWICE_FAILING: {
            "kind": "status",
            "statuses": [503],
            "then": "serve",
            "headers": {"Retry-After": "30"},
        }
    }
    with running_mirror(SITE, faults=faults) as url:
        arguments = ("-a", f"mirror={url}", "-a", "sites=en.cnis.ac.cn", "-s", "CNIS_RETRY_BACKOFF_MAX=30")
        stopped = run_crawl(tmp_path, *arguments, "-s", "CLOSESPIDER_TIMEOUT=2")
        seen = requests_seen(url)
        again = run_crawl(tmp_path, *arguments)
    assert stopped.summary["finish_reason"] == "closespider_timeout", stopped.log[-3000:]
    assert stopped.seconds < 2 + 8  # the timeout, and the start and close of a crawl; 30 s without
    assert answers(seen, TWICE_FAILING) == ["503"]  # never sent again
    assert stopped.stats["retry/given_up_stopping"] == 1
    assert not written(stopped, TWICE_FAILING)
    zdxw = stopped.summary["sections"]["en.cnis.ac.cn/zdxw"]
    assert (zdxw["dropped"], zdxw["unaccounted"]) == ({"FetchFailed": 1}, 0)
    assert again.summary["finish_reason"] == "finished", again.log[-3000:]
    assert written(again, TWICE_FAILING)
