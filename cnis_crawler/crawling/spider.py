"""The ``cnis`` spider: discovers and fetches listing and article pages, and parses nothing.

Link discovery lives in :mod:`cnis_crawler.extraction.listing`, field extraction in the item
pipelines. The spider thinks in live URLs throughout; with ``-a mirror=URL`` it only fetches
them from the mirror instead (see :class:`cnis_crawler.urls.Addressing`).

Each section's listing is read newest page first, one page after the other. A run fetches only
articles the crawl state does not know (see :mod:`cnis_crawler.crawling.memory`) and stops paging
a section after ``CNIS_RECHECK_PAGES`` pages of known articles; it first takes up what an earlier
run left undone. ``-a full=1`` fetches every listed article again; ``-a revalidate=1`` also asks
the server, for every known article, whether it changed since (``If-None-Match``/
``If-Modified-Since``). What a fetch taught (the URL it was listed under, the validators) rides
on the item (:class:`~cnis_crawler.crawling.items.Fetch`).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import Request, Spider, signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import TextResponse
from scrapy.spidermiddlewares.httperror import HttpError

from cnis_crawler.crawling.config import number
from cnis_crawler.crawling.discovery import SectionFinder
from cnis_crawler.crawling.drops import failure_name
from cnis_crawler.crawling.extensions import FIRST_PAGE_ARTICLES, SECTION_KIND, SECTION_WHY, section_stat
from cnis_crawler.crawling.files import FILES_SETTING
from cnis_crawler.crawling.items import WORK_META, Fetch, FetchedPage, FetchProblem
from cnis_crawler.crawling.logs import quiet_robotstxt_failures
from cnis_crawler.crawling.memory import CrawlMemory
from cnis_crawler.crawling.readers import PageReaders, read
from cnis_crawler.extraction import Listed, extract_listing
from cnis_crawler.extraction.encoding import decode_html, media_type, not_html_page
from cnis_crawler.extraction.error_page import error_page
from cnis_crawler.extraction.listing import ListingPage, ToLive, title_only
from cnis_crawler.extraction.reading import read_article_page
from cnis_crawler.extraction.sections import articles_listed_under, news_verdict
from cnis_crawler.memory.files import new_run_id
from cnis_crawler.memory.state import Validators, utc_now
from cnis_crawler.site import HOSTS, SECTIONS
from cnis_crawler.urls import (
    Addressing,
    first_page_url,
    listing_page_number,
    listing_page_url,
    parse_article_url,
    section_of,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.python.failure import Failure

    from cnis_crawler.extraction.document import Link
    from cnis_crawler.extraction.sections import FoundSection
    from cnis_crawler.site import Section

# A mirror on loopback needs no politeness; the user's -s settings still win (higher priority).
MIRROR_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
}
# Each section's listing is read one page after the other, so its next page goes first: the
# articles then keep the downloader busy (measured: 10 % faster on a 2,000-article mirror).
ARTICLE_PRIORITY = 10
LISTING_PRIORITY = 20
GONE_STATUSES = (404, 410)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
REDIRECTS_META = "cnis_redirects"
DISCOVERY_REQUESTS = "discovery/requests_beyond_listings"
"""Pages read only to find sections: home pages, and first pages of folders not crawled (no
listing, not news, gone). With the listing pages and robots.txt, all a run with nothing new reads."""
NAMED_FOLDERS = 30
"""The folders found no listing that the closing log names (the others it counts)."""
OWN_META = (WORK_META, "handle_httpstatus_list", "dont_redirect")


SPIDER_ARGUMENTS = ("sites", "mirror", "full", "revalidate", "files", "sections")
SECTION_CHOICES = {"all": True, "known": False}
"""``-a sections=``: the sections of site.py and those found on the sites, or only the former."""


class CnisSpider(Spider):
    name = "cnis"

    def __init__(
        self,
        sites: str | None = None,
        mirror: str | None = None,
        full: str | None = None,
        revalidate: str | None = None,
        files: str | None = None,
        sections: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Scrapyd passes its own (_job …); any other is a mistake, silently ignored otherwise.
        if unknown := sorted(name for name in kwargs if not name.startswith("_")):
            raise ValueError(
                f"unknown spider argument{'s' * (len(unknown) > 1)} {', '.join(unknown)}; accepted:"
                f" {', '.join(f'-a {name}=' for name in SPIDER_ARGUMENTS)}"
            )
        super().__init__(**kwargs)
        self.sites = parse_sites(sites)
        self.addressing = Addressing(mirror or None)
        self.allowed_domains = self.addressing.allowed_domains
        self.sections = [section for section in SECTIONS if section.host in self.sites]
        """The sections whose listings this run reads and health judges: site.py's, and found
        ones that turned out broken (:meth:`tell_sections`)."""
        self.finder = SectionFinder(self.sites, self.sections, discover=parse_sections(sections))
        self.over_limit_told = False
        self.full = parse_flag("full", full)
        self.revalidate = parse_flag("revalidate", revalidate)
        # Given or not: -a files=0 turns off a CNIS_FILES the settings turn on.
        self.files = None if files is None else parse_flag("files", files)
        self.run_id = new_run_id()
        self.linked: set[str] = set()
        self.memory: CrawlMemory | None = None
        self.readers: PageReaders | None = None
        self.walking = False
        self.archive_started = False
        self.archive_waiting: list[Request] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CnisSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        quiet_robotstxt_failures()
        if spider.addressing.mirror:
            crawler.settings.setdict(MIRROR_SETTINGS, priority="spider")
        if spider.files is not None:
            crawler.settings.set(FILES_SETTING, spider.files, priority="spider")
        spider.finder.max_folders = number(crawler.settings, "CNIS_MAX_FOLDERS", 500, 0)
        return spider

    @property
    def mode(self) -> str:
        """What this run does beyond an incremental crawl: a pass the next run in the same mode
        finishes if this one is cut short."""
        chosen = {"full": self.full, "revalidate": self.revalidate}
        return "+".join(name for name, on in chosen.items() if on)

    async def start(self) -> AsyncIterator[Request]:
        self.walking = True
        self.memory = self.crawler.get_extension(CrawlMemory)
        self.readers = self.crawler.get_extension(PageReaders)
        if self.finder.discover and self.memory is not None:
            self.finder.remember(*self.memory.remembered_sections())
        if self.memory is not None:
            listings, articles = self.memory.left_undone()
            listings = [url for url in listings if urlsplit(url).hostname in self.sites]
            # Linked by an earlier version, which kept every link: never news, never fetched.
            if not_news := [url for url, _ in articles if is_not_news(url, self.sites)]:
                self.memory.forget_links(not_news)
            articles = [(url, listed) for url, listed in articles if self.is_article(url)]
            self.memory.resuming(len(listings), len(articles))
            for url in listings:
                yield self.listing_request(url)
            for url, listed in articles:
                if self.wants(url, even_if_known=True) and (request := self.in_turn(url, listed)):
                    yield request
            if self.revalidate:
                # Before the listings, which would otherwise meet these articles as known first.
                for url, listed, validators in self.memory.known_articles():
                    if self.wants(url, even_if_known=True):
                        yield self.article_request(url, listed, validators)
        if self.finder.discover:
            # With the listings, after what earlier runs left: a listing would otherwise meet a
            # found section's articles as known before a revalidation asks about them.
            for host in self.sites:
                yield self.home_request(host)
            for section in self.finder.remembered():
                yield self.listing_request(listing_page_url(section, 0), probe=True)
        for section in self.sections:
            if not HOSTS[section.host].archive:
                yield self.listing_request(listing_page_url(section, 0))

    def spider_idle(self) -> None:
        """The current hosts are done: now the archive's sections (see ``Host.archive``); not
        when the spider reads only the pages it is given (``scrapy parse``)."""
        if not self.walking:
            return
        self.tell_sections()
        if self.archive_started:
            return
        self.archive_started = True
        archived = [section for section in self.sections if HOSTS[section.host].archive]
        requests = [self.listing_request(listing_page_url(section, 0)) for section in archived]
        for request in [*requests, *self.archive_waiting]:
            self.crawler.engine.crawl(request)
        if requests or self.archive_waiting:
            raise DontCloseSpider

    def tell_sections(self) -> None:
        """Every section's verdict into the stats, where the closing table, the summary, the
        crawl state and the report read it; asked at every idle, the last one counts. A found
        section crawled before and broken now counts as a failed listing, as a known one would."""
        stats = self.crawler.stats
        for key, verdict in self.finder.verdicts().items():
            stats.set_value(section_stat(key, SECTION_KIND), verdict.kind)
            stats.set_value(section_stat(key, SECTION_WHY), verdict.why)
            if verdict.first_page_articles is not None:
                stats.set_value(section_stat(key, FIRST_PAGE_ARTICLES), verdict.first_page_articles)
            if verdict.broken and all(section.key != key for section in self.sections):
                stats.max_value(section_stat(key, "listing_pages_failed"), 1)
                self.sections.append(self.finder.folders[key].section)

    def closed(self, reason: str) -> None:
        if not self.finder.discover:  # -a sections=known, or scrapy parse: nothing found
            return
        if not_listings := self.finder.not_listings():
            self.crawler.stats.set_value("discovery/folders_not_listing", len(not_listings))
            named = [f"{key} ({why})" for key, why in not_listings.items()]
            more = f", and {len(named) - NAMED_FOLDERS} more" if len(named) > NAMED_FOLDERS else ""
            self.logger.info(
                "%d folders linked are no listing section (none of their first pages lists articles under"
                " them; read again in CNIS_FOLDER_RECHECK_DAYS): %s%s",
                *(len(not_listings), ", ".join(named[:NAMED_FOLDERS]), more),
            )
            if self.memory is not None:
                self.memory.folders_not_listing(
                    {k: why for k, why in not_listings.items() if self.finder.may_rest(k)}
                )

    def home_request(self, host: str) -> Request:
        live_url = f"{HOSTS[host].scheme}://{host}/"
        return Request(
            self.addressing.fetch_url(live_url),
            callback=self.parse_home,
            errback=self.home_errback,
            cb_kwargs={"live_url": live_url},
            priority=LISTING_PRIORITY + 1,
        )

    def parse_home(self, response: Response, live_url: str) -> Iterator[Request]:
        """A home page: the sections its menus and "more" links name (nothing else is taken)."""
        listing = read_listing(response, self.to_live(live_url), any_page=True)
        if isinstance(listing, str):
            self.home_unreadable(live_url, listing)
            return
        self.crawler.stats.inc_value("discovery/home_pages_read")
        self.crawler.stats.inc_value(DISCOVERY_REQUESTS)
        yield from self.sections_met(listing.sections)

    def home_errback(self, failure: Failure) -> None:
        self.home_unreadable(failure.request.cb_kwargs["live_url"], describe_failure(failure))  # type: ignore[attr-defined]

    def home_unreadable(self, live_url: str, reason: str) -> None:
        self.crawler.stats.inc_value("discovery/home_pages_failed")
        self.crawler.stats.inc_value(DISCOVERY_REQUESTS)
        # Discovery goes on from the listings and articles read; site.py's sections are read anyway.
        self.logger.warning("Home page failed (%s): %s; sections are found on other pages", reason, live_url)

    def sections_met(self, found: tuple[FoundSection, ...], on: Section | None = None) -> Iterator[Request]:
        """The first listing page of each folder ``found`` (on the first page of folder ``on``, or
        another page) names for the first time."""
        for section in self.finder.met(found, on):
            self.crawler.stats.inc_value("discovery/folders_read")
            yield self.listing_request(listing_page_url(section, 0), probe=True)
        if self.finder.over_limit:
            self.crawler.stats.set_value("discovery/folders_over_limit", len(self.finder.over_limit))
            if not self.over_limit_told:
                self.over_limit_told = True
                self.logger.warning(
                    "More than CNIS_MAX_FOLDERS=%d folders linked: the others are not read in this run"
                    " (counted in discovery/folders_over_limit)",
                    self.finder.max_folders,
                )

    def listing_request(self, live_url: str, all_known_pages: int = 0, probe: bool = False) -> Request:
        """``probe``: the first page of a folder found on the sites, a listing section or not."""
        return Request(
            self.addressing.fetch_url(live_url),
            callback=self.parse_listing,
            errback=self.listing_failed,
            cb_kwargs={"live_url": live_url, "all_known_pages": all_known_pages, "probe": probe},
            meta={WORK_META: ("folder" if probe else "listing", live_url), "dont_redirect": True},
            priority=LISTING_PRIORITY,
        )

    def wants(self, url: str, even_if_known: bool = False) -> bool:
        """Whether to fetch a URL met on a page: a news article, not met before in this run,
        and not known (unless ``full``)."""
        if not self.is_article(url) or (section := self.link(url)) is None:
            return False
        if even_if_known or self.memory is None:
            return True
        # A full pass fetches everything once: again, only what it had not done when cut short.
        if not (self.memory.done_in_this_pass(url) if self.full else self.memory.is_settled(url)):
            return True
        self.memory.count("skipped_known")
        self.crawler.stats.inc_value(section_stat(section.key, "skipped_known"))
        return False

    def link(self, url: str) -> Section | None:
        """Counts an article as linked the first time this run meets it, and returns its section;
        None when met before."""
        if url in self.linked:
            return None
        self.linked.add(url)
        section = section_of(url)
        assert section is not None, url  # an article URL is in a section
        self.crawler.stats.inc_value(section_stat(section.key, "articles_linked"))
        return section

    def is_article(self, url: str) -> bool:
        """A news article of the crawled sites and sections; continuation pages (t…_<id>_1) are
        parts of one."""
        article = parse_article_url(url)
        return (
            article is not None
            and article.host in self.sites
            and not article.part
            and self.finder.crawls(article.section)
        )

    def article_request(
        self,
        live_url: str,
        listed: Listed | None,
        validators: Validators | None = None,
    ) -> Request:
        """``listed``: what the listing showed of the article, for its extraction."""
        headers = {}
        if validators is not None:
            if validators.etag:
                headers["If-None-Match"] = validators.etag
            if validators.last_modified:
                headers["If-Modified-Since"] = validators.last_modified
        return Request(
            self.addressing.fetch_url(live_url),
            callback=self.parse_article,
            errback=self.article_failed,
            headers=headers,
            cb_kwargs={"live_url": live_url, "listed": listed},
            meta={WORK_META: ("article", live_url), "handle_httpstatus_list": [304], "dont_redirect": True},
            priority=ARTICLE_PRIORITY,
        )

    def article_requests(self, links: tuple[Link, ...], found_on: str | None = None) -> Iterator[Request]:
        """Requests for the articles worth fetching among ``links``. Those ``found_on`` an article
        page are told to the crawl state first (a listing's links are, with the page)."""
        wanted = [(link.url, link.listed or title_only(link.text)) for link in links if self.wants(link.url)]
        if found_on is not None and self.memory is not None:
            self.memory.links_found(found_on, wanted)
        for url, listed in wanted:
            if request := self.in_turn(url, listed):
                yield request

    def in_turn(self, url: str, listed: Listed | None) -> Request | None:
        """The request for an article, to send now; None for one of the archive host met before
        its turn (on a current host's page, or left by an earlier run), which waits for it."""
        request = self.article_request(url, listed)
        if self.archive_started or not is_archived(url):
            return request
        self.archive_waiting.append(request)
        return None

    def to_live(self, live_url: str) -> partial[str]:
        """Maps URLs fetched for, or linked from, the page at ``live_url`` to live URLs."""
        return partial(self.addressing.live_url, context_host=urlsplit(live_url).hostname or "")

    async def parse(self, response: Response, **kwargs: Any) -> AsyncIterator[Any]:
        """A page ``scrapy parse`` was given (the crawl's own requests name their callbacks):
        an article page as the crawl reads it (the project's ``parse`` command prints the
        record the pipelines make of it), or a listing page: what it links, and the requests
        for the articles and the next page."""
        live_url = self.addressing.live_url(response.url, context_host="")
        self.finder.discover = False  # one page, as the crawl reads it: not every folder its menus link
        if (article := parse_article_url(live_url)) is not None and article.part:
            first = self.addressing.fetch_url(first_page_url(live_url))
            self.logger.error(
                "Page %d of an article, which is read with its first page: %s (with -d %d to read them all)",
                *(article.part + 1, first, article.part + 1),
            )
        elif article is not None and news_verdict(article.section)[0]:
            async for output in self.parse_article(response, live_url):
                yield output
        elif listing_page_number(live_url) is not None:
            listing = read_listing(response, self.to_live(live_url))
            if not isinstance(listing, str) and (section := section_of(live_url)) is not None:
                # Whichever page of its listing: judged as its first page would be.
                self.finder.first_page(section, articles_listed(listing, section))
                yield listing_summary(live_url, listing)
            for request in self.parse_listing(response, live_url, 0, listing=listing):
                yield request
        else:
            self.logger.error(
                "Not a page of a news section: %s (accepted: a listing page or an article of %s)",
                live_url,
                ", ".join(self.sites),
            )

    def parse_listing(
        self,
        response: Response,
        live_url: str,
        all_known_pages: int,
        probe: bool = False,
        listing: ListingPage | str | None = None,
    ) -> Iterator[Request]:
        """``listing``: the page read already, or why it is unreadable (by :meth:`parse`)."""
        section = section_of(live_url)
        assert section is not None, live_url  # only section listing URLs are ever requested
        stats = self.crawler.stats
        listing = listing or read_listing(response, self.to_live(live_url), any_page=probe)
        if probe and (leads := self.folder_not_crawled(section, listing)) is not None:
            yield from leads
            return
        stats.inc_value(section_stat(section.key, "listing_pages_fetched"))
        if isinstance(listing, str):
            self.listing_unreadable(live_url, listing)
            return
        if listing_page_number(live_url) == 0 and not probe:
            self.finder.first_page(section, articles_listed(listing, section))
        yield from self.sections_met(listing.sections, on=section)
        if listing.declared_pages is not None:
            stats.max_value(section_stat(section.key, "listing_pages_declared"), listing.declared_pages)
        # Only the articles this crawl fetches count: a profile linked beside is no news.
        crawled = [link for link in listing.article_links if self.is_article(link.url)]
        if ignored := len(listing.article_links) - len(crawled):
            stats.inc_value("discovery/ignored/outside_crawled_sections", ignored)
        yield from self.article_requests(tuple(crawled))
        next_page = following_page(live_url, listing.page_urls)
        declared = stats.get_value(section_stat(section.key, "listing_pages_declared"), 0)
        if next_page is None and (listing_page_number(live_url) or 0) + 1 < declared:
            # An earlier page declared more pages than this one leads to: its pager is lost.
            self.listing_unreadable(live_url, f"no pager to the {declared - 1} pages declared before")
            return
        if self.memory is not None:
            # The listing is newest first: past a page of known articles, the rest is known too.
            links = [(link.url, link.listed or title_only(link.text)) for link in crawled]
            known = all(self.memory.is_settled(url) for url, _ in links)
            all_known_pages = all_known_pages + 1 if known else 0
            if next_page and not self.full and self.memory.may_stop_paging(section.key, all_known_pages):
                self.memory.count("sections_stopped_early")
                self.memory.listing_read(live_url, section.key, links, last_page=False, next_page=None)
                return
            last_page = next_page is None
            self.memory.listing_read(live_url, section.key, links, last_page=last_page, next_page=next_page)
        if next_page:
            yield self.listing_request(next_page, all_known_pages)

    async def parse_article(
        self, response: Response, live_url: str, listed: Listed | None = None
    ) -> AsyncIterator[FetchedPage | Request]:
        self.link(live_url)
        to_live = self.to_live(live_url)
        served_as = to_live(response.url)
        page = FetchedPage(url=live_url, fetched_at=utc_now(), listed=listed)
        if response.status == 304:
            page.problem, page.detail = FetchProblem.NOT_MODIFIED, "HTTP 304"
            page.fetch = fetch_facts(response, live_url)
            yield page
            return
        if served_as != live_url:
            target = parse_article_url(served_as)
            if target is None or target.host not in self.sites:
                page.problem, page.detail = FetchProblem.REDIRECTED_AWAY, f"redirected to {served_as}"
                yield page
                return
            page.url = target.url
        if problem := not_html(response):
            page.problem, page.detail = FetchProblem.NOT_HTML, problem
            yield page
            return
        page.html = page_text(response)
        page.fetch = fetch_facts(response, live_url)
        # Read once, in a worker process (cnis_crawler.crawling.readers): its links at the URL it
        # came from, as listings are (a mirror's links resolve on the mirror), and the article
        # at its live URL, which the pipelines then take from the item.
        reading = await read(
            self.readers, read_article_page, page.html, response.url, page.url, to_live, listed
        )
        for request in self.sections_met(reading.links.sections):
            yield request
        for request in self.article_requests(reading.links.article_links, found_on=page.url):
            yield request
        if reading.links.parts:
            yield self.part_request(page, reading.links.parts, live_url)
        else:
            page.reading = reading.article
            yield page

    def part_request(self, page: FetchedPage, parts: tuple[str, ...], listed_url: str) -> Request:
        """Fetch the next page of a multi-page article; the record waits for all of them."""
        return Request(
            self.addressing.fetch_url(parts[0]),
            callback=self.parse_part,
            errback=self.part_failed,
            cb_kwargs={"page": page, "part_url": parts[0], "remaining": parts[1:], "listed_url": listed_url},
            # The article's own work: the record counts in the section that listed it.
            meta={WORK_META: ("article", listed_url), "dont_redirect": True},
            priority=ARTICLE_PRIORITY + 1,
            # A part belongs to one article: a redirect to an already seen page must not be
            # filtered away silently, it must reach parse_part and be refused there.
            dont_filter=True,
        )

    def parse_part(
        self,
        response: Response,
        page: FetchedPage,
        part_url: str,
        remaining: tuple[str, ...],
        listed_url: str,
    ) -> Iterator[FetchedPage | Request]:
        served_as = self.to_live(page.url)(response.url)
        if served_as != part_url:
            page.problem, page.detail = (
                FetchProblem.MISSING_PART,
                f"part {part_url} redirected to {served_as}",
            )
        elif problem := not_html(response):
            page.problem, page.detail = FetchProblem.MISSING_PART, f"part {part_url}: {problem}"
        if page.problem is not None:
            yield page
            return
        page.continuations.append(page_text(response))
        yield self.part_request(page, remaining, listed_url) if remaining else page

    def part_failed(self, failure: Failure) -> Iterator[FetchedPage | Request]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        followed = self.follow_redirect(failure)
        if isinstance(followed, Request):
            yield followed
            return
        page: FetchedPage = kwargs["page"]
        page.problem = FetchProblem.MISSING_PART
        page.detail = f"part {kwargs['part_url']} failed ({followed or describe_failure(failure)})"
        yield page

    def article_failed(self, failure: Failure) -> Iterator[FetchedPage | Request]:
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        self.link(kwargs["live_url"])
        followed = self.follow_redirect(failure)
        if isinstance(followed, Request):
            yield followed
            return
        gone = (response := http_error_response(failure)) is not None and response.status in GONE_STATUSES
        problem = (
            FetchProblem.REDIRECTED_AWAY if followed else FetchProblem.GONE if gone else FetchProblem.FAILED
        )
        yield FetchedPage(
            url=kwargs["live_url"],
            fetched_at=utc_now(),
            listed=kwargs.get("listed"),
            problem=problem,
            detail=followed or describe_failure(failure),
        )

    def listing_failed(self, failure: Failure) -> Iterator[Request]:
        followed = self.follow_redirect(failure)
        if isinstance(followed, Request):
            yield followed
            return
        kwargs = failure.request.cb_kwargs  # type: ignore[attr-defined]
        reason = followed or describe_failure(failure)
        if kwargs.get("probe"):
            self.folder_unreadable(kwargs["live_url"], reason)
            return
        self.listing_unreadable(kwargs["live_url"], reason)

    def folder_not_crawled(self, section: Section, listing: ListingPage | str) -> list[Request] | None:
        """Tells discovery the first page of a found folder: None when its section is crawled (a
        crawled one is remembered at once, so that a run killed on its way resumes its articles);
        else the first pages of the folders it leads to (a landing page's menus)."""
        if isinstance(listing, str):
            self.folder_unreadable(listing_page_url(section, 0), listing)
            return []
        listed = articles_listed(listing, section)
        if self.finder.first_page(section, listed):
            if self.memory is not None:
                self.memory.section_found(section.key, news_verdict(section)[1], listed)
            return None
        self.crawler.stats.inc_value(DISCOVERY_REQUESTS)
        return list(self.sections_met(listing.sections, on=section))

    def folder_unreadable(self, live_url: str, reason: str) -> None:
        """A found folder's first page failed, or is no page: no section, or a broken one."""
        section = section_of(live_url)
        assert section is not None, live_url  # only section listing URLs are ever requested
        self.finder.first_page(section, None, reason)
        self.crawler.stats.inc_value(DISCOVERY_REQUESTS)

    def follow_redirect(self, failure: Failure) -> Request | str | None:
        """For a redirect: the request that follows it, or why it is not followed; else None.

        Redirects are followed here, not by Scrapy's middleware, which drops a redirect to a
        page already fetched in this run, to itself or off the allowed domains without telling
        the callback, so a listed article would vanish uncounted. Followed here, the target is
        fetched even when seen before (the pipelines know it as a copy), and a loop, a chain
        longer than ``REDIRECT_MAX_TIMES`` or a target off the crawled sites ends as a drop.
        """
        response = http_error_response(failure)
        if response is None or response.status not in REDIRECT_STATUSES:
            return None
        location = response.headers.get("Location")
        if not location:
            return f"HTTP {response.status} without a Location"
        request = response.request
        assert request is not None  # a response the downloader made
        live = self.to_live(request.cb_kwargs.get("live_url") or request.url)
        # The live site's redirect to itself over https stays on the mirror when crawling one.
        target = self.addressing.refetch_url(urljoin(response.url, location.decode("latin-1")))
        chain = (*request.meta.get(REDIRECTS_META, ()), response.url)  # as fetched: http ≠ https
        if target in chain:
            return f"redirect loop: {' -> '.join(live(url) for url in (*chain, target))}"
        if len(chain) > self.crawler.settings.getint("REDIRECT_MAX_TIMES"):
            return f"more than {len(chain) - 1} redirects, last to {live(target)}"
        if urlsplit(live(target)).hostname not in self.sites:
            return f"redirected to {live(target)}"
        # Only the spider's own keys: Scrapy's (download_latency …) describe the first response.
        meta = {key: value for key, value in request.meta.items() if key in OWN_META}
        meta[REDIRECTS_META] = chain
        following: Request = request.replace(url=target, dont_filter=True, meta=meta)
        return following

    def listing_unreadable(self, live_url: str, reason: str) -> None:
        section = section_of(live_url)
        assert section is not None, live_url  # only section listing URLs are ever requested
        self.crawler.stats.inc_value(section_stat(section.key, "listing_pages_failed"))
        self.logger.error("Listing page failed (%s): %s", reason, live_url)
        if self.memory is not None:
            # The walk of the section ends here, unfinished: the next run walks it all again.
            self.memory.listing_failed(live_url, section.key)


def read_listing(response: Response, to_live: ToLive, any_page: bool = False) -> ListingPage | str:
    """The listing on ``response``, or why it is unreadable; ``any_page``: a page that may
    link no article (a home page, a found folder's first page)."""
    if problem := not_html(response):
        return problem
    text = page_text(response)
    if error := error_page(text):
        return f"an error page ({error.value}) served with status 200"
    listing = extract_listing(text, response.url, to_live)
    if not listing.article_links and not any_page:
        # Every page of a news listing links articles: this one is broken or redesigned,
        # and ending the walk here would hide the pages after it from later runs.
        return "no article linked"
    return listing


def listing_summary(live_url: str, listing: ListingPage) -> dict[str, object]:
    """What ``scrapy parse`` shows of a listing page: its articles as listed, and its pager."""
    return {
        "listing": live_url,
        "pages_declared": listing.declared_pages,
        "articles": [
            {"url": link.url, "title": link.text, "date": link.listed.date if link.listed else None}
            for link in listing.article_links
        ],
        "pager": list(listing.page_urls),
    }


def articles_listed(listing: ListingPage, section: Section) -> int:
    """How many articles under ``section`` a listing page links."""
    return articles_listed_under((link.url for link in listing.article_links), section.host, section.path)


def is_archived(url: str) -> bool:
    host = HOSTS.get(urlsplit(url).hostname or "")
    return host is not None and host.archive


def following_page(live_url: str, page_urls: tuple[str, ...]) -> str | None:
    """The next page of a listing, from the page URLs its pager declares or links."""
    current = listing_page_number(live_url) or 0
    section = section_of(live_url)
    # Nearly always the very next one: looked up before every URL of a long pager is read.
    if section is not None and (expected := listing_page_url(section, current + 1)) in page_urls:
        return expected
    later = {number: url for url in page_urls if (number := listing_page_number(url) or 0) > current}
    return later[min(later)] if later else None


def fetch_facts(response: Response, listed_url: str) -> Fetch:
    """What the crawl state keeps of a fetch: where the page was listed, and what to ask its
    server next time (``Last-Modified``, ``ETag``)."""
    last_modified, etag = response.headers.get("Last-Modified"), response.headers.get("ETag")
    return Fetch(
        listed_url,
        Validators(
            last_modified.decode("latin-1") if last_modified else None,
            etag.decode("latin-1") if etag else None,
        ),
    )


def content_type(response: Response) -> str:
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


def not_html(response: Response) -> str | None:
    """Why ``response`` is no HTML page, or None. Scrapy takes a response for HTML by its URL
    when its Content-Type names no text type, so a PDF at ``….html`` would pass for a page."""
    if problem := not_html_page(content_type(response), response.body):
        return problem
    if not isinstance(response, TextResponse):
        return f"not HTML ({media_type(content_type(response)) or 'no Content-Type'})"
    return None


def page_text(response: Response) -> str:
    return decode_html(response.body, content_type(response))


def http_error_response(failure: Failure) -> Response | None:
    """The response of a failure that is an HTTP error status, None for any other failure."""
    return failure.value.response if isinstance(failure.value, HttpError) else None


def describe_failure(failure: Failure) -> str:
    if (response := http_error_response(failure)) is not None:
        return f"HTTP {response.status}"
    return f"{failure_name(failure)}: {failure.getErrorMessage()}"


def parse_flag(name: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text in ("", "0", "false", "no", "off"):
        return False
    if text in ("1", "true", "yes", "on"):
        return True
    raise ValueError(f"-a {name}= takes 1 or 0 (true/false, yes/no), got {value!r}")


def parse_sections(sections: str | None, option: str = "-a sections=") -> bool:
    """Whether ``-a sections=`` (or ``option``) asks for the sections found on the sites too
    (the default, when it is not given)."""
    chosen = "all" if sections is None else sections.strip().lower()
    if chosen not in SECTION_CHOICES:
        raise ValueError(
            f"{option} takes {' or '.join(SECTION_CHOICES)} (leave it out for all), got {sections!r}"
        )
    return SECTION_CHOICES[chosen]


def is_not_news(url: str, sites: list[str]) -> bool:
    """An article URL of a crawled host in a section the site data calls no news (a profile)."""
    article = parse_article_url(url)
    return article is not None and article.host in sites and not news_verdict(article.section)[0]


def parse_sites(sites: str | None) -> list[str]:
    """The hosts ``-a sites=`` names (all when it is not given)."""
    if sites is None:
        return list(HOSTS)
    chosen = [site.strip().lower() for site in sites.split(",") if site.strip()]
    if not chosen:
        raise ValueError(f"-a sites= names no site; known sites: {', '.join(HOSTS)} (leave it out for all)")
    if unknown := [site for site in chosen if site not in HOSTS]:
        raise ValueError(f"unknown site(s) {unknown}; known sites: {', '.join(HOSTS)}")
    return chosen
