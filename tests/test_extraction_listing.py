"""Listing pages: article links and the script-written pager, in each shape the TRS sites use."""

from __future__ import annotations

import re
from html import unescape
from typing import TYPE_CHECKING
from urllib.parse import urljoin

import pytest

from cnis_crawler.extraction import Listed, extract_article_page_links, extract_listing
from cnis_crawler.extraction.listing import strip_js_comments
from cnis_crawler.site import MAX_DECLARED_PAGES, SECTIONS
from cnis_crawler.urls import parse_article_url
from tests.conftest import SITE, expected_by_url, live_url, page_text

if TYPE_CHECKING:
    from pathlib import Path

EN_BASE = "https://en.cnis.ac.cn"
SECTION_URL = "https://en.cnis.ac.cn/xwdt/bydt/index_1.shtml"
ZH_SECTION_URL = "https://www.cnis.ac.cn/tzgg/index.html"


def page(script: str, body: str = "") -> str:
    return f"<html><body><ul>{body}</ul><div class='page'><script>{script}</script></div></body></html>"


def en_pages(*names: str) -> tuple[str, ...]:
    return tuple(f"https://en.cnis.ac.cn/xwdt/bydt/{name}" for name in names)


PAGER_CASES = [
    pytest.param(
        page('createPageHTML(3, 1, "index", "shtml");'),
        SECTION_URL,
        3,
        en_pages("index.shtml", "index_1.shtml", "index_2.shtml"),
        id="shape-1-createPageHTML",
    ),
    pytest.param(
        page("var currentPage = 0;//所在页从0开始\nvar countPage = 2//共多少页\ndocument.write('x');"),
        SECTION_URL,
        2,
        en_pages("index.shtml", "index_1.shtml"),
        id="shape-2-countPage-without-semicolon",
    ),
    pytest.param(
        page("var currentPage = 1;\nvar countPage = 2;\n"),
        ZH_SECTION_URL,
        2,
        ("https://www.cnis.ac.cn/tzgg/index.html", "https://www.cnis.ac.cn/tzgg/index_1.html"),
        id="shape-2-countPage-with-semicolon",
    ),
    pytest.param(
        page("createPageHTML('page_div', 3, 1, 'index', 'html', 12);"),
        ZH_SECTION_URL,
        3,
        tuple(f"https://www.cnis.ac.cn/tzgg/{n}" for n in ("index.html", "index_1.html", "index_2.html")),
        id="shape-3-element-id-first",
    ),
    pytest.param(
        page('//createPageHTML(9, 0, "index", "shtml");\nvar countPage = 2//共多少页'),
        SECTION_URL,
        2,
        en_pages("index.shtml", "index_1.shtml"),
        id="commented-out-call-ignored",
    ),
    pytest.param(
        page(
            '/* createPageHTML(9, 0, "index", "shtml"); */ var u = "http://x/";'
            'createPageHTML(1, 0, "index", "shtml");'
        ),
        SECTION_URL,
        1,
        en_pages("index.shtml"),
        id="block-comment-and-url-string",
    ),
    pytest.param(
        "<html><body><a href='index_1.shtml'>2</a> <a href='./index_2.shtml'>3</a></body></html>",
        SECTION_URL,
        None,
        en_pages("index_1.shtml", "index_2.shtml"),
        id="plain-anchor-pager",
    ),
    pytest.param("<html><body><p>no pager</p></body></html>", SECTION_URL, None, (), id="no-pager"),
]


@pytest.mark.parametrize(("html", "url", "declared", "pages"), PAGER_CASES)
def test_pager(html: str, url: str, declared: int | None, pages: tuple[str, ...]) -> None:
    listing = extract_listing(html, url)
    assert listing.declared_pages == declared
    assert listing.page_urls == pages


def test_strip_js_comments_keeps_urls_in_strings() -> None:
    code = 'var a = "http://x//y"; // note\nb = 1 /* c */;'
    assert strip_js_comments(code) == 'var a = "http://x//y"; \nb = 1 ;'


