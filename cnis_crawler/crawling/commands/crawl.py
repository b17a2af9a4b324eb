"""``scrapy crawl`` with an exit status that tells an unhealthy crawl from a healthy one.

Scrapy's own command exits 0 whatever the finish reason. This one exits with
:data:`UNHEALTHY_EXIT_STATUS` when a crawl closed with a reason of :mod:`cnis_crawler.crawling.health`
(``section_empty``, ``too_many_drops``), so that cron, a systemd unit or a script learns that the
site changed. Scrapyd's runner goes through the project's commands too. A ``JOBDIR`` is refused
here with one line, before anything starts (:data:`~cnis_crawler.crawling.memory.JOBDIR_REFUSED`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from cnis_crawler.crawling.health import REASONS
from cnis_crawler.crawling.memory import JOBDIR_REFUSED

if TYPE_CHECKING:
    import argparse

# Scrapy exits 1 when a crawl cannot start (and so does a crawl whose state is in use) and 2 on a
# usage error: a status of its own says the crawl ran to its end and found the site changed.
UNHEALTHY_EXIT_STATUS = 3


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
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif crawler.stats.get_value("finish_reason") in REASONS:
            self.exitcode = UNHEALTHY_EXIT_STATUS
