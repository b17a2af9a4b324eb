"""Whether a crawl that ran to its end found what it should: how a user learns that the site changed.

When the spider goes idle for good, :class:`CrawlHealth` judges the per-section table
(:func:`cnis_crawler.crawling.extensions.section_table`) and closes the crawl with one of these finish
reasons instead of ``finished``:

``section_empty``
    A crawled section yielded nothing: none of its linked articles ended as a record, as known
    (not fetched), unchanged or an alias. Its listing failed or was unreadable, was read without a
    single article link (a new template), or every article it linked was dropped. A section is
    crawled when the spider requested its listing (every section of the chosen ``sites``, in every
    run) or the table shows a listing page of it read or failed.
``too_many_drops``
    Over the whole crawl, the articles dropped (any reason of :mod:`cnis_crawler.crawling.drops`; unchanged
    and aliases are no drops) are more than ``CNIS_MAX_DROP_SHARE`` of the articles fetched, and
    at least ``MIN_FETCHED_FOR_SHARE`` were fetched. 0 switches the check off. Fetched are the
    linked articles less the known ones an incremental run skips (a revalidated one answered 304
    is fetched, and fine): counted among all linked, a nightly run's few new articles, every one
    of them dropped after a change of the article template, would vanish among the known.

``site_unreachable``
    Not a site change: every request failed to get an answer (DNS, refused, timed out, reset)
    for ``CNIS_UNREACHABLE_AFTER`` seconds (30) since the first such failure, with no response
    at all meanwhile. The crawl gives up then, rather than retrying every listing page for
    minutes, and the next run takes up what it left. ``scrapy crawl`` exits 4.

All are logged as an ERROR when the crawl closes, naming the sections or the share and the drops
by reason; when both hold, the finish reason is ``section_empty``. ``scrapy crawl`` then exits
with a status of its own (:mod:`cnis_crawler.crawling.commands.crawl`). Known articles count as yielded
for ``section_empty``, so an incremental run that finds nothing new is healthy.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro

from cnis_crawler.crawling.config import number
from cnis_crawler.crawling.extensions import DROPPED, SECTION_WHY, SETTLED, empty_row, section_table
from cnis_crawler.memory.state import TROUBLED

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

SECTION_EMPTY = "section_empty"
TOO_MANY_DROPS = "too_many_drops"
REASONS = frozenset({SECTION_EMPTY, TOO_MANY_DROPS})
"""The finish reasons of an unhealthy crawl: one that ran to its end and found the site changed."""
SITE_UNREACHABLE = "site_unreachable"
"""The finish reason of a crawl that could not reach the site (the network, not the site)."""
DEFAULT_UNREACHABLE_AFTER = 30.0
WATCH_INTERVAL = 1.0

DEFAULT_MAX_DROP_SHARE = 0.2
# Below this many fetched articles the share is noise: one page gone among 4 is 25 %. Little is
# missed: a small crawl whose every article is dropped has every section empty, and an incremental
# run fetching fewer new articles than this is judged by the runs after it, as they pile up
# (dropped articles are fetched again, see cnis_crawler.crawling.drops).
MIN_FETCHED_FOR_SHARE = 20


@dataclass(frozen=True)
class Problem:
    reason: str
    """One of :data:`REASONS`."""
    message: str


def assess(
    table: Mapping[str, Mapping[str, Any]], max_drop_share: float, crawled: Iterable[str] = ()
) -> list[Problem]:
    """What is wrong with a crawl whose per-section table is ``table``, most telling first.

    ``crawled``: the sections whose listing the crawl requested; one missing from the table left
    no trace at all and is empty too. ``max_drop_share`` 0 (or less) switches the share off.
    """
    problems = []
    crawled_rows = {key: table.get(key) or empty_row() for key in crawled} | {
        key: row for key, row in table.items() if row["listing_pages_fetched"] or row["listing_pages_failed"]
    }
    empty = {
        key: row for key, row in sorted(crawled_rows.items()) if not any(row[counter] for counter in SETTLED)
    }
    if empty:
        described = "; ".join(f"{key} ({why_empty(row)})" for key, row in empty.items())
        # Not one listing page read anywhere, yet answers came: an address that serves no CNIS site
        # (a mirror's wrong path, a moved site) before a redesign of every section at once.
        nothing_read = len(empty) == len(crawled_rows) and not any(
            row["listing_pages_fetched"] for row in crawled_rows.values()
        )
        hint = (
            "; not one listing page could be read: check the site's address (-a mirror=) first"
            if nothing_read
            else ""
        )
        problems.append(
            Problem(
                SECTION_EMPTY,
                f"{SECTION_EMPTY}: {len(empty)} section(s) yielded nothing (no article written, known,"
                f" unchanged or an alias), as when the site changed: {described}{hint}",
            )
        )
    fetched = sum(fetched_articles(row) for row in table.values())
    known = sum(row["skipped_known"] for row in table.values())
    drops = Counter[str]()
    for row in table.values():
        drops.update(row[DROPPED])
    dropped = sum(drops.values())
    # A share exactly at the limit is within it.
    if max_drop_share > 0 and fetched >= MIN_FETCHED_FOR_SHARE and dropped / fetched > max_drop_share:
        not_counted = f" ({known} more linked were known, not fetched)" if known else ""
        problems.append(
            Problem(
                TOO_MANY_DROPS,
                f"{TOO_MANY_DROPS}: {dropped} of {fetched} fetched articles dropped ({dropped / fetched:.1%})"
                f"{not_counted}, more than CNIS_MAX_DROP_SHARE={max_drop_share:g}: {describe_drops(drops)}",
            )
        )
    return problems


def fetched_articles(row: Mapping[str, Any]) -> int:
    """The articles of a section this crawl fetched, or tried to: linked, and not skipped as
    known. (Never below 0, should a table be inconsistent.)"""
    return max(0, int(row["articles_linked"]) - int(row["skipped_known"]))


def finish_reason(
    table: Mapping[str, Mapping[str, Any]], max_drop_share: float, crawled: Iterable[str] = ()
) -> str | None:
    """The finish reason :func:`assess` gives the crawl, or None for a healthy one."""
    problems = assess(table, max_drop_share, crawled)
    return problems[0].reason if problems else None


def why_empty(row: Mapping[str, Any]) -> str:
    pages = f"listing pages read {row['listing_pages_fetched']}, failed {row['listing_pages_failed']}"
    if (why := row.get(SECTION_WHY, "")).startswith(TROUBLED):
        pages = f"{why}; {pages}"
    if row["articles_linked"]:
        return f"{pages}; all {row['articles_linked']} linked dropped: {describe_drops(row[DROPPED])}"
    if row["listing_pages_failed"]:
        return f"{pages}; its listing failed, no article linked"
    if row["listing_pages_fetched"]:
        return f"{pages}; no article linked: a new template?"
    return "its listing was requested and never answered"


def describe_drops(drops: Mapping[str, int]) -> str:
    return ", ".join(f"{reason}={count}" for reason, count in sorted(drops.items())) or "none"


class CrawlHealth:
    """Closes a crawl whose section table shows a problem (see the module) with its reason."""

    def __init__(
        self, crawler: Crawler, max_drop_share: float, unreachable_after: float = DEFAULT_UNREACHABLE_AFTER
    ) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_drop_share = max_drop_share
        self.unreachable_after = unreachable_after
        self.problems: list[Problem] = []
        self.failing_since: float | None = None
        """When requests began to fail with no response since; None while the site answers."""
        self.failures_seen = 0
        self.watch: AsyncioLoopingCall | LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        # 0: no limit.
        max_drop_share = number(crawler.settings, "CNIS_MAX_DROP_SHARE", DEFAULT_MAX_DROP_SHARE, 0.0, 1.0)
        after = number(
            crawler.settings, "CNIS_UNREACHABLE_AFTER", DEFAULT_UNREACHABLE_AFTER, 0.0, above_minimum=True
        )
        health = cls(crawler, max_drop_share, after)
        crawler.signals.connect(health.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(health.response_received, signal=signals.response_received)
        crawler.signals.connect(health.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(health.spider_closed, signal=signals.spider_closed)
        return health

    def spider_opened(self) -> None:
        self.watch = create_looping_call(self.watch_reach)
        self.watch.start(WATCH_INTERVAL, now=False)

    def response_received(self) -> None:
        self.failing_since = None

    def failures(self) -> int:
        return int(self.stats.get_value("downloader/exception_count", 0))

    def watch_reach(self) -> None:
        """Every second: requests failing with no response since ``CNIS_UNREACHABLE_AFTER``
        seconds close the crawl as :data:`SITE_UNREACHABLE`."""
        failures, now = self.failures(), time.monotonic()
        if failures > self.failures_seen and self.failing_since is None:
            self.failing_since = now
        self.failures_seen = failures
        if self.failing_since is not None and now - self.failing_since >= self.unreachable_after:
            self.problems = [self.unreachable()]
            if self.watch is not None and self.watch.running:
                self.watch.stop()
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=SITE_UNREACHABLE))

    def unreachable(self) -> Problem:
        counted, failed = failures_by_kind(self.stats.get_stats()), self.failures()
        seconds = time.monotonic() - self.failing_since if self.failing_since is not None else 0.0
        return Problem(
            SITE_UNREACHABLE,
            f"{SITE_UNREACHABLE}: no answer from the site for {seconds:.0f} s"
            f" ({failed} request{'s' * (failed != 1)} failed: {counted}); not a site change: check the"
            " network, the DNS or the mirror address. The next run takes up what this one left",
        )

    def spider_idle(self, spider: Spider) -> None:
        # Every idle handler runs, and when one of them keeps the spider open (DontCloseSpider,
        # as the spider does to crawl the archive host after the others) Scrapy ignores this
        # CloseSpider and sends spider_idle again later. Only the last judgement counts, so
        # nothing is logged here: a section of the archive host is still missing at the first.
        if unreachable(self.stats.get_stats()):
            self.problems = [self.unreachable()]  # every request failed: not the site's doing
        else:
            self.problems = assess(section_table(self.stats), self.max_drop_share, crawled_sections(spider))
        if self.problems:
            raise CloseSpider(self.problems[0].reason)

    def spider_closed(self, reason: str) -> None:
        if self.watch is not None and self.watch.running:
            self.watch.stop()
        if reason == SITE_UNREACHABLE:
            logger.error("Crawl stopped, %s", self.problems[0].message)
        elif reason in REASONS:
            for problem in self.problems:
                logger.error("Crawl unhealthy, %s", problem.message)


def failures_by_kind(stats: Mapping[str, Any]) -> str:
    """The downloader's failures by exception, from a crawl's stats: ``ConnectionRefusedError 4``."""
    kinds = {
        key.rsplit("/", 1)[-1].rsplit(".", 1)[-1]: value
        for key, value in stats.items()
        if key.startswith("downloader/exception_type_count/")
    }
    return ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items())) or "none"


def unreachable(stats: Mapping[str, Any]) -> bool:
    """Whether every request of a crawl failed to get an answer (no response at all)."""
    return not stats.get("response_received_count") and bool(stats.get("downloader/exception_count"))


def crawled_sections(spider: Spider) -> list[str]:
    """The sections whose listing the spider requests (the cnis spider requests page 0 of each
    of its ``sections`` in every run); none for another spider."""
    return [section.key for section in getattr(spider, "sections", ())]
