"""The spider's routing, called directly on responses built from mirror bytes (no reactor)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Iterable
from typing import TYPE_CHECKING, TypeVar

from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.python.failure import Failure

from cnis_crawler.crawling.discovery import Verdict
from cnis_crawler.crawling.items import FetchedPage, FetchProblem
from cnis_crawler.crawling.spider import CnisSpider
from cnis_crawler.extraction import Listed, extract_listing
from cnis_crawler.extraction.document import Link
from tests.conftest import get_testdata

if TYPE_CHECKING:
    from cnis_crawler.extraction.listing import ListingPage

T = TypeVar("T")

MIRROR = "http://127.0.0.1:8123"
LISTING = "https://en.cnis.ac.cn/xwdt/bydt/index.shtml"
ARTICLE = "https://en.cnis.ac.cn/xwdt/bydt/202211/t20221128_53416.shtml"


def outputs(results: Iterable[T] | AsyncIterable[T]) -> list[T]:
    """What a callback yields, whether it is a generator or an async one (run to its end here)."""
    if isinstance(results, AsyncIterable):

        async def collect() -> list[T]:
            return [result async for result in results]

        return asyncio.run(collect())
    return list(results)


def spider(**arguments: str) -> CnisSpider:
    """The spider reading only site.py's sections, unless told ``sections="all"``: the pages'
    menus would otherwise add a request for every folder they link (tested apart)."""
    crawler = get_crawler(CnisSpider)
    crawler.stats.open_spider()
    built = CnisSpider(**{"sections": "known"} | arguments)
    built._set_crawler(crawler)  # from_crawler would also apply the mirror settings, frozen here
    return built


def mirror_response(live_url: str, body: bytes, served_from: str | None = None) -> HtmlResponse:
    fetched = served_from or f"{MIRROR}/{live_url.split('://', 1)[1]}"
    return HtmlResponse(url=fetched, body=body, headers={"Content-Type": "text/html"})


def test_listing_requests_go_to_the_mirror_and_carry_live_urls() -> None:
    crawl = spider(mirror=MIRROR)
    response = mirror_response(LISTING, get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "index.shtml"))
    requests = list(crawl.parse_listing(response, live_url=LISTING, all_known_pages=0))
    assert all(request.url.startswith(f"{MIRROR}/en.cnis.ac.cn/xwdt/bydt/") for request in requests)
    live = {request.cb_kwargs["live_url"] for request in requests}
    # One page after the other: an incremental crawl decides on each page whether to go on.
    listings = {url for url in live if "/index" in url}
    assert listings == {"https://en.cnis.ac.cn/xwdt/bydt/index_1.shtml"}
    assert len([url for url in live if "/202" in url]) == 5  # five articles per listing page
    stats = crawl.crawler.stats
    assert stats.get_value("cnis/en.cnis.ac.cn/xwdt/bydt/listing_pages_declared") == 3
    assert stats.get_value("cnis/en.cnis.ac.cn/xwdt/bydt/articles_linked") == 5


def test_a_pages_menus_lead_to_the_first_page_of_each_folder_once() -> None:
    crawl = spider(mirror=MIRROR, sections="all")
    response = mirror_response(LISTING, get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "index.shtml"))
    probes = [
        request for request in crawl.parse_listing(response, LISTING, 0) if request.cb_kwargs.get("probe")
    ]
    folders = {request.cb_kwargs["live_url"] for request in probes}
    # The menu's folders (site.py's own sections are read anyway, not probed).
    assert {
        "https://en.cnis.ac.cn/xwdt/gjhz/index.shtml",
        "https://en.cnis.ac.cn/bzygk_329/yjjg/index.shtml",
        "https://en.cnis.ac.cn/xwdt/index.shtml",
    } <= folders
    assert not folders & {
        "https://en.cnis.ac.cn/xwdt/bydt/index.shtml",
        "https://en.cnis.ac.cn/kycg/index.shtml",
    }
    assert all(request.url.startswith(f"{MIRROR}/en.cnis.ac.cn/") for request in probes)
    again = [
        request for request in crawl.parse_listing(response, LISTING, 0) if request.cb_kwargs.get("probe")
    ]
    assert again == []  # each folder once a run


def test_a_found_folder_is_crawled_only_when_it_lists_articles_and_its_rule_says_news() -> None:
    crawl = spider(mirror=MIRROR, sections="all")
    found = {
        "xwdt/gjhz": ("en.cnis.ac.cn", "xwdt", "gjhz", "index.shtml"),
        "bzygk_329/yjjg": ("en.cnis.ac.cn", "bzygk_329", "yjjg", "index.shtml"),
        "xwdt": ("en.cnis.ac.cn", "xwdt", "index.shtml"),
    }
    followed = {}
    for folder, parts in found.items():
        live = f"https://en.cnis.ac.cn/{folder}/index.shtml"
        requests = list(crawl.parse_listing(mirror_response(live, get_testdata(*parts)), live, 0, probe=True))
        followed[folder] = sorted(
            {r.cb_kwargs["live_url"] for r in requests if "/20" in r.cb_kwargs["live_url"]}
        )
    assert len(followed["xwdt/gjhz"]) == 5  # news: its articles are fetched
    assert followed["bzygk_329/yjjg"] == followed["xwdt"] == []  # profiles; a landing page
    verdicts = crawl.finder.verdicts()
    assert verdicts["en.cnis.ac.cn/xwdt/gjhz"].kind == "crawled"
    assert verdicts["en.cnis.ac.cn/bzygk_329/yjjg"] == Verdict("skipped", "About CNIS: profiles", 2)
    assert "en.cnis.ac.cn/xwdt" not in verdicts  # no listing section at all
    stats = crawl.crawler.stats
    assert stats.get_value("cnis/en.cnis.ac.cn/xwdt/gjhz/listing_pages_fetched") == 1
    assert stats.get_value("cnis/en.cnis.ac.cn/bzygk_329/yjjg/listing_pages_fetched") is None


def test_the_folders_read_in_a_run_are_bounded() -> None:
    crawl = spider(mirror=MIRROR, sections="all")
    crawl.finder.max_folders = 2
    response = mirror_response(LISTING, get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "index.shtml"))
    probes = [
        request for request in crawl.parse_listing(response, LISTING, 0) if request.cb_kwargs.get("probe")
    ]
    assert len(probes) == 2
    known = {section.key for section in crawl.sections}
    linked = [found for found in read_listing_page(response).sections if found.key not in known]
    assert crawl.crawler.stats.get_value("discovery/folders_over_limit") == len(linked) - 2 > 0


def read_listing_page(response: HtmlResponse) -> ListingPage:
    return extract_listing(response.text, response.url, spider(mirror=MIRROR).to_live(LISTING))


def test_links_written_for_a_mirror_are_read_as_live_urls() -> None:
    # A wget-converted mirror rewrites links: mirror-absolute, or relative across host folders.
    html = f"""<a href="{MIRROR}/en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml">a</a>
    <a href="../../../en.cnis.gov.cn/xwdt/bydt/201906/t20190611_24941.shtml">b</a>
    <a href="/kycg/202001/t20200115_41950.shtml">c</a>"""
    crawl = spider(mirror=MIRROR)
    listing = extract_listing(html, f"{MIRROR}/en.cnis.ac.cn/xwdt/bydt/index.shtml", crawl.to_live(LISTING))
    assert [link.url for link in listing.article_links] == [
        "http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml",
        "http://en.cnis.gov.cn/xwdt/bydt/201906/t20190611_24941.shtml",
        "https://en.cnis.ac.cn/kycg/202001/t20200115_41950.shtml",
    ]


def test_links_written_for_a_mirror_on_an_article_page_are_followed() -> None:
    """As on listing pages: an article page is read at the URL it came from."""
    crawl = spider(mirror=MIRROR)
    body = get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "202211", "t20221128_53416.shtml")
    links = b"""<a href="../../../../en.cnis.gov.cn/xwdt/bydt/201906/t20190611_24941.shtml">b</a>
    <a href="/en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml">a</a></body>"""
    output = outputs(
        crawl.parse_article(mirror_response(ARTICLE, body.replace(b"</body>", links)), ARTICLE, None)
    )
    requests = [*(item for item in output if isinstance(item, Request)), *crawl.archive_waiting]
    followed = {request.cb_kwargs["live_url"] for request in requests}
    assert {
        "http://en.cnis.gov.cn/xwdt/bydt/201906/t20190611_24941.shtml",
        "http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml",
    } <= followed


def test_sites_argument_filters_article_links() -> None:
    crawl = spider(mirror=MIRROR, sites="www.cnis.ac.cn")
    response = mirror_response(LISTING, get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "index.shtml"))
    requests = list(crawl.parse_listing(response, live_url=LISTING, all_known_pages=0))
    assert all("/index" in request.url for request in requests), "no en.cnis.ac.cn article requested"


def test_article_page_becomes_a_fetched_page_under_its_live_url() -> None:
    crawl = spider(mirror=MIRROR)
    body = get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "202211", "t20221128_53416.shtml")
    listed = Listed("Sixth ISSCC...", "Sixth ISSCC Plenary Meeting held in Hangzhou", "2022-11-28")
    output = outputs(crawl.parse_article(mirror_response(ARTICLE, body), ARTICLE, listed))
    page = output[0]
    assert isinstance(page, FetchedPage)
    assert (page.url, page.problem, page.listed) == (ARTICLE, None, listed)
    assert "Hangzhou" in page.html


def test_redirect_to_a_non_article_is_a_problem_not_a_record() -> None:
    crawl = spider(mirror=MIRROR)
    response = mirror_response(ARTICLE, b"<html>home</html>", served_from=f"{MIRROR}/en.cnis.ac.cn/")
    [page] = outputs(crawl.parse_article(response, ARTICLE, None))
    assert page.problem is FetchProblem.REDIRECTED_AWAY
    assert page.detail == "redirected to https://en.cnis.ac.cn/"


def test_non_html_article_is_a_problem() -> None:
    crawl = spider()
    response = Response(url=ARTICLE, body=b"%PDF-1.4", headers={"Content-Type": "application/pdf"})
    [page] = outputs(crawl.parse_article(response, ARTICLE, None))
    assert (page.problem, page.detail) == (FetchProblem.NOT_HTML, "not HTML (application/pdf)")


def test_a_pdf_served_as_html_is_not_html() -> None:
    crawl = spider()
    response = HtmlResponse(url=ARTICLE, body=b"%PDF-1.4\n...", headers={"Content-Type": "text/html"})
    [page] = outputs(crawl.parse_article(response, ARTICLE, None))
    assert page.problem is FetchProblem.NOT_HTML
    assert page.detail == "not HTML (a b'%PDF'… file served as text/html)"


OTHER_HOST_COPY = "http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml"


def redirect(live_url: str, location: str, chain: tuple[str, ...] = (), status: int = 302) -> Failure:
    """The failure Scrapy hands the errback for a redirect the spider follows itself."""
    request = Request(
        f"{MIRROR}/{live_url.split('://', 1)[1]}",
        cb_kwargs={"live_url": live_url, "listed": Listed(title="t")},
        meta={"cnis_redirects": chain} if chain else {},
    )
    response = Response(request.url, status=status, headers={"Location": location}, request=request)
    failure = Failure(HttpError(response))
    failure.request = request  # type: ignore[attr-defined]
    return failure


def test_a_redirect_is_followed_even_to_a_page_fetched_before() -> None:
    crawl = spider(mirror=MIRROR)
    [request] = crawl.article_failed(redirect(ARTICLE, f"/{OTHER_HOST_COPY.split('://', 1)[1]}"))
    assert isinstance(request, Request)
    assert request.url == f"{MIRROR}/en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml"
    assert request.dont_filter
    assert request.cb_kwargs["live_url"] == ARTICLE
    assert request.meta["cnis_redirects"] == (
        f"{MIRROR}/en.cnis.ac.cn/xwdt/bydt/202211/t20221128_53416.shtml",
    )


def test_the_live_sites_redirect_to_https_is_followed_and_on_a_mirror_is_a_loop() -> None:
    plain = ARTICLE.replace("https:", "http:")
    live = spider()
    failure = redirect(plain, ARTICLE)
    failure.request = failure.value.response.request = Request(plain, cb_kwargs={"live_url": plain})  # type: ignore[attr-defined]
    [request] = live.article_failed(failure)
    assert request.url == ARTICLE
    [page] = spider(mirror=MIRROR).article_failed(redirect(plain, ARTICLE))
    assert page.detail == f"redirect loop: {ARTICLE} -> {ARTICLE}"


def test_redirect_loops_and_redirects_away_are_problems() -> None:
    crawl = spider(mirror=MIRROR)
    moved = ARTICLE.replace("t20221128_53416", "t20221128_99999")
    served = f"{MIRROR}/{ARTICLE.split('://', 1)[1]}"
    [page] = crawl.article_failed(redirect(moved, served, chain=(served,)))
    assert (page.url, page.problem) == (moved, FetchProblem.REDIRECTED_AWAY)
    assert page.detail == f"redirect loop: {ARTICLE} -> {moved} -> {ARTICLE}"
    [page] = crawl.article_failed(redirect(ARTICLE, "https://www.example.org/"))
    assert page.detail == "redirected to https://www.example.org/"
    long_chain = tuple(f"{ARTICLE}?{n}" for n in range(20))
    [page] = crawl.article_failed(redirect(ARTICLE, OTHER_HOST_COPY, chain=long_chain))
    assert page.detail.startswith("more than 20 redirects")


def test_failures_are_reported_not_swallowed() -> None:
    crawl = spider()
    article_request = Request(ARTICLE, cb_kwargs={"live_url": ARTICLE, "listed": Listed(title="t")})
    failure = Failure(TimeoutError("took too long"))
    failure.request = article_request  # type: ignore[attr-defined]
    [page] = crawl.article_failed(failure)
    assert (page.url, page.problem, page.detail, page.listed) == (
        ARTICLE,
        FetchProblem.FAILED,
        "TimeoutError: took too long",
        Listed(title="t"),
    )
    failure.request = Request(LISTING, cb_kwargs={"live_url": LISTING})  # type: ignore[attr-defined]
    assert list(crawl.listing_failed(failure)) == []
    assert crawl.crawler.stats.get_value("cnis/en.cnis.ac.cn/xwdt/bydt/listing_pages_failed") == 1


def test_a_multi_page_article_waits_for_its_parts() -> None:
    crawl = spider(mirror=MIRROR)
    url = "https://www.cnis.ac.cn/tzgg/201311/t20131112_27305.html"
    body = get_testdata("www.cnis.ac.cn", "tzgg", "201311", "t20131112_27305.html")
    [request] = [
        out
        for out in outputs(crawl.parse_article(mirror_response(url, body), url, None))
        if isinstance(out, Request)
    ]
    part_url = url.replace(".html", "_1.html")
    assert request.url == f"{MIRROR}/www.cnis.ac.cn/tzgg/201311/t20131112_27305_1.html"
    assert request.dont_filter, "a redirected part must reach parse_part, not the dupefilter"
    part = get_testdata("www.cnis.ac.cn", "tzgg", "201311", "t20131112_27305_1.html")
    [second] = crawl.parse_part(mirror_response(part_url, part), **request.cb_kwargs)
    assert second.url.endswith("t20131112_27305_2.html")
    failure = Failure(TimeoutError("took too long"))
    failure.request = second  # type: ignore[attr-defined]
    [page] = crawl.part_failed(failure)
    assert page.problem is FetchProblem.MISSING_PART
    assert page.detail == f"part {url.replace('.html', '_2.html')} failed (TimeoutError: took too long)"
    assert len(page.continuations) == 1


def test_a_part_redirected_elsewhere_is_a_missing_part() -> None:
    crawl = spider(mirror=MIRROR)
    url = "https://www.cnis.ac.cn/tzgg/201311/t20131112_27305.html"
    page = FetchedPage(url=url, fetched_at="2026-11-24T05:00:00Z", html="<p>x</p>")
    [request] = [crawl.part_request(page, (url.replace(".html", "_1.html"),), url)]
    home = mirror_response(url, b"<html>home</html>", served_from=f"{MIRROR}/www.cnis.ac.cn/")
    [result] = crawl.parse_part(home, **request.cb_kwargs)
    assert result.problem is FetchProblem.MISSING_PART
    assert result.detail.endswith("redirected to https://www.cnis.ac.cn/")
    assert result.continuations == []


def test_an_old_host_article_met_early_waits_for_the_old_hosts_turn() -> None:
    crawl = spider(mirror=MIRROR)
    old_host = Link("http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml", "CNIS releases report")
    current = Link(ARTICLE, "Sixth ISSCC")
    requests = list(crawl.article_requests((old_host, current)))
    assert [request.cb_kwargs["live_url"] for request in requests] == [ARTICLE]
    assert [request.cb_kwargs["live_url"] for request in crawl.archive_waiting] == [old_host.url]
    assert crawl.crawler.stats.get_value("cnis/en.cnis.gov.cn/xwdt/bydt/articles_linked") == 1


def test_listing_requests_carry_what_the_listing_showed_to_the_article() -> None:
    crawl = spider(mirror=MIRROR)
    response = mirror_response(LISTING, get_testdata("en.cnis.ac.cn", "xwdt", "bydt", "index.shtml"))
    requests = {
        request.cb_kwargs["live_url"]: request
        for request in crawl.parse_listing(response, live_url=LISTING, all_known_pages=0)
    }
    assert requests[ARTICLE].cb_kwargs["listed"] == Listed(
        "Sixth ISSCC Plenary Meeting held in Ha...",
        "Sixth ISSCC Plenary Meeting held in Hangzhou",
        "2022-11-28",
    )
    # A link made elsewhere than on a page (no Listed) still passes its title on.
    [request] = crawl.article_requests((Link(ARTICLE.replace("53416", "53417"), "Seventh ISSCC"),))
    assert request.cb_kwargs["listed"] == Listed(title="Seventh ISSCC", on_listing=False)
