"""Per-section accounting: what the pager declared, what was fetched, linked, written, dropped.

Logged when the crawl closes, and written as JSON to ``CNIS_SUMMARY_PATH`` (with the feed
placeholders ``%(name)s`` and ``%(time)s``) so scheduled runs leave a record of their health.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from cnis_crawler.urls import section_of

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

COUNTERS = ("listing_pages_declared", "listing_pages_fetched", "articles_linked", "records")


class SectionReport:
    def __init__(self, stats: StatsCollector, summary_path: str | None) -> None:
        self.stats = stats
        self.summary_path = summary_path

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        report = cls(crawler.stats, crawler.settings.get("CNIS_SUMMARY_PATH"))
        crawler.signals.connect(report.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(report.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(report.spider_closed, signal=signals.spider_closed)
        return report

    def _count(self, item: Any, name: str) -> None:
        section = section_of(getattr(item, "url", ""))
        key = section.key if section else "unknown"
        self.stats.inc_value(f"cnis/{key}/{name}")

    def item_scraped(self, item: Any) -> None:
        self._count(item, "records")

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        self._count(item, f"dropped/{type(exception).__name__}")

    def sections(self) -> dict[str, dict[str, Any]]:
        table: dict[str, dict[str, Any]] = {}
        for key, value in self.stats.get_stats().items():
            if not key.startswith("cnis/"):
                continue
            section, _, counter = key[len("cnis/") :].rpartition("/")
            if section.endswith("/dropped"):
                section = section.removesuffix("/dropped")
                row = table.setdefault(section, dict.fromkeys(COUNTERS, 0) | {"dropped": {}})
                row["dropped"][counter] = value
            else:
                row = table.setdefault(section, dict.fromkeys(COUNTERS, 0) | {"dropped": {}})
                row[counter] = value
        return dict(sorted(table.items()))

    def spider_closed(self, spider: Spider, reason: str) -> None:
        table = self.sections()
        lines = [f"{'section':34} {'pages':>9} {'linked':>6} {'records':>7}  dropped"]
        for section, row in table.items():
            pages = f"{row['listing_pages_fetched']}/{row['listing_pages_declared']}"
            dropped = ", ".join(f"{name}={count}" for name, count in sorted(row["dropped"].items()))
            lines.append(
                f"{section:34} {pages:>9} {row['articles_linked']:>6} {row['records']:>7}  {dropped or '-'}"
            )
        logger.info("Per-section accounting (listing pages fetched/declared):\n%s", "\n".join(lines))
        if self.summary_path:
            self.write_summary(spider, reason, table)

    def write_summary(self, spider: Spider, reason: str, table: dict[str, Any]) -> None:
        start = self.stats.get_value("start_time") or datetime.now(UTC)
        params = {"name": spider.name, "time": start.replace(microsecond=0).isoformat().replace(":", "-")}
        path = Path(self.summary_path % params)  # type: ignore[operator]
        summary = {
            "spider": spider.name,
            "finish_reason": reason,
            "start_time": start.isoformat(),
            "sections": table,
            "stats": {key: value for key, value in self.stats.get_stats().items() if isinstance(value, int)},
        }
        write_atomically(path, json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True))
        logger.info("Run summary written to %s", path)


def write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside ``path`` and rename it into place: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False) as tmp:
        tmp.write(text)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)
