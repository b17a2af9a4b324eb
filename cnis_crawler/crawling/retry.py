"""Retries that wait: exponential backoff with jitter, and the server's ``Retry-After``.

Scrapy's :class:`~scrapy.downloadermiddlewares.retry.RetryMiddleware` sends a retry as soon as
the scheduler hands it back, so a site that is briefly overloaded gets the same page again
within milliseconds, ``RETRY_TIMES`` times, and the page fails for the run. :class:`BackoffRetryMiddleware`
takes its place (same settings, same stats, same give-up) and only decides *when* a retry may
go: the ``n``-th retry of a page waits ``CNIS_RETRY_BACKOFF_BASE * 2 ** (n - 1)`` seconds,
varied by ±``CNIS_RETRY_BACKOFF_JITTER`` so that pages failing together do not come back
together, or what a 429 or 503 asks for in ``Retry-After`` when that is longer; never more than
``CNIS_RETRY_BACKOFF_MAX``.

How the wait is done: the retry request leaves this middleware at once, as Scrapy's does, with
the time it may go in its meta (:data:`NOT_BEFORE_META`, wall-clock seconds). When the
scheduler hands it to the downloader again, :meth:`BackoffRetryMiddleware.process_request`
sleeps out whatever remains (:func:`scrapy.utils.asyncio.sleep`: asyncio's or Twisted's timer,
whichever reactor runs).
Nothing blocks: the reactor keeps running every other request meanwhile. A request sleeping in
``process_request`` has not reached its download slot yet (the downloader adds it to the slot
only after every ``process_request``), so it holds none of the site's
``CONCURRENT_REQUESTS_PER_DOMAIN`` and does not move the slot's download delay; it counts,
like any request in the downloader, towards the global ``CONCURRENT_REQUESTS`` (Scrapy's 16),
and it keeps the spider open until it has been sent.

So that it does not keep a stopping crawl open too (Ctrl-C, a Scrapyd cancel, ``CLOSESPIDER_*``:
Scrapy waits for every request in the downloader before it closes the spider), the wait is slept
in steps of :data:`STOP_CHECK_INTERVAL` and given up once the crawl is stopping
(:func:`crawl_stopping`): the request fails with :class:`~scrapy.exceptions.IgnoreRequest`, whose
errback in the spider makes it a ``FetchFailed`` drop, which the crawl state keeps to be fetched
again by the next run.

Stats, beside Scrapy's ``retry/count``, ``retry/reason_count/…`` and ``retry/max_reached``:
``retry/backoff_ms`` (the waits decided, in milliseconds: the run summary keeps whole numbers
only), ``retry/backoff_waited_ms`` (what requests actually slept here: less when the scheduler
held them longer), ``retry/retry_after`` (retries of a 429 or 503 that sent a ``Retry-After``)
``retry/retry_after_capped`` (a ``Retry-After`` beyond the maximum) and ``retry/given_up_stopping``
(retries not sent because the crawl stopped during their wait).
"""

from __future__ import annotations

import logging
import random
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.utils.asyncio import sleep

from cnis_crawler.crawling.config import SettingError, number

if TYPE_CHECKING:
    from collections.abc import Callable

    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

NOT_BEFORE_META = "cnis_retry_not_before"
"""Request meta: the Unix time before which a retry must not be sent."""
# RFC 9110 §10.2.3 (503) and RFC 6585 §4 (429) define Retry-After for these statuses.
RETRY_AFTER_STATUSES = frozenset({429, 503})
DEFAULT_BASE = 2.0
DEFAULT_MAX = 60.0
DEFAULT_JITTER = 0.25
# 2 ** 64 times any sensible base is far beyond any cap; a bigger exponent would only risk an
# OverflowError for a request with an absurd meta["max_retry_times"].
MAX_EXPONENT = 64
# How often a waiting retry looks whether the crawl is stopping: the longest a stop waits for it.
# Scrapy sends no signal when a spider starts closing (spider_closed comes once the downloader is
# empty, after this wait), so it is looked at rather than waited for; a few wake-ups a second
# for each of at most CONCURRENT_REQUESTS waiting requests cost nothing.
STOP_CHECK_INTERVAL = 0.25
UNKNOWN = object()