def test_article_links_keep_full_title_and_skip_non_articles() -> None:
    html = """<ul>
      <li><a href="./202403/t20240329_57887.shtml"
             title="CNIS holds 2024 work conference">CNIS holds...</a></li>
      <li><a href="/bzygk_329/yjjg/201312/t20131231_35948.shtml">Institutions</a></li>
      <li><a href="./202403/P020240329512345678901.pdf">Annex</a></li>
      <li><a href="https://www.iso.org/news/2024/03/t20240329_1.html">ISO</a></li>
      <li><a href="../../kycg/202001/t20200115_40001.shtml">Report</a></li>
    </ul>"""
    listing = extract_listing(html, SECTION_URL)
    # Articles of every folder of the site: which sections are crawled is the spider's choice.
    assert [(link.url, link.text) for link in listing.article_links] == [
        (f"{EN_BASE}/xwdt/bydt/202403/t20240329_57887.shtml", "CNIS holds 2024 work conference"),
        (f"{EN_BASE}/bzygk_329/yjjg/201312/t20131231_35948.shtml", "Institutions"),
        (f"{EN_BASE}/kycg/202001/t20200115_40001.shtml", "Report"),
    ]
    assert [section.key for section in listing.sections] == [
        "en.cnis.ac.cn/xwdt/bydt",
        "en.cnis.ac.cn/bzygk_329/yjjg",
        "en.cnis.ac.cn/kycg",
    ]


def mirror_listing_pages() -> list[Path]:
    return sorted(p for s in SECTIONS for p in (SITE / s.host / s.path).glob("index*.*html"))


