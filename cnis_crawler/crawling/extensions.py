"""Per-section accounting: what the pager declared, what was fetched, linked, written, dropped.

Logged when the crawl closes, and written as JSON to ``CNIS_SUMMARY_PATH`` (with the feed
placeholders ``%(name)s`` and ``%(time)s``) so scheduled runs leave a record of their health;
logged per section while the crawl runs, every ``CNIS_PROGRESS_INTERVAL`` seconds.
"""

from __future__ import annotations

import gc
import json
import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import create_looping_call

from cnis_crawler.crawling.config import number
from cnis_crawler.crawling.drops import NotNew, failure_name
from cnis_crawler.crawling.items import WORK_META
from cnis_crawler.memory.files import write_atomically
from cnis_crawler.memory.state import CRAWLED, KNOWN, TROUBLED
from cnis_crawler.urls import section_of

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

SECTION_STATS_PREFIX = "cnis/"
SUMMARY_FAILED = "summary/not_written"
OUTPUT_NOT_STORED = "output_not_stored"
"""The finish reason of a crawl whose feed files or summary could not be stored (``scrapy
crawl`` exits 5): the crawl ran, what it found is not all where it should be."""
DISAGREEMENTS = "disagreements"
"""Fields whose page value the listing contradicts (by field: ``extraction/disagreement/<field>``)."""
COUNTERS = (
    "listing_pages_declared",
    "listing_pages_fetched",
    "listing_pages_failed",
    "articles_linked",
    "skipped_known",
    "records",
    "unchanged",
    "aliases",
    DISAGREEMENTS,
)
DROPPED = "dropped"
# What the crawl made of a section (cnis_crawler.crawling.discovery): its kind, why, and how many
# articles under it its first listing page links (absent: not read).
SECTION_KIND = "section"
SECTION_WHY = "why"
FIRST_PAGE_ARTICLES = "first_page_articles"
# What a linked article may end as, other than a drop: the counters that settle it.
SETTLED = ("records", "skipped_known", "unchanged", "aliases")


def section_stat(section_key: str, counter: str) -> str:
    """The stats key of a per-section counter: ``cnis/<host>/<section path>/<counter>``."""
    return f"{SECTION_STATS_PREFIX}{section_key}/{counter}"


def section_table(stats: StatsCollector) -> dict[str, dict[str, Any]]:
    """The per-section counters found in ``stats``, by section, with what is still unaccounted."""
    table: dict[str, dict[str, Any]] = {}
    for key, value in stats.get_stats().items():
        if not key.startswith(SECTION_STATS_PREFIX):
            continue
        section, _, counter = key.removeprefix(SECTION_STATS_PREFIX).rpartition("/")
        dropped = section.endswith(f"/{DROPPED}")
        section = section.removesuffix(f"/{DROPPED}")
        row = table.setdefault(section, empty_row())
        if dropped:
            row[DROPPED][counter] = value
        else:
            row[counter] = value
    for row in table.values():
        settled = sum(row[counter] for counter in SETTLED)
        row["unaccounted"] = row["articles_linked"] - settled - sum(row[DROPPED].values())
    return dict(sorted(table.items()))


def empty_row() -> dict[str, Any]:
    """A section's row of :func:`section_table` before anything was counted."""
    return dict.fromkeys(COUNTERS, 0) | {
        DROPPED: {},
        SECTION_KIND: "",
        SECTION_WHY: "",
        FIRST_PAGE_ARTICLES: None,
    }


# The closing table's columns after the listing pages: heading and counter of a section's row.
CLOSING_COLUMNS = (
    ("failed", "listing_pages_failed"),
    ("linked", "articles_linked"),
    ("known", "skipped_known"),
    ("records", "records"),
    ("same", "unchanged"),
    ("alias", "aliases"),
    ("lost", "unaccounted"),
    ("disagreements", DISAGREEMENTS),
)


