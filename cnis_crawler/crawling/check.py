"""The quick look before trusting a scheduled crawl (``cnis-crawler check``): page 1 of every
section's listing and its newest article, read as the crawl reads them, one
:class:`SectionCheck` item per section. Nothing is written and no crawl state is opened.

A section looks wrong when its listing cannot be fetched or read, links no article of its
section, or when the newest article has no title, date or body, or takes one of title, date,
source or body from the last rung of its cascade (:data:`~cnis_crawler.extraction.article.RUNGS`):
the fallback that holds when the signals a page should give are gone, as after a redesign.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from scrapy import Request

from cnis_crawler.crawling.spider import (
    CnisSpider,
    articles_listed,
    describe_failure,
    page_text,
    read_listing,
)
from cnis_crawler.extraction.article import RUNGS
from cnis_crawler.extraction.reading import read_article
from cnis_crawler.urls import listing_page_url, parse_article_url, section_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.http import Response
    from twisted.python.failure import Failure

    from cnis_crawler.extraction.document import Link

CHECKED_FIELDS = ("title", "date", "source", "body")
REQUIRED_FIELDS = ("title", "date", "body")
"""A record needs these (the pipelines drop a page without): a source may be absent."""

# What the check asks of the crawl's settings: one look, no second try (a failure is news).
CHECK_SETTINGS: dict[str, Any] = {"RETRY_ENABLED": False}


@dataclass
class SectionCheck:
    section: str
    """The section's key, ``<host>/<path>``."""
    listing_url: str
    listing_read: bool = False
    articles_linked: int = 0
    """Articles of the section linked from page 1 of its listing."""
    pages_declared: int | None = None
    newest_url: str | None = None
    values: dict[str, str | None] = field(default_factory=dict)
    """Title, date, source of the newest article; its body's length in characters."""
    rungs: dict[str, str | None] = field(default_factory=dict)
    failed: str | None = None
    """Why the listing or the newest article could not be fetched or read."""

    @property
    def problems(self) -> list[str]:
        if self.failed is not None:
            return [self.failed]
        if not self.articles_linked:
            return ["the listing links no article of its section"]
        found = []
        for name in CHECKED_FIELDS:
            rung = self.rungs.get(name)
            if rung is None and name in REQUIRED_FIELDS:
                found.append(f"no {name} found")
            elif rung is not None and rung == RUNGS[name][-1]:
                found.append(f"{name} from its weakest rung ({rung})")
        return found


class CheckSpider(CnisSpider):
    """The crawl's spider (sites, mirror, settings, discovery), sent to page 1 of each section's
    listing and the newest article it links only; the sections found on the home pages and the
    listings' menus are checked too when the site data calls them news (the crawl would read
    them), and told with their verdicts (:attr:`finder`) otherwise."""

    name = "cnis-check"

    async def start(self) -> AsyncIterator[Request]:
        if self.finder.discover:
            for host in self.sites:
                yield self.home_request(host)
        for section in self.sections:
            yield self.listing_request(listing_page_url(section, 0))

    def listing_request(self, live_url: str, all_known_pages: int = 0, probe: bool = False) -> Request:
        """Page 1 of a section's listing, or of a folder found on the sites (``probe``)."""
        section = section_of(live_url)
        assert section is not None, live_url  # only section listing URLs are ever requested
        return Request(
            self.addressing.fetch_url(live_url),
            callback=self.check_listing,
            errback=self.check_failed,
            cb_kwargs={"row": SectionCheck(section.key, live_url), "probe": probe},
        )

    def check_listing(
        self, response: Response, row: SectionCheck, probe: bool = False
    ) -> Iterator[SectionCheck | Request]:
        listing = read_listing(response, self.to_live(row.listing_url), any_page=probe)
        section = section_of(row.listing_url)
        assert section is not None, row.listing_url
        if probe and (leads := self.folder_not_crawled(section, listing)) is not None:
            yield from leads
            return
        if isinstance(listing, str):
            row.failed = f"listing: {listing}"
            yield row
            return
        yield from self.sections_met(listing.sections)
        row.listing_read, row.pages_declared = True, listing.declared_pages
        own = [link for link in listing.article_links if section_of(link.url) == section]
        row.articles_linked = len(own)
        if not probe:
            self.finder.first_page(section, articles_listed(listing, section))
        if not own:
            yield row
            return
        newest = newest_link(own)
        row.newest_url = newest.url
        yield Request(
            self.addressing.fetch_url(newest.url),
            callback=self.check_article,
            errback=self.check_failed,
            cb_kwargs={"row": row, "link": newest},
        )

    def check_article(self, response: Response, row: SectionCheck, link: Link) -> Iterator[SectionCheck]:
        live_url = self.to_live(row.listing_url)(response.url)  # where a redirect led
        reading = read_article(page_text(response), live_url, link.listed)
        if reading.fields is None:
            row.failed = f"newest article: {reading.detail}"
        else:
            fields = reading.fields
            row.values = {
                "title": fields.title,
                "date": fields.date,
                "source": fields.source,
                "body": f"{len(fields.body):,} characters" if fields.body else None,
            }
            row.rungs = {name: fields.extracted_by.get(name) for name in CHECKED_FIELDS}
        yield row

    def check_failed(self, failure: Failure) -> Iterator[SectionCheck]:
        row: SectionCheck = failure.request.cb_kwargs["row"]  # type: ignore[attr-defined]
        if failure.request.cb_kwargs.get("probe"):  # type: ignore[attr-defined]
            self.folder_unreadable(row.listing_url, describe_failure(failure))
            return
        page = "newest article" if row.newest_url else "listing"
        row.failed = f"{page}: {describe_failure(failure)}"
        yield row


def newest_link(links: list[Link]) -> Link:
    """The link to the newest article by its URL's date (the date the site gave it); the
    first listed of that day, as listings are newest first."""

    def age(numbered: tuple[int, Link]) -> tuple[date, int]:
        index, link = numbered
        article = parse_article_url(link.url)
        return (article.url_date if article else date.min), -index

    return max(enumerate(links), key=age)[1]
