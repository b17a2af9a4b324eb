"""A plain link-following Scrapy spider: the baseline of ``benchmarks/throughput.py``.

    scrapy runspider benchmarks/plain_spider.py -a mirror=http://127.0.0.1:PORT

What ``scrapy bench`` is to Scrapy, this is to the ``cnis`` spider: it walks a mirror the way the
real crawl discovers it, and does nothing else. Every section's listing is read one page after
the other, newest first (the next page from the pager script), each page's article links are
followed, every article page's links are read too (the real spider looks there for related
articles and continuation pages), and the archive host's sections wait until the current hosts
are done. The priorities are the real spider's as well, so both keep the downloader equally busy:
only the work per page differs. No extraction, no decoding of our own, no pipelines, no feed, no
crawl state; Scrapy's default memory queue and duplicate filter; the crawl's garbage-collector
freeze at start-up (its only speed-up that is no work of the crawl's own).

It takes only the section list from :mod:`cnis_crawler.site` (so that both spiders start from the
same pages); links are chosen by plain URL patterns, not by the crawler's URL parsing.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider

from cnis_crawler.site import HOSTS, SECTIONS

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response

# The same numbers as cnis_crawler.crawling.spider: a section's next listing page goes first.
ARTICLE_PRIORITY = 10
LISTING_PRIORITY = 20
# An article's first page, anywhere on the mirror: .../<YYYYMM>/t<YYYYMMDD>_<id>.<ext>.
ARTICLE_URL_RE = re.compile(r"/\d{6}/t\d{8}_\d+\.s?html?$")
# The page count in a listing's pager script, in the sites' three shapes: ``var countPage = 3``
# (which wins: a stale createPageHTML call is often left commented out beside it),
# ``createPageHTML(15, 0, "index", "shtml")`` and ``createPageHTML('page_div', 12, 0, …)``.
COUNT_PAGE_RE = re.compile(r"\bcountPage\s*=\s*(\d+)")
CREATE_PAGE_RE = re.compile(r"createPageHTML\(\s*(?:'[^']*'\s*,\s*)?(\d+)")
# index.<ext> is page 0, index_<k>.<ext> page k.
LISTING_PAGE_RE = re.compile(r"/index(?:_(\d+))?\.(\w+)$")


class PlainSpider(Spider):
    name = "plain"
    # The crawl's own start-up trick, so that the baseline is the fastest plain crawl: objects
    # alive when the spider opens are frozen out of the garbage collector's full passes.
    custom_settings = {"EXTENSIONS": {"cnis_crawler.crawling.extensions.FreezeStartupObjects": 900}}  # noqa: RUF012

    def __init__(self, mirror: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mirror = mirror.rstrip("/")
        self.archive_started = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> PlainSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    def listing_request(self, host: str, path: str) -> Request:
        index = f"index.{HOSTS[host].extension}"
        return Request(
            f"{self.mirror}/{host}/{path}/{index}", callback=self.parse_listing, priority=LISTING_PRIORITY
        )

    async def start(self) -> AsyncIterator[Request]:
        for section in SECTIONS:
            if not HOSTS[section.host].archive:
                yield self.listing_request(section.host, section.path)

    def spider_idle(self) -> None:
        # As the real spider does: the archive host's sections once the current hosts are done.
        if self.archive_started:
            return
        self.archive_started = True
        archived = [section for section in SECTIONS if HOSTS[section.host].archive]
        for section in archived:
            self.crawler.engine.crawl(self.listing_request(section.host, section.path))
        if archived:
            raise DontCloseSpider

    def article_links(self, response: Response) -> Iterator[Request]:
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href)
            if ARTICLE_URL_RE.search(url):
                yield Request(url, callback=self.parse_article, priority=ARTICLE_PRIORITY)

    def parse_listing(self, response: Response) -> Iterator[Request]:
        yield from self.article_links(response)
        # Pages are read one after the other: the next one only, as the real spider does.
        text = response.text
        pages = COUNT_PAGE_RE.search(text) or CREATE_PAGE_RE.search(text)
        page = LISTING_PAGE_RE.search(response.url)
        if pages and page:
            current = int(page[1] or 0)
            if current + 1 < int(pages[1]):
                yield Request(
                    response.urljoin(f"index_{current + 1}.{page[2]}"),
                    callback=self.parse_listing,
                    priority=LISTING_PRIORITY,
                )

    def parse_article(self, response: Response) -> Iterator[Request]:
        yield from self.article_links(response)