def closing_table(table: dict[str, dict[str, Any]]) -> str:
    """The per-section table logged when the crawl closes, one line per section of ``table``."""
    widths = [max(7, len(heading)) for heading, _ in CLOSING_COLUMNS]
    headings = " ".join(
        f"{heading:>{width}}" for (heading, _), width in zip(CLOSING_COLUMNS, widths, strict=True)
    )
    name = max([30, *map(len, table)])  # a found section's path may be long
    lines = [f"{'section':{name}} {'kind':8} {'page1':>6} {'pages':>7} {headings}  dropped"]
    for section, row in table.items():
        pages = f"{row['listing_pages_fetched']}/{row['listing_pages_declared']}"
        counts = " ".join(
            f"{row[key]:>{width}}" for (_, key), width in zip(CLOSING_COLUMNS, widths, strict=True)
        )
        dropped = ", ".join(f"{name}={count}" for name, count in sorted(row[DROPPED].items()))
        first = "-" if row[FIRST_PAGE_ARTICLES] is None else row[FIRST_PAGE_ARTICLES]
        kind = row[SECTION_KIND] or "-"
        lines.append(f"{section:{name}} {kind:8} {first:>6} {pages:>7} {counts}  {dropped or '-'}")
        if row[SECTION_KIND] not in ("", KNOWN, CRAWLED) or row[SECTION_WHY].startswith(TROUBLED):
            lines.append(f"{'':{name}} ({row[SECTION_WHY]})")
    return "\n".join(lines)