def backoff_delay(
    retry_number: int,
    base: float,
    cap: float,
    jitter: float,
    retry_after: float | None = None,
    draw: Callable[[float, float], float] = random.uniform,
) -> float:
    """Seconds to wait before the ``retry_number``-th retry of a page (1 for the first).

    ``base * 2 ** (retry_number - 1)``, at most ``cap``, times a factor drawn from
    ``[1 - jitter, 1 + jitter]``; at least ``retry_after`` when the server sent one (the server
    said when, so that wait is not varied); never more than ``cap``.
    """
    exponential = min(cap, base * 2.0 ** min(max(retry_number - 1, 0), MAX_EXPONENT))
    delay = exponential * draw(1 - jitter, 1 + jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(0.0, min(cap, delay))


def parse_retry_after(value: bytes | str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait from ``now`` (Unix time): a number of
    seconds, or an HTTP date (0 if it has passed); None if absent or not understood."""
    if value is None:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # An HTTP date is always GMT; a date the parser finds no zone in is read as UTC too.
    seconds = when.timestamp() if when.tzinfo else when.replace(tzinfo=UTC).timestamp()
    return max(0.0, seconds - now)


def crawl_stopping(crawler: Crawler) -> bool:
    """Whether ``crawler``'s crawl is stopping: no request should start a wait, or go on with one.

    ``crawler.stop()`` (Ctrl-C, SIGTERM, which is how Scrapyd cancels a job) turns
    ``crawler.crawling`` off and then the engine's ``running``; the engine closing the spider for a
    reason of its own (``CLOSESPIDER_*``, a ``CloseSpider`` raised in a callback) only shows in
    :func:`spider_closing`. A crawler that never started (a middleware used on its own) is not
    stopping.
    """
    try:
        engine = crawler.engine
    except RuntimeError:  # Scrapy's own way of saying the crawl has not started
        return False
    return not crawler.crawling or not engine.running or spider_closing(engine)


def spider_closing(engine: ExecutionEngine) -> bool:
    """Whether the engine has begun closing its spider: from ``close_spider_async()`` on, it waits
    for every request in the downloader, a waiting retry too, before ``spider_closed``.

    Scrapy has no public way to tell (no signal when closing starts, no attribute; no Scrapy issue
    asks for one yet, the nearest being scrapy/scrapy#1523 on the engine and spider lifecycle
    signals), so this one function reads the engine's private slot, whose ``closing`` deferred is
    set from then on and which is gone once the spider closed. Read defensively: a Scrapy without
    it makes this False, and only ``crawler.stop()`` is seen. Pinned to the Scrapy in use by
    ``tests/test_retry.py::test_a_crawl_stopping_gives_up_a_long_wait_and_the_next_run_fetches_the_page``
    (a real crawl closed by ``CLOSESPIDER_TIMEOUT`` during a wait of 30 s).
    """
    slot = getattr(engine, "_slot", UNKNOWN)
    if slot is UNKNOWN:
        return False
    return slot is None or getattr(slot, "closing", None) is not None


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry middleware, whose retries wait (see the module's docstring).

    Settings: ``CNIS_RETRY_BACKOFF_BASE`` (seconds before the first retry, doubled for each
    further one; 0 retries at once, as Scrapy does), ``CNIS_RETRY_BACKOFF_MAX`` (the longest
    wait, also for a ``Retry-After``), ``CNIS_RETRY_BACKOFF_JITTER`` (the relative variation,
    from 0 up to, not including, 1).
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        # Refused rather than NotConfigured: that would silently turn retries off altogether.
        self.base = number(settings, "CNIS_RETRY_BACKOFF_BASE", DEFAULT_BASE, 0.0)
        self.cap = number(settings, "CNIS_RETRY_BACKOFF_MAX", DEFAULT_MAX, 0.0)
        self.jitter = number(settings, "CNIS_RETRY_BACKOFF_JITTER", DEFAULT_JITTER, 0.0)
        if self.jitter >= 1:
            message = "CNIS_RETRY_BACKOFF_JITTER must be a number from 0 up to (not including) 1"
            raise SettingError(f"{message}; got {self.jitter!r}")
        # Summed in seconds here, shown in whole milliseconds: no rounding error piles up.
        self.seconds: dict[str, float] = {}

    async def process_request(self, request: Request) -> None:
        not_before = request.meta.pop(NOT_BEFORE_META, None)
        if not_before is None:
            return
        # Capped: the wall clock may have been set back since the time was decided.
        wait = min(float(not_before) - time.time(), self.cap)
        if wait <= 0:
            return
        waited = await self.sleep_unless_stopping(wait)
        self.add_seconds("retry/backoff_waited_ms", waited)
        if waited < wait:
            stats = self.crawler.stats
            assert stats is not None
            stats.inc_value("retry/given_up_stopping")
            logger.info(
                "The crawl is stopping: retry of %s not sent (%.1f s of its wait left)",
                request.url,
                wait - waited,
            )
            # The spider's errback turns it into a FetchFailed drop: counted, and fetched again
            # by the next run (the crawl state began it when it left the scheduler).
            raise IgnoreRequest(
                f"the crawl stopped during the wait before retry {request.meta.get('retry_times', 1)}"
            )

    async def sleep_unless_stopping(self, wait: float) -> float:
        """Sleeps ``wait`` seconds, or less if the crawl is stopping; returns the seconds slept."""
        started = time.monotonic()
        deadline = started + wait
        while not crawl_stopping(self.crawler):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return wait
            await sleep(min(remaining, STOP_CHECK_INTERVAL))
        return min(time.monotonic() - started, wait)

    # Scrapy calls middlewares without the spider since 2.14; its base class keeps the argument
    # (deprecated) for older callers, which mypy reads as a narrower override.
    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            retry_after = None
            if response.status in RETRY_AFTER_STATUSES:
                retry_after = parse_retry_after(response.headers.get("Retry-After"), time.time())
            self.back_off(result, retry_after)
        return result

    def process_exception(  # type: ignore[override]  # as process_response
        self, request: Request, exception: Exception
    ) -> Request | Response | None:
        result = super().process_exception(request, exception)
        if isinstance(result, Request):
            self.back_off(result, None)
        return result

    def back_off(self, retry: Request, retry_after: float | None) -> None:
        """Mark a retry Scrapy's middleware made with the time it may be sent."""
        stats = self.crawler.stats
        assert stats is not None  # a crawler's stats exist before its middlewares
        delay = backoff_delay(retry.meta.get("retry_times", 1), self.base, self.cap, self.jitter, retry_after)
        if retry_after is not None:
            stats.inc_value("retry/retry_after")
            if retry_after > self.cap:
                stats.inc_value("retry/retry_after_capped")
                logger.info(
                    "%s asks to wait %.0f s before a retry; waiting CNIS_RETRY_BACKOFF_MAX, %.0f s",
                    retry.url,
                    retry_after,
                    self.cap,
                )
        retry.meta[NOT_BEFORE_META] = time.time() + delay
        self.add_seconds("retry/backoff_ms", delay)
        logger.debug("Retry %d of %s in %.2f s", retry.meta.get("retry_times", 1), retry.url, delay)

    def add_seconds(self, key: str, seconds: float) -> None:
        stats = self.crawler.stats
        assert stats is not None
        self.seconds[key] = self.seconds.get(key, 0.0) + seconds
        stats.set_value(key, round(self.seconds[key] * 1000))
