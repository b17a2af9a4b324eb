"""Sections found from the site: the folders a page links as listings or holds articles in,
whether a folder's first page lists articles under it, and what the site data says they hold."""

from __future__ import annotations

import pytest

from cnis_crawler.extraction import extract_listing
from cnis_crawler.extraction.document import read_page
from cnis_crawler.extraction.sections import (
    FoundSection,
    articles_listed_under,
    folder_of,
    news_verdict,
    section_rule,
    sections_linked,
)
from cnis_crawler.site import Section
from tests.conftest import SITE

EN_LISTING = "https://en.cnis.ac.cn/xwdt/bydt/index.shtml"
ZH_LISTING = "https://www.cnis.ac.cn/bydt/zhxw/index.html"


def page(url: str) -> str:
    return (SITE / url.split("://", 1)[1]).read_bytes().decode("utf-8")


def linked_urls(html: str, url: str) -> list[str]:
    return [link for link, _ in read_page(html, url).anchors]


def test_the_menus_of_a_listing_page_name_the_sites_sections() -> None:
    found = {section.path: section for section in extract_listing(page(EN_LISTING), EN_LISTING).sections}
    assert {"xwdt/bydt", "xwdt/bzhdt", "kycg", "zdxw", "bzygk_329/yjjg"} <= found.keys()
    assert found["xwdt/bydt"] == FoundSection("en.cnis.ac.cn", "xwdt/bydt", "listing link")
    zh = {section.path for section in extract_listing(page(ZH_LISTING), ZH_LISTING).sections}
    assert {"bydt/zhxw", "bydt/kydt", "tzgg"} <= zh


def test_an_article_link_names_its_folder_and_a_month_folder_is_none() -> None:
    html = (
        '<html><body><a href="/ynbm/spynyzlyjs/kydt/202401/t20240115_60001.html">a</a>'
        '<a href="/bydt/zhxw/202401/">month</a><a href="https://elsewhere.org/news/">away</a>'
        '<a href="/ynbm/spynyzlyjs/kydt/">more</a></body></html>'
    )
    assert sections_linked(linked_urls(html, "https://www.cnis.ac.cn/")) == (
        FoundSection("www.cnis.ac.cn", "ynbm/spynyzlyjs/kydt", "listing link"),
    )
    assert folder_of("https://www.cnis.ac.cn/ynbm/spynyzlyjs/tzgg/202401/t20240115_60002_1.html") == (
        "www.cnis.ac.cn", "ynbm/spynyzlyjs/tzgg", "article link")  # fmt: skip
    assert folder_of("https://www.cnis.ac.cn/bydt/zhxw/202401/") is None


def test_a_folder_deeper_than_any_section_is_none() -> None:
    # A site answering any path with a page of relative folder links would lead on forever.
    assert folder_of("https://en.cnis.ac.cn/trap/x/y/x/y/") is None  # five folders deep
    assert folder_of("https://en.cnis.ac.cn/trap/x/y/x/y/202401/t20240101_1.shtml") is None
    # A relative month link on an article page lands in a month folder of a month folder.
    assert folder_of("https://en.cnis.ac.cn/xwdt/gjhz/202406/202406/t20240605_58120.shtml") is None
    assert folder_of("https://en.cnis.ac.cn/xwdt/gjhz/202406/index.shtml") is None
    assert folder_of("https://en.cnis.ac.cn/trap/x/y/x/")[1] == "trap/x/y/x"  # type: ignore[index]
    assert folder_of("https://www.cnis.ac.cn/ynbm/spynyzlyjs/kydt/index_1.html") == (
        "www.cnis.ac.cn", "ynbm/spynyzlyjs/kydt", "listing link")  # fmt: skip


def test_a_folders_first_page_lists_articles_under_it_or_is_no_listing() -> None:
    links = linked_urls(page(EN_LISTING), EN_LISTING)
    assert articles_listed_under(links, "en.cnis.ac.cn", "xwdt/bydt") == 5
    # The parent folder of the sections holds no article itself; another host's folder is another.
    assert articles_listed_under(links, "en.cnis.ac.cn", "xwdt") == 0
    assert articles_listed_under(links, "en.cnis.gov.cn", "xwdt/bydt") == 0


@pytest.mark.parametrize(
    ("path", "news"),
    [
        ("xwdt/bydt", True),
        ("bydt/zhxw", True),
        ("bydt/jcdt", True),
        ("tzgg", True),
        ("ynbm/spynyzlyjs/kydt", True),
        ("ynbm/spynyzlyjs/tzgg", True),
        ("bzygk_329/yjjg", False),
        ("bzygk_329", False),
        ("cbw_331", None),
        ("ynbm/spynyzlyjs/bmjj", None),
    ],
)
def test_the_site_data_says_which_folders_hold_news(path: str, news: bool | None) -> None:
    rule = section_rule(path)
    assert (rule.news if rule else None) is news


def test_a_section_of_site_py_is_news_whatever_the_rules_say() -> None:
    assert news_verdict(Section("en.cnis.ac.cn", "kycg", "Research")) == (True, "a section of site.py")
    assert news_verdict(Section("www.cnis.ac.cn", "kycg", "")) == (
        False,
        "no site rule names its folder news",
    )
    assert news_verdict(Section("www.cnis.ac.cn", "tzgg/zbgg", "")) == (True, "notices")