@pytest.mark.parametrize("listing_page", mirror_listing_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_mirror_listing_declares_every_page_of_its_section(listing_page: Path) -> None:
    listing = extract_listing(page_text(listing_page), live_url(listing_page))
    on_disk = sorted(live_url(p) for p in listing_page.parent.glob("index*.*html"))
    assert listing.declared_pages == len(on_disk)
    assert sorted(listing.page_urls) == on_disk
    assert listing.article_links, "a listing page lists articles"
    assert all(parse_article_url(link.url) for link in listing.article_links)


def test_article_parts_from_the_script_pager_and_links() -> None:
    url = "https://www.cnis.ac.cn/tzgg/201311/t20131112_27305.html"
    html = """<script>createPageHTML(9, 0, "index", "html");</script>
    <p>正文</p><script>createPageHTML(3, 0, "t20131112_27305", "html");</script>
    <a href="./t20131112_27305_3.html">4</a> <a href="./t20131112_99999_1.html">other article</a>
    <script>createPageHTML(2, 0, "index", "html");</script>"""
    assert extract_article_page_links(html, url).parts == tuple(
        f"https://www.cnis.ac.cn/tzgg/201311/t20131112_27305_{n}.html" for n in (1, 2, 3)
    )
    assert extract_article_page_links("<p>one page</p>", url).parts == ()


def test_a_pager_declaring_millions_of_pages_costs_no_more_than_the_cap() -> None:
    html = '<script>createPageHTML(30000000, 0, "index", "shtml");</script>'
    listing = extract_listing(html, "https://en.cnis.ac.cn/zdxw/index.shtml")
    assert listing.declared_pages == 30_000_000
    assert len(listing.page_urls) == MAX_DECLARED_PAGES


# The list items of the mirror's listings, read with a pattern of their own (not the extraction's):
# the link's href, title attribute and text, and the date printed beside it, before or after.
MIRROR_ITEM_RE = re.compile(
    r'<a href="(?P<href>[^"]+)"[^>]*? title="(?P<title>[^"]*)"[^>]*>(?P<text>[^<]*)</a>'
    r'|<span class="(?:list_date|hui12)">(?P<date>[^<]+)</span>'
)


def printed_items(listing_page: Path) -> dict[str, Listed]:
    """What each item of a mirror listing page prints, by article URL: the date that stands in
    the same line as the link (the items are one line each in the mirror's markup)."""
    printed = {}
    for line in page_text(listing_page).splitlines():
        found = list(MIRROR_ITEM_RE.finditer(line))
        links = [match for match in found if match["href"]]
        dates = [match["date"] for match in found if match["date"]]
        if links and (url := urljoin(live_url(listing_page), links[0]["href"])) and parse_article_url(url):
            assert len(links) == len(dates) == 1, line
            printed[url] = Listed(unescape(links[0]["text"]), unescape(links[0]["title"]), dates[0])
    return printed


@pytest.mark.parametrize("listing_page", mirror_listing_pages(), ids=lambda p: str(p.relative_to(SITE)))
def test_mirror_listing_shows_title_text_and_date_of_every_article(listing_page: Path) -> None:
    listing = extract_listing(page_text(listing_page), live_url(listing_page))
    printed = printed_items(listing_page)
    assert printed, "the mirror's listings print their items one a line"
    assert {link.url: link.listed for link in listing.article_links} == printed
    # The link's own text stays what the crawl state keeps as the title of last resort.
    assert all(link.text == printed[link.url].title for link in listing.article_links)
    expected = expected_by_url()
    for link in listing.article_links:
        record = expected.get(link.url)
        # A page whose date is its URL's (body only, or not in the mirror): listed under that date.
        day = record["date"] if record else parse_article_url(link.url).url_date.isoformat()
        assert link.listed.date == day, link.url


def test_mirror_listings_cut_long_titles_in_the_text_only() -> None:
    """The fixture listings are a test of the cut: some texts end in "..." or "…", their
    titles whole."""
    listed = [
        link.listed
        for page in mirror_listing_pages()
        for link in extract_listing(page_text(page), live_url(page)).article_links
    ]
    cut = [item for item in listed if item.text.endswith(("...", "…"))]
    assert {item.text[-1] for item in cut} == {".", "…"}
    assert all(item.title.startswith(item.text.rstrip(".…")) and item.title != item.text for item in cut)


def listed_of(html: str, url: str = SECTION_URL) -> dict[str, Listed | None]:
    """Each article linked from ``html`` (read as a listing page at ``url``) by its file name."""
    return {link.url.rsplit("/", 1)[1]: link.listed for link in extract_listing(html, url).article_links}


def test_the_date_before_the_link_in_a_table_row() -> None:
    html = """<table>
      <tr><td class="date">2024-03-15</td><td><a href="./202403/t20240318_1.shtml">Report</a></td></tr>
      <tr><td class="date">2024-03-02</td><td><div><a href="./202403/t20240302_2.shtml"
          title="Second report">Second...</a></div></td><td>(views: 2024)</td></tr>
    </table>"""
    assert listed_of(html) == {
        "t20240318_1.shtml": Listed("Report", "", "2024-03-15"),
        "t20240302_2.shtml": Listed("Second...", "Second report", "2024-03-02"),
    }


@pytest.mark.parametrize(
    ("item", "day"),
    [
        pytest.param(
            '<a href="./202403/t20240318_1.shtml">Report</a> [2024-03-15]', "2024-03-15", id="brackets"
        ),
        pytest.param('<a href="./202403/t20240318_1.shtml">Report</a>(2024/3/5)', "2024-03-05", id="parens"),
        pytest.param(
            "<span>15 Mar 2024</span><a href='./202403/t20240318_1.shtml'>Report</a>", "2024-03-15", id="en"
        ),
        pytest.param(
            '<a href="./202403/t20240318_1.shtml">报告</a><em>2024年03月15日</em>', "2024-03-15", id="zh"
        ),
        pytest.param(
            '<p><a href="./202403/t20240318_1.shtml">Report</a></p><i>2024.03.15</i>',
            "2024-03-15",
            id="p-in-li",
        ),
        pytest.param(
            '<a href="./202403/t20240318_1.shtml">Report</a><b>2024-02-30</b>', None, id="no-such-day"
        ),
        pytest.param('<a href="./202403/t20240318_1.shtml">Report</a> <span>new</span>', None, id="no-date"),
    ],
)
def test_the_date_printed_in_a_list_item(item: str, day: str | None) -> None:
    html = f'<ul><li>{item}</li><li><a href="./202402/t20240201_9.shtml">Other</a> 2024-02-01</li></ul>'
    assert listed_of(html)["t20240318_1.shtml"] == Listed("报告" if "报告" in item else "Report", "", day)
    assert listed_of(html)["t20240201_9.shtml"].date == "2024-02-01"


def test_a_date_in_the_link_text_is_not_the_items_date() -> None:
    html = """<ul><li><a href="./202403/t20240318_1.shtml">Report of 2024-01-10 published</a></li>
      <li><a href="./202403/t20240318_2.shtml">Notice of 2024-01-12</a> 2024-03-18</li></ul>"""
    assert listed_of(html) == {
        "t20240318_1.shtml": Listed("Report of 2024-01-10 published", "", None),
        "t20240318_2.shtml": Listed("Notice of 2024-01-12", "", "2024-03-18"),
    }


def test_an_item_of_two_articles_gives_neither_a_date() -> None:
    html = """<div class="list"><li>2024-03-18 <a href="./202403/t20240318_1.shtml">One</a>
      and <a href="./202403/t20240318_2.shtml">Two</a></li>
      <li><a href="./202403/t20240311_3.shtml"><img src="x.jpg"></a>
          <a href="./202403/t20240311_3.shtml" title="Three, whole">Three</a> 2024-03-11</li></div>"""
    assert listed_of(html) == {
        "t20240318_1.shtml": Listed("One", "", None),
        "t20240318_2.shtml": Listed("Two", "", None),
        # Two links to one article (a picture and its title): one item, and the link that says something.
        "t20240311_3.shtml": Listed("Three", "Three, whole", "2024-03-11"),
    }


def test_links_without_items_get_no_date() -> None:
    html = """<div><a href="./202403/t20240318_1.shtml">One</a> 2024-03-18<br>
      <a href="./202403/t20240311_2.shtml">Two</a> 2024-03-11</div>"""
    assert [listed.date for listed in listed_of(html).values()] == [None, None]
    # Text hidden from the reader, or in a script, is printed nowhere.
    hidden = """<ul><li><a href="./202403/t20240318_1.shtml">One</a>
      <span style="display: none">2024-01-01</span><script>var d = "2024-01-02";</script></li></ul>"""
    assert listed_of(hidden)["t20240318_1.shtml"] == Listed("One", "", None)


def test_links_on_an_article_page_carry_their_text_and_title_but_no_date() -> None:
    """Prose links an article beside any date and in any words: a title of last resort, no witness
    the article's page can contradict."""
    url = "https://en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml"
    html = '<p>On 2024-03-29 the <a href="../202402/t20240201_9.shtml" title="Plan">plan</a> was adopted.</p>'
    [link] = extract_article_page_links(html, url).article_links
    assert (link.text, link.listed) == ("Plan", Listed("plan", "Plan", None, on_listing=False))


def test_a_definition_list_item_is_its_term_and_description() -> None:
    html = """<dl><dt><a href="./202403/t20240318_1.shtml">One</a></dt><dd>2024-03-18</dd></dl>
      <dl><dt><a href="./202403/t20240311_2.shtml">Two</a></dt><dd>11 March 2024</dd></dl>"""
    assert [listed.date for listed in listed_of(html).values()] == ["2024-03-18", "2024-03-11"]
    # One list of many terms: a description is no one term's.
    many = html.replace("</dd></dl>\n      <dl>", "</dd>")
    assert [listed.date for listed in listed_of(many).values()] == [None, None]
