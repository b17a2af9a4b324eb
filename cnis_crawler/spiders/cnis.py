"""The ``cnis`` spider: discovers and fetches listing and article pages, and parses nothing.

Link discovery lives in :mod:`cnis_crawler.extraction.listing`, field extraction in the item
pipelines. The spider thinks in live URLs throughout; with ``-a mirror=URL`` it only fetches
them from the mirror instead (see :class:`cnis_crawler.urls.Addressing`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from cnis_crawler.encoding import decode_html
from cnis_crawler.extensions import section_stat
from cnis_crawler.extraction import extract_article_page_links, extract_listing
from cnis_crawler.items import FetchedPage, FetchProblem
from cnis_crawler.site import HOSTS, SECTIONS
from cnis_crawler.urls import Addressing, listing_page_url, parse_article_url, section_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from cnis_crawler.extraction.document import Link

# A mirror on loopback needs no politeness; the user's -s settings still win (higher priority).
MIRROR_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
}
# Articles before further listing pages keeps the request queue short.
ARTICLE_PRIORITY = 10
LISTING_PRIORITY = 0


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class CnisSpider(Spider):
    name = "cnis"

    def __init__(self, sites: str | None = None, mirror: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sites = parse_sites(sites)
        self.addressing = Addressing(mirror or None)
        self.allowed_domains = self.addressing.allowed_domains
        self.sections = [section for section in SECTIONS if section.host in self.sites]
        self.linked: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CnisSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.addressing.mirror:
            crawler.settings.setdict(MIRROR_SETTINGS, priority="spider")
        return spider

    async def start(self) -> AsyncIterator[Request]:
        for section in self.sections:
            yield self.listing_request(listing_page_url(section, 0))

    def listing_request(self, live_url: str) -> Request:
        return Request(
            self.addressing.fetch_url(live_url),
            callback=self.parse_listing,
            errback=self.listing_failed,
            cb_kwargs={"live_url": live_url},
            priority=LISTING_PRIORITY,
        )

    def article_requests(self, links: tuple[Link, ...]) -> Iterator[Request]:
        for link in links:
            article = parse_article_url(link.url)
            # Continuation pages (t…_<id>_1) are parts of their article, not articles.
            if article is None or article.host not in self.sites or article.part:
                continue
            if link.url not in self.linked:
                self.linked.add(link.url)
                self.crawler.stats.inc_value(section_stat(article.section.key, "articles_linked"))
            yield Request(
                self.addressing.fetch_url(link.url),
                callback=self.parse_article,
                errback=self.article_failed,
                cb_kwargs={"live_url": link.url, "listing_title": link.text or None},
                priority=ARTICLE_PRIORITY,
            )

    def to_live(self, live_url: str) -> partial[str]:
        """Maps URLs fetched for, or linked from, the page at ``live_url`` to live URLs."""
        return partial(self.addressing.live_url, context_host=urlsplit(live_url).hostname or "")

    def parse_listing(self, response: Response, live_url: str) -> Iterator[Request]:
        section = section_of(live_url)
        assert section is not None, live_url  # only section listing URLs are ever requested
        stats = self.crawler.stats
        stats.inc_value(section_stat(section.key, "listing_pages_fetched"))
        if not isinstance(response, TextResponse):
            stats.inc_value(section_stat(section.key, "listing_pages_failed"))
            self.logger.error("Listing page is not HTML: %s", live_url)
            return
        listing = extract_listing(page_text(response), response.url, self.to_live(live_url))
        if listing.declared_pages is not None:
            stats.max_value(section_stat(section.key, "listing_pages_declared"), listing.declared_pages)
        ignored = [url for url in listing.outside_news_sections if urlsplit(url).hostname in self.sites]
        stats.inc_value("discovery/ignored/outside_news_sections", len(ignored))
        yield from self.article_requests(listing.article_links)
        for page_url in listing.page_urls:
            yield self.listing_request(page_url)

    def parse_article(
        self, response: Response, live_url: str, listing_title: str | None
    ) -> Iterator[FetchedPage | Request]:
        to_live = self.to_live(live_url)
        served_as = to_live(response.url)
        page = FetchedPage(url=live_url, fetched_at=utc_now(), listing_title=listing_title)
        if served_as != live_url:
            target = parse_article_url(served_as)
            if target is None or target.host not in self.sites:
                page.problem, page.detail = FetchProblem.REDIRECTED_AWAY, f"redirected to {served_as}"
                yield page
                return
            page.url = target.url
        if not isinstance(response, TextResponse):
            page.problem, page.detail = FetchProblem.NOT_HTML, f"not HTML ({content_type(response)})"
            yield page
            return
        page.html = page_text(response)
        links = extract_article_page_links(page.html, response.url, to_live)
        yield from self.article_requests(links.article_links)
        yield self.part_request(page, links.parts) if links.parts else page

    def part_request(self, page: FetchedPage, parts: tuple[str, ...]) -> Request:
        """Fetch the next page of a multi-page article; the record waits for all of them."""
        return Request(
            self.addressing.fetch_url(parts[0]),
            callback=self.parse_part,
            errback=self.part_failed,
            cb_kwargs={"page": page, "part_url": parts[0], "remaining": parts[1:]},
            priority=ARTICLE_PRIORITY + 1,
            # A part belongs to one article: a redirect to an already seen page must not be
            # filtered away silently, it must reach parse_part and be refused there.
            dont_filter=True,
        )

    def parse_part(
        self, response: Response, page: FetchedPage, part_url: str, remaining: tuple[str, ...]
    ) -> Iterator[FetchedPage | Request]:
        served_as = self.to_live(page.url)(response.url)
        if served_as != part_url:
            page.problem, page.detail = (
                FetchProblem.MISSING_PART,
                f"part {part_url} redirected to {served_as}",
            )
        elif not isinstance(response, TextResponse):
            page.problem, page.detail = FetchProblem.MISSING_PART, f"part {part_url} is not HTML"
        if page.problem is not None:
            yield page
            return
        page.continuations.append(page_text(response))
        yield self.part_request(page, remaining) if remaining else page

    def part_failed(self, failure: Failure) -> Iterator[FetchedPage]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        page: FetchedPage = kwargs["page"]
        page.problem = FetchProblem.MISSING_PART
        page.detail = f"part {kwargs['part_url']} failed ({describe_failure(failure)})"
        yield page

    def article_failed(self, failure: Failure) -> Iterator[FetchedPage]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        yield FetchedPage(
            url=kwargs["live_url"],
            fetched_at=utc_now(),
            listing_title=kwargs.get("listing_title"),
            problem=FetchProblem.FAILED,
            detail=describe_failure(failure),
        )

    def listing_failed(self, failure: Failure) -> None:
        live_url = failure.request.cb_kwargs["live_url"]  # type: ignore[attr-defined]
        section = section_of(live_url)
        assert section is not None, live_url  # only section listing URLs are ever requested
        self.crawler.stats.inc_value(section_stat(section.key, "listing_pages_failed"))
        self.logger.error("Listing page failed (%s): %s", describe_failure(failure), live_url)


def content_type(response: Response) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1")


def page_text(response: TextResponse) -> str:
    return decode_html(response.body, content_type(response))


def describe_failure(failure: Failure) -> str:
    if failure.check(HttpError):
        return f"HTTP {failure.value.response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"


def parse_sites(sites: str | None) -> list[str]:
    if not sites:
        return list(HOSTS)
    chosen = [site.strip().lower() for site in sites.split(",") if site.strip()]
    unknown = [site for site in chosen if site not in HOSTS]
    if unknown or not chosen:
        raise ValueError(f"unknown site(s) {unknown or sites!r}; known sites: {', '.join(HOSTS)}")
    return chosen
