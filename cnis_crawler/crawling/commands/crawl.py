"""``scrapy crawl`` that tells a user what went wrong in one line, and an unhealthy crawl by its
exit status.

- A crawl that cannot start (a bad spider argument or setting, a crawl state in use or not
  readable) ends with one line, ``crawl: error: <what and what is accepted>``, and status 2 (1
  for a state in use: another crawl runs); no traceback. A ``JOBDIR`` is refused so, before
  anything starts (:data:`~cnis_crawler.crawling.memory.JOBDIR_REFUSED`).
- Scrapy's own command exits 0 whatever the finish reason. This one exits with
  :data:`UNHEALTHY_EXIT_STATUS` when a crawl closed with a reason of
  :mod:`cnis_crawler.crawling.health` (``section_empty``, ``too_many_drops``), so that cron, a
  systemd unit or a script learns that the site changed. Scrapyd's runner goes through the
  project's commands too.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import sys
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred

from cnis_crawler.crawling.health import REASONS, SITE_UNREACHABLE, output_not_stored
from cnis_crawler.crawling.memory import JOBDIR_REFUSED
from cnis_crawler.memory.state import StateInUseError

if TYPE_CHECKING:
    import argparse

logger = logging.getLogger(__name__)

# Scrapy exits 1 when a crawl cannot start and 2 on a usage error: a status of its own says the
# crawl ran to its end and found the site changed.
UNHEALTHY_EXIT_STATUS = 3
UNREACHABLE_EXIT_STATUS = 4
OUTPUT_NOT_STORED_EXIT_STATUS = 5
# What a crawl that cannot start raises for a reason a user can mend: told in one line.
START_ERRORS = (ValueError, StateInUseError, sqlite3.DatabaseError, OSError)


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:  # Scrapy's own usage errors
            super().run(args, opts)
            return
        assert self.settings is not None
        assert self.crawler_process is not None
        if self.settings.get("JOBDIR"):
            raise UsageError(JOBDIR_REFUSED)
        # Scrapy's run, keeping the crawler: the process forgets it once it finishes, and its
        # finish reason is read after.
        crawler = self.crawler_process.create_crawler(args[0])
        started = self.crawler_process.crawl(crawler, **opts.spargs)
        # A Deferred from Scrapy's CrawlerProcess, an asyncio task from its AsyncCrawlerProcess.
        if isinstance(started, Deferred):
            started.addErrback(lambda failure: self.could_not_start(failure.value) or failure)
        elif isinstance(started, asyncio.Future):
            started.add_done_callback(self.crawl_done)
        self.crawler_process.start()
        if self.exitcode:
            return
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif not_stored := output_not_stored(crawler.stats.get_stats()):
            logger.error(
                "Crawl output not stored (%s): check the disk and the folder named in the error above;"
                " what the crawl state counts as known is in the run files that were stored",
                not_stored,
            )
            self.exitcode = OUTPUT_NOT_STORED_EXIT_STATUS
        elif (reason := crawler.stats.get_value("finish_reason")) in REASONS:
            self.exitcode = UNHEALTHY_EXIT_STATUS
        elif reason == SITE_UNREACHABLE:
            self.exitcode = UNREACHABLE_EXIT_STATUS

    def crawl_done(self, task: asyncio.Future[None]) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return
        if not self.could_not_start(error):
            task.result()  # Scrapy's to report, as if not looked at here

    def could_not_start(self, error: BaseException | None) -> bool:
        """One line for what a user can mend (True); anything else is Scrapy's to report."""
        if not isinstance(error, START_ERRORS):
            return False
        # In the log (a file, Scrapyd's), and on the terminal when the log goes elsewhere.
        logger.error("The crawl cannot start: %s", error)
        assert self.settings is not None
        if self.settings.get("LOG_FILE") or not self.settings.getbool("LOG_ENABLED"):
            print(f"crawl: error: {error}", file=sys.stderr)
        self.exitcode = 1 if isinstance(error, StateInUseError) else 2
        return True
