"""``scrapy crawl`` with an exit status that tells an unhealthy crawl from a healthy one.

Scrapy's own command exits 0 whatever the finish reason. This one exits with
:data:`UNHEALTHY_EXIT_STATUS` when a crawl closed with a reason of :mod:`cnis_crawler.health`
(``section_empty``, ``too_many_drops``), so that cron, a systemd unit or a script learns that the
site changed. Scrapyd's runner goes through the project's commands too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from cnis_crawler.health import REASONS

if TYPE_CHECKING:
    import argparse

    from scrapy import Spider
    from scrapy.crawler import Crawler

# Scrapy exits 1 when a crawl cannot start (and so does a crawl whose state is in use) and 2 on a
# usage error: a status of its own says the crawl ran to its end and found the site changed.
UNHEALTHY_EXIT_STATUS = 3


class Command(ScrapyCrawlCommand):
    def __init__(self) -> None:
        super().__init__()
        self.crawlers: list[Crawler] = []

    def _create_crawler(self, spidercls: type[Spider] | str) -> Crawler:
        # The crawler process forgets its crawlers once they finish: keep them to read their
        # finish reason. Hooked here rather than in a copy of Scrapy's run().
        crawler = super()._create_crawler(spidercls)
        self.crawlers.append(crawler)
        return crawler

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        super().run(args, opts)
        # The stats collector keeps its values after the crawl closes (MemoryStatsCollector
        # only copies them into spider_stats).
        if self.exitcode == 0 and any(
            crawler.stats.get_value("finish_reason") in REASONS for crawler in self.crawlers
        ):
            self.exitcode = UNHEALTHY_EXIT_STATUS
