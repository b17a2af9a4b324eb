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
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError
from twisted.internet.defer import Deferred

from cnis_crawler.crawling.extensions import output_not_stored
from cnis_crawler.crawling.health import REASONS, SITE_UNREACHABLE, CrawlHealth
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
# What a shell reports for a program stopped by Ctrl-C (128 + SIGINT).
FORCED_STOP_EXIT_STATUS = 130
# What a crawl that cannot start raises for a reason a user can mend: told in one line.
START_ERRORS = (ValueError, StateInUseError, sqlite3.DatabaseError, OSError)


class Command(ScrapyCrawlCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # Scrapy opens the log file before any command runs, and a folder that is missing or
        # read-only ends there in a traceback: a scheduled crawl's first line to go wrong.
        if (log_file := self.settings.get("LOG_FILE")) and (problem := cannot_write(Path(log_file))):
            print(f"crawl: error: LOG_FILE {log_file} cannot be written: {problem}", file=sys.stderr)
            raise SystemExit(2)

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
            return
        reason = crawler.stats.get_value("finish_reason")
        if reason is None:  # Scrapy stopped before closing the spider: a second Ctrl-C
            self.exitcode = FORCED_STOP_EXIT_STATUS
            self.tell(
                "The crawl stopped without closing (a forced shutdown: a second Ctrl-C), as if killed:"
                " no summary; the next run takes up what it left"
            )
        elif not_stored := output_not_stored(crawler.stats.get_stats()):
            self.exitcode = OUTPUT_NOT_STORED_EXIT_STATUS
            self.tell(
                f"Crawl output not stored ({not_stored}): check the disk and the folder named in the"
                " error above; what the crawl state counts as known is in the run files that were stored"
            )
        elif reason in REASONS or reason == SITE_UNREACHABLE:
            self.exitcode = UNHEALTHY_EXIT_STATUS if reason in REASONS else UNREACHABLE_EXIT_STATUS
            # Logged by the health check as the crawl closed; told here where the log is not seen.
            health = crawler.get_extension(CrawlHealth)
            for problem in health.problems if health is not None else ():
                self.tell(problem.message, logged=True)

    def tell(self, message: str, logged: bool = False) -> None:
        """An ERROR line in the log (a file, Scrapyd's), and on the terminal when the log goes
        elsewhere: what cron mails, what a user at the terminal sees."""
        if not logged:
            logger.error("%s", message)
        assert self.settings is not None
        if self.settings.get("LOG_FILE") or not self.settings.getbool("LOG_ENABLED"):
            print(f"crawl: error: {message}", file=sys.stderr)

    def crawl_done(self, task: asyncio.Future[None]) -> None:
        if task.cancelled() or (error := task.exception()) is None:
            return
        if not self.could_not_start(error):
            task.result()  # Scrapy's to report, as if not looked at here

    def could_not_start(self, error: BaseException | None) -> bool:
        """One line for what a user can mend (True); anything else is Scrapy's to report."""
        if not isinstance(error, START_ERRORS):
            return False
        logger.error("The crawl cannot start: %s", error)
        self.tell(str(error), logged=True)
        self.exitcode = 1 if isinstance(error, StateInUseError) else 2
        return True


def cannot_write(path: Path) -> str | None:
    """Why a file cannot be written at ``path`` (its folder made if missing), or None."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as error:
        return error.strerror or str(error)
    return None
