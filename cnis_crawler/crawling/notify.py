"""Told without looking: a command run when a crawl ends unhealthy.

``CNIS_NOTIFY_COMMAND`` (empty: none) is run, with the run summary's path as its last argument,
when a crawl closes as unhealthy (``section_empty``, ``too_many_drops``), could not reach the
site (``site_unreachable``) or could not store its output: the ends for which ``scrapy crawl``
exits 3, 4 or 5. A mail, a chat message, a ticket: whatever the command does. It gets
``CNIS_NOTIFY_TIMEOUT`` seconds (60); its failing is logged, never the crawl's.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured

from cnis_crawler.crawling.config import number
from cnis_crawler.crawling.extensions import SectionReport, output_not_stored
from cnis_crawler.crawling.health import REASONS, SITE_UNREACHABLE

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class NotifyUnhealthy:
    def __init__(self, crawler: Crawler, command: list[str], timeout: float) -> None:
        self.crawler = crawler
        self.command = command
        self.timeout = timeout

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        text = crawler.settings.get("CNIS_NOTIFY_COMMAND") or ""
        if not text.strip():
            raise NotConfigured
        try:
            command = shlex.split(text)
        except ValueError as error:
            raise ValueError(f"CNIS_NOTIFY_COMMAND must be a command line: {error}") from None
        timeout = number(crawler.settings, "CNIS_NOTIFY_TIMEOUT", 60.0, 0.0, above_minimum=True)
        notify = cls(crawler, command, timeout)
        # After the run summary (SectionReport writes it on engine_stopped too, earlier in order).
        crawler.signals.connect(notify.engine_stopped, signal=signals.engine_stopped)
        return notify

    def engine_stopped(self) -> None:
        stats = self.crawler.stats.get_stats()
        reason = stats.get("finish_reason")
        if reason not in REASONS and reason != SITE_UNREACHABLE and not output_not_stored(stats):
            return
        report = self.crawler.get_extension(SectionReport)
        summary = str(report.written) if report is not None and report.written is not None else ""
        try:
            done = subprocess.run(
                [*self.command, summary], timeout=self.timeout, capture_output=True, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            logger.error("CNIS_NOTIFY_COMMAND could not tell of this %s run: %s", reason, error)
            return
        if done.returncode:
            logger.error(
                "CNIS_NOTIFY_COMMAND exited %d telling of this %s run: %s",
                *(done.returncode, reason, done.stderr.decode("utf-8", "replace").strip()[-500:]),
            )
        else:
            logger.info("CNIS_NOTIFY_COMMAND told of this %s run (summary %s)", reason, summary)
