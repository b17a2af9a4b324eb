"""Shared fixtures: the offline mirror on disk, served on loopback, and one crawl of it."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.http import HtmlResponse

from cnis_crawler.crawling.spider import page_text as spider_page_text
from cnis_crawler.extraction import extract_listing
from cnis_crawler.site import HOSTS, SECTIONS
from cnis_crawler.tools.mirror import content_type_overrides, running_mirror
from tests.crawling import CrawlResult, run_crawl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SITE = FIXTURES / "site"
EXPECTED_SUFFIX = ".expected.json"
# Record fields that are facts of the crawl, not of the page's content: the fetch time, and the
# rung of each cascade (which differs between templates that carry the same content), and the
# article's identity and version, which depend on what earlier crawls saw.
CRAWL_FACTS = ("fetched_at", "extracted_by", "key", "version", "change")


def get_testdata(*parts: str) -> bytes:
    """The raw bytes of a mirror file, as the server sends them (like Scrapy's own helper)."""
    return SITE.joinpath(*parts).read_bytes()


def live_url(path: Path, root: Path = SITE) -> str:
    """The live URL a mirror file stands for: site/<host>/<path> -> <scheme>://<host>/<path>."""
    host, *rest = path.relative_to(root).parts
    return f"{HOSTS[host].scheme}://{host}/{'/'.join(rest)}"


@cache
def served_content_types(root: Path = SITE) -> dict[str, str]:
    return content_type_overrides(root)


def response_for(path: Path, root: Path = SITE) -> HtmlResponse:
    """The response the mirror server sends for a file: its bytes and its Content-Type."""
    content_type = served_content_types(root).get("/" + path.relative_to(root).as_posix(), "text/html")
    return HtmlResponse(
        url=live_url(path, root), body=path.read_bytes(), headers={"Content-Type": content_type}
    )


def page_text(path: Path, root: Path = SITE) -> str:
    """A mirror page decoded as the crawler decodes it."""
    return spider_page_text(response_for(path, root))


ARTICLE_FILE_RE = re.compile(r"t\d{8}_\d+\.s?html")
PART_FILE_RE = re.compile(r"t\d{8}_\d+_(?P<part>\d+)\.s?html")


@cache
def article_pages(root: Path = SITE) -> list[Path]:
    """Every news article page of a mirror: the t<date>_<id> page beside each expected record
    (in sections of site.py and in those the crawl finds; profiles have none)."""
    return sorted(
        page
        for expected in root.glob(f"*/**/t*{EXPECTED_SUFFIX}")
        for page in expected.parent.glob(expected.name.removesuffix(EXPECTED_SUFFIX) + ".*")
        if ARTICLE_FILE_RE.fullmatch(page.name)
    )


def mirror_news_sections(root: Path = SITE) -> list[str]:
    """The keys of the mirror's news sections (``<host>/<folder>``): the folders holding expected
    records, site.py's and those a crawl must find."""
    return sorted({"/".join(page.relative_to(root).parts[:-2]) for page in article_pages(root)})


KNOWN_SECTION_KEYS = tuple(section.key for section in SECTIONS)
FOUND_NEWS_SECTIONS = tuple(key for key in mirror_news_sections() if key not in KNOWN_SECTION_KEYS)
"""News sections site.py does not name: a department's (zh) and a column under a news root (en)."""
PROFILES_SECTION = "en.cnis.ac.cn/bzygk_329/yjjg"
"""A section of article-shaped links that holds profiles, no news: found, and never a record."""


@cache
def folders_linked(root: Path = SITE) -> frozenset[str]:
    """The folders the mirror's pages link (menus, breadcrumbs, "more" links, articles) beside
    site.py's sections: what a crawl reads the first page of, once each. The profile pages are
    not fetched, so their links do not count (they link no folder the others do not)."""
    found: set[str] = set()
    for page in root.glob("*/**/*.*html"):
        if page.match("bzygk_329/yjjg/201312/*"):
            continue
        found.update(
            section.key for section in extract_listing(page_text(page, root), live_url(page, root)).sections
        )
    return frozenset(found - set(KNOWN_SECTION_KEYS))


def part_pages(page: Path) -> list[Path]:
    """The continuation pages t…_<id>_1, _2 … of an article page, in order."""
    stem, extension = page.name.split(".")
    parts = [path for path in page.parent.glob(f"{stem}_*.{extension}") if PART_FILE_RE.fullmatch(path.name)]
    return sorted(parts, key=lambda path: int(PART_FILE_RE.fullmatch(path.name)["part"]))  # type: ignore[index]


def expected_path(page: Path) -> Path:
    return page.with_name(page.name.split(".")[0] + EXPECTED_SUFFIX)


@cache
def expected_record(page: Path) -> dict[str, Any]:
    return json.loads(expected_path(page).read_text(encoding="utf-8"))


def page_id(page: Path) -> str:
    return str(page.relative_to(SITE))


def expected_by_url(root: Path = SITE) -> dict[str, dict[str, Any]]:
    return {expected_record(page)["url"]: expected_record(page) for page in article_pages(root)}


def identity(record: dict[str, Any]) -> tuple[str, str, str]:
    """What makes two pages one article: language, date, and title and body (their hash)."""
    return record["lang"], record["date"], record["content_hash"]


MIRROR_ARTICLES = len({identity(record) for record in expected_by_url().values()})
"""The records a full crawl of the mirror writes: one per article (a copy on two hosts is one)."""


def assert_one_record_per_article(records: list[dict[str, Any]], root: Path = SITE) -> None:
    """Every article of the mirror written exactly once, as its expected record; of the copies of
    one article under two URLs (the old host's and the new one's), exactly one is written."""
    expected = expected_by_url(root)
    urls = [record["url"] for record in records]
    assert len(urls) == len(set(urls)), "a page was written twice"
    assert set(urls) <= set(expected), sorted(set(urls) - set(expected))
    written = sorted(identity(expected[url]) for url in urls)
    assert written == sorted({identity(record) for record in expected.values()}), "an article is missing"
    for record in records:
        content = {name: value for name, value in record.items() if name not in CRAWL_FACTS}
        assert content == expected[record["url"]], record["url"]


@pytest.fixture(scope="session")
def mirror_url() -> Iterator[str]:
    with running_mirror(SITE) as url:
        yield url


@pytest.fixture(scope="session")
def mirror_crawl(mirror_url: str, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    """One full crawl of the served mirror, shared by the end-to-end tests."""
    return run_crawl(tmp_path_factory.mktemp("crawl"), "-a", f"mirror={mirror_url}")


@pytest.fixture
def crawl_runner(mirror_url: str, tmp_path: Path) -> Callable[..., CrawlResult]:
    def crawl(*arguments: str) -> CrawlResult:
        return run_crawl(tmp_path, "-a", f"mirror={mirror_url}", *arguments)

    return crawl
