"""Test-only extension: holds a real crawl still at a chosen moment, so a test can SIGKILL it there.

Enabled with ``-s CRASH_POINT=<moment>`` and listed in ``EXTENSIONS`` before the crawl state (a
lower order connects its signal handlers first); the moment ``seen`` needs ``HoldingDupeFilter``
as ``DUPEFILTER_CLASS``. On reaching the moment it writes the file ``CRASH_POINT_MARKER`` and
sleeps, blocking the reactor: nothing after that moment happens.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import NotConfigured

from cnis_crawler.crawling.items import WORK_META

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

LISTING_PAGES_BEFORE_HOLD = 2
RECORDS_BEFORE_HOLD = 25
DROPS_BEFORE_HOLD = 25


class CrashPoint:
    def __init__(self, moment: str, marker: Path) -> None:
        self.moment = moment
        self.marker = marker
        self.listing_pages = 0
        self.records = 0
        self.drops = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        moment = crawler.settings.get("CRASH_POINT")
        if not moment:
            raise NotConfigured
        point = cls(moment, Path(crawler.settings["CRASH_POINT_MARKER"]))
        if moment == "seen":  # held by HoldingDupeFilter
            return point
        handlers = {
            "listings": (point.response_received, signals.response_received),
            "listed": (point.request_scheduled, signals.request_scheduled),
            "articles": (point.item_scraped, signals.item_scraped),
            "dropped": (point.item_dropped, signals.item_dropped),
            "stored": (point.hold, signals.feed_slot_closed),
            "closing": (point.hold, signals.spider_closed),
        }
        handler, signal = handlers[moment]
        crawler.signals.connect(handler, signal=signal)
        return point

    def response_received(self, response: Response, request: Request) -> None:
        kind, _ = request.meta.get(WORK_META, (None, None))
        self.listing_pages += kind == "listing"
        if self.listing_pages == LISTING_PAGES_BEFORE_HOLD:
            self.hold()

    def request_scheduled(self, request: Request) -> None:
        # A listing page was read and its first article is about to enter the queue.
        kind, _ = request.meta.get(WORK_META, (None, None))
        if kind == "article":
            self.hold()

    def item_scraped(self, item: Any) -> None:
        self.records += 1
        if self.records == RECORDS_BEFORE_HOLD:
            self.hold()

    def item_dropped(self, item: Any) -> None:
        # A pass over known articles (-a full=1, -a revalidate=1) drops them as unchanged.
        self.drops += 1
        if self.drops == DROPS_BEFORE_HOLD:
            self.hold()

    def hold(self, *_: Any, **__: Any) -> None:
        self.marker.write_text(self.moment, encoding="utf-8")
        time.sleep(120)


class HoldingDupeFilter(RFPDupeFilter):
    """With ``CRASH_POINT=seen``: holds the crawl when a listing's second page has been recorded
    as seen and is not yet in the queue (a kill there must not lose that page)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        dupefilter = super().from_crawler(crawler)
        moment = crawler.settings.get("CRASH_POINT")
        dupefilter.point = (
            CrashPoint(moment, Path(crawler.settings["CRASH_POINT_MARKER"])) if moment else None
        )
        return dupefilter

    def request_seen(self, request: Request) -> bool:
        seen = super().request_seen(request)
        point: CrashPoint | None = getattr(self, "point", None)
        if not seen and point is not None and point.moment == "seen" and "/index_1." in request.url:
            point.hold()
        return seen
