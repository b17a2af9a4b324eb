"""Listing pages: article links and the script-written pager, in each shape the TRS sites use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cnis_crawler.extraction import extract_article_page_links, extract_listing
from cnis_crawler.extraction.listing import strip_js_comments
from cnis_crawler.site import MAX_DECLARED_PAGES, SECTIONS
from cnis_crawler.urls import parse_article_url
from tests.conftest import SITE, live_url, page_text

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
    assert [(link.url, link.text) for link in listing.article_links] == [
        (f"{EN_BASE}/xwdt/bydt/202403/t20240329_57887.shtml", "CNIS holds 2024 work conference"),
        (f"{EN_BASE}/kycg/202001/t20200115_40001.shtml", "Report"),
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