class SectionProgress:
    """Every ``CNIS_PROGRESS_INTERVAL`` seconds (0: never), a line for each section whose counts
    moved: a first crawl of the live site takes hours, and Scrapy's own ``LogStats`` line does
    not say which section is being read, nor how far."""

    def __init__(self, stats: StatsCollector, interval: float) -> None:
        self.stats = stats
        self.interval = interval
        self.task: AsyncioLoopingCall | LoopingCall | None = None
        self.last: dict[str, dict[str, Any]] = {}
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = number(crawler.settings, "CNIS_PROGRESS_INTERVAL", 60.0, 0.0)
        if not interval:
            raise NotConfigured
        progress = cls(crawler.stats, interval)
        crawler.signals.connect(progress.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(progress.spider_closed, signal=signals.spider_closed)
        return progress

    def spider_opened(self) -> None:
        self.started = time.monotonic()
        self.task = create_looping_call(self.log)
        self.task.start(self.interval, now=False)

    def log(self) -> None:
        table = section_table(self.stats)
        moved = {section: row for section, row in table.items() if self.last.get(section) != row}
        self.last = table
        if not moved:
            return
        lines = [
            f"{section}: listing pages {row['listing_pages_fetched']}/{row['listing_pages_declared']},"
            f" linked {row['articles_linked']}, written {row['records']}, known {row['skipped_known']},"
            f" same {row['unchanged']}, alias {row['aliases']}, dropped {sum(row[DROPPED].values())},"
            f" pending {row['unaccounted']}"
            for section, row in moved.items()
        ]
        elapsed = time.monotonic() - self.started
        logger.info("Progress after %.0f s, sections that moved:\n%s", elapsed, "\n".join(lines))

    def spider_closed(self) -> None:
        if self.task and self.task.running:
            self.task.stop()


class SectionReport:
    def __init__(self, stats: StatsCollector, summary_path: str | None) -> None:
        self.stats = stats
        self.summary_path = summary_path
        self.closed: tuple[Spider, str] | None = None
        self.written: Path | None = None
        """Where this run's summary was written."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        report = cls(crawler.stats, crawler.settings.get("CNIS_SUMMARY_PATH"))
        crawler.signals.connect(report.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(report.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(report.item_error, signal=signals.item_error)
        crawler.signals.connect(report.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(report.engine_stopped, signal=signals.engine_stopped)
        return report

    def _count(self, item: Any, counter: str, response: object = None) -> None:
        """Count in the section whose listing linked the page: a redirect may have led the
        item to another section's URL, and the link was counted where it was listed."""
        work = getattr(response, "meta", {}).get(WORK_META) if isinstance(response, Response) else None
        section = section_of(work[1] if work else getattr(item, "url", ""))
        self.stats.inc_value(section_stat(section.key if section else "unknown", counter))

    def item_scraped(self, item: Any, response: object) -> None:
        self._count(item, "records", response)

    def item_dropped(self, item: Any, response: object, exception: BaseException) -> None:
        if isinstance(exception, NotNew):
            self._count(item, exception.counter, response)
        else:
            self._count(item, f"{DROPPED}/{type(exception).__name__}", response)

    def item_error(self, item: Any, response: object, failure: Failure) -> None:
        # A pipeline bug, not a drop: still counted, so the section's numbers add up.
        self._count(item, f"{DROPPED}/error:{failure_name(failure)}", response)

    def sections(self) -> dict[str, dict[str, Any]]:
        return section_table(self.stats)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        logger.info(
            "Per-section accounting (kind: known from site.py, crawled (found on the sites, news),"
            " skipped (found, not news: why below), gone (found before, now linked by no page and"
            " listing nothing);"
            " page1: articles under the section its first listing page links;"
            " pages: listing pages read/declared; known: linked articles not"
            " fetched as the crawl state knows them; same: fetched and unchanged; alias: a copy of a"
            " known article; lost: linked articles none of these, non-zero only when the crawl was"
            " cut short; disagreements: fields a page states otherwise than its listing, the page's"
            " value written, by field in extraction/disagreement/<field>):\n%s",
            closing_table(self.sections()),
        )
        self.closed = (spider, reason)

    def engine_stopped(self) -> None:
        # Written last, when the feeds are stored and the crawl state has counted what it kept.
        if self.closed is None:
            return
        spider, closed_as = self.closed
        if (reason := final_reason(self.stats.get_stats(), closed_as)) != closed_as:
            self.stats.set_value("finish_reason", reason)
        if self.summary_path:
            self.write_summary(spider, reason, self.sections())

    def write_summary(self, spider: Spider, reason: str, table: dict[str, Any]) -> None:
        start = self.stats.get_value("start_time") or datetime.now(UTC)
        params = {
            "name": spider.name,
            "time": start.replace(microsecond=0).isoformat().replace(":", "-"),
            "run_id": getattr(spider, "run_id", ""),
        }
        path = Path(self.summary_path % params)  # type: ignore[operator]
        summary = {
            "spider": spider.name,
            "finish_reason": reason,
            "start_time": start.isoformat(),
            "sections": table,
            "stats": {key: value for key, value in self.stats.get_stats().items() if isinstance(value, int)},
        }
        try:
            write_atomically(path, json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
        except OSError as error:  # the crawl command makes it a non-zero exit status
            self.stats.set_value(SUMMARY_FAILED, 1)
            self.stats.set_value("finish_reason", OUTPUT_NOT_STORED)
            summary["finish_reason"] = OUTPUT_NOT_STORED
            # Somewhere, for CNIS_NOTIFY_COMMAND to send: the run it most needs to tell of.
            aside = Path(tempfile.gettempdir()) / path.name
            try:
                write_atomically(aside, json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
            except OSError:
                logger.error("Run summary not written to %s: %s", path, error.strerror or error)
                return
            logger.error(
                "Run summary not written to %s: %s; written to %s", path, error.strerror or error, aside
            )
            self.written = aside
            return
        self.written = path
        logger.info("Run summary written to %s", path)


class FreezeStartupObjects:
    """Moves every object alive when the spider opens (Scrapy, Twisted, lxml, the modules: some
    80,000) into the garbage collector's permanent generation. They live as long as the crawl,
    and each full collection walked them all again: a 10,000-article crawl on loopback took
    33.8-34.5 s without the freeze, 30.7-31.6 s with it."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        extension = cls()
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self) -> None:
        gc.collect()  # the start-up's garbage goes first: frozen, it would never be freed
        gc.freeze()

    def spider_closed(self) -> None:
        # What was frozen and has become garbage since is freed again, should the process go on
        # (another crawl in it, a test run).
        gc.unfreeze()


def final_reason(stats: dict[str, Any], closed_as: str) -> str:
    """The finish reason of a crawl that closed as ``closed_as``, once its output is stored (or not)."""
    return OUTPUT_NOT_STORED if output_not_stored(stats) else closed_as


def output_not_stored(stats: dict[str, Any]) -> str:
    """What of the crawl's output failed to be stored, from its stats; empty when nothing did."""
    feeds = sum(value for key, value in stats.items() if key.startswith("feedexport/failed_count/"))
    summary = stats.get(SUMMARY_FAILED, 0)
    return ", ".join(
        part
        for part in (f"{feeds} feed file(s)" if feeds else "", "the run summary" if summary else "")
        if part
    )
