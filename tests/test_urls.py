"""What a URL means on the CNIS sites, and how live URLs map to a mirror and back."""

from __future__ import annotations

import pytest

from cnis_crawler.urls import (
    Addressing,
    canonical_url,
    could_be_attachment,
    listing_page_number,
    parse_article_url,
)

MIRROR = "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "http://en.cnis.ac.cn/kycg/202001/t20200115_1.shtml#top",
            "https://en.cnis.ac.cn/kycg/202001/t20200115_1.shtml",
        ),
        ("https://EN.CNIS.AC.CN:443/kycg/", "https://en.cnis.ac.cn/kycg/"),
        ("https://en.cnis.gov.cn/xwdt/bydt/?page=2", "http://en.cnis.gov.cn/xwdt/bydt/"),
        ("https://www.iso.org/news.html?x=1#y", "https://www.iso.org/news.html?x=1"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        (
            "https://en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml",
            ("en.cnis.ac.cn/xwdt/bydt", "2024-03-29", 57887, 0),
        ),
        (
            "https://www.cnis.ac.cn/bydt/zhxw/202510/t20251022_61816_1.html",
            ("www.cnis.ac.cn/bydt/zhxw", "2025-10-22", 61816, 1),
        ),
        (
            "http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml",
            ("en.cnis.gov.cn/xwdt/bydt", "2018-01-26", 23388, 0),
        ),
        # A folder site.py does not name (a profile, a department's news): its own section.
        (
            "https://en.cnis.ac.cn/bzygk_329/yjjg/201312/t20131231_35948.shtml",
            ("en.cnis.ac.cn/bzygk_329/yjjg", "2013-12-31", 35948, 0),
        ),
        (
            "https://www.cnis.ac.cn/tzgg/zbgg/202401/t20240115_60001.html",
            ("www.cnis.ac.cn/tzgg/zbgg", "2024-01-15", 60001, 0),
        ),
    ],
)
def test_article_urls(url: str, parts: tuple[str, str, int, int]) -> None:
    article = parse_article_url(url)
    assert article is not None
    assert (article.section.key, article.url_date.isoformat(), article.doc_id, article.part) == parts


@pytest.mark.parametrize(
    "url",
    [
        "https://en.cnis.ac.cn/kycg/202002/t20200115_1.shtml",  # month folder != date
        "https://en.cnis.ac.cn/kycg/202002/t20200231_1.shtml",  # no such day
        "https://en.cnis.ac.cn/kycg/202001/P020200115123456789.pdf",  # attachment
        "https://www.iso.org/kycg/202001/t20200115_1.shtml",  # another host
        "https://en.cnis.ac.cn/kycg/index_1.shtml",
    ],
)
def test_not_article_urls(url: str) -> None:
    assert parse_article_url(url) is None


def test_listing_page_numbers() -> None:
    assert listing_page_number("https://en.cnis.ac.cn/kycg/") == 0
    assert listing_page_number("https://en.cnis.ac.cn/kycg/index.shtml") == 0
    assert listing_page_number("https://en.cnis.ac.cn/kycg/index_2.shtml") == 2
    # Any folder of a CNIS host has a listing's shape; whether it is crawled is the spider's choice.
    assert listing_page_number("https://en.cnis.ac.cn/bzygk_329/yjjg/index_1.shtml") == 1
    assert listing_page_number("https://en.cnis.ac.cn/kycg/202001/") is None  # a month folder
    assert listing_page_number("https://www.iso.org/kycg/index.shtml") is None


def test_live_site_addressing_is_identity() -> None:
    addressing = Addressing()
    url = "https://en.cnis.ac.cn/kycg/index.shtml"
    assert addressing.fetch_url(url) == url
    assert addressing.live_url(url, "en.cnis.ac.cn") == url
    assert addressing.allowed_domains == ["en.cnis.ac.cn", "www.cnis.ac.cn", "en.cnis.gov.cn"]


@pytest.mark.parametrize(
    ("fetched", "live"),
    [
        (f"{MIRROR}/en.cnis.gov.cn/xwdt/bydt/index_1.shtml", "http://en.cnis.gov.cn/xwdt/bydt/index_1.shtml"),
        (f"{MIRROR}/xwdt/bydt/", "https://en.cnis.ac.cn/xwdt/bydt/"),  # root-relative link on a mirror
        ("https://www.cnis.ac.cn/tzgg/", "https://www.cnis.ac.cn/tzgg/"),  # an absolute live link
    ],
)
def test_mirror_addressing_round_trip(fetched: str, live: str) -> None:
    addressing = Addressing(MIRROR + "/")
    assert addressing.live_url(fetched, "en.cnis.ac.cn") == live
    assert addressing.live_url(addressing.fetch_url(live), "en.cnis.ac.cn") == live
    assert addressing.allowed_domains == ["127.0.0.1"]


def test_mirror_must_be_an_http_url() -> None:
    with pytest.raises(ValueError, match="mirror must be an http"):
        Addressing("127.0.0.1:8000")


@pytest.mark.parametrize(
    ("mirror", "url", "expected"),
    [
        (
            "http://127.0.0.1:2",
            "http://127.0.0.1:1/en.cnis.ac.cn/kycg/?a=1",
            "http://127.0.0.1:2/en.cnis.ac.cn/kycg/?a=1",
        ),
        ("http://127.0.0.1:2", "https://en.cnis.ac.cn/kycg/", "http://127.0.0.1:2/en.cnis.ac.cn/kycg/"),
        (None, "http://127.0.0.1:1/en.cnis.gov.cn/xwdt/", "http://en.cnis.gov.cn/xwdt/"),
        (None, "https://www.cnis.ac.cn/tzgg/", "https://www.cnis.ac.cn/tzgg/"),
        ("http://127.0.0.1:2", "http://127.0.0.1:2/robots.txt", "http://127.0.0.1:2/robots.txt"),
    ],
)
def test_a_url_made_under_another_addressing_is_fetched_under_this_one(
    mirror: str | None, url: str, expected: str
) -> None:
    assert Addressing(mirror).refetch_url(url) == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("./P020241231788865667216.rar", True),
        ("P020240101999999999", True),
        ("../files/report.PDF?download=1", True),
        ("./W020240101123456.jpg", False),
        ("./t20240329_57887_1.shtml", False),
        ("/xwdt/bydt/", False),
        ("javascript:void(0)", False),
    ],
)
def test_a_link_that_could_name_an_attachment(href: str, expected: bool) -> None:
    assert could_be_attachment(href) is expected
