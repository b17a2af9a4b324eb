"""The large synthetic mirror of ``benchmarks/big_mirror.py`` is a mirror the crawler can read."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from benchmarks import big_mirror
from cnis_crawler.extraction import extract_article, extract_listing
from cnis_crawler.site import HOSTS, SECTIONS, Section
from cnis_crawler.urls import listing_page_url, parse_article_url

if TYPE_CHECKING:
    from pathlib import Path

    from cnis_crawler.urls import ArticleUrl

ARTICLES = 300


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, big_mirror.GeneratedMirror]:
    out = tmp_path_factory.mktemp("big") / "site"
    return out, big_mirror.generate(out, ARTICLES, seed=7)


def mirror_file(root: Path, url: str) -> Path:
    return root / url.split("://", 1)[1]


def parsed(url: str) -> ArticleUrl:
    article = parse_article_url(url)
    assert article is not None, url
    return article


def test_counts_and_article_urls(mirror: tuple[Path, big_mirror.GeneratedMirror]) -> None:
    root, result = mirror
    records = big_mirror.load_records(root)
    assert result.total_articles == len(records) == ARTICLES
    assert set(result.articles) == {section.key for section in SECTIONS}
    assert len({(r.host, r.doc_id) for r in records}) == ARTICLES
    for record in records:
        article = parsed(record.live_url)
        assert (article.section.key, article.doc_id) == (f"{record.host}/{record.section}", record.doc_id)
        assert mirror_file(root, record.live_url).is_file()
    assert (root / "robots.txt").read_text() == "User-agent: *\nDisallow: /private/\n"
    assert not list(root.rglob("*.expected.json"))


@pytest.mark.parametrize("section", SECTIONS, ids=lambda section: section.key)
def test_listings_are_paged_by_twenty(
    mirror: tuple[Path, big_mirror.GeneratedMirror], section: Section
) -> None:
    root, result = mirror
    files = list((root / section.host / section.path).glob(f"index*.{HOSTS[section.host].extension}"))
    assert len(files) == result.listing_pages[section.key]
    listed: list[str] = []
    for page in range(len(files)):
        url = listing_page_url(section, page)
        listing = extract_listing(mirror_file(root, url).read_text(encoding="utf-8"), url)
        assert listing.declared_pages == len(files)
        assert len(listing.page_urls) == len(files)
        if page == 0:
            assert len(listing.article_links) == min(20, result.articles[section.key])
        listed += [link.url for link in listing.article_links]
    assert len(listed) == len(set(listed)) == result.articles[section.key]
    assert all(mirror_file(root, url).is_file() for url in listed)
    dates = [parsed(url).url_date for url in listed]
    assert dates == sorted(dates, reverse=True)


def test_extract_article_reads_what_was_generated(mirror: tuple[Path, big_mirror.GeneratedMirror]) -> None:
    root, _ = mirror
    records = big_mirror.load_records(root)
    for record in records[::25]:
        html = mirror_file(root, record.live_url).read_text(encoding="utf-8")
        fields = extract_article(html, record.live_url)
        expected = (record.title, record.subtitle, record.date, record.expected_source)
        assert (fields.title, fields.subtitle, fields.date, fields.source) == expected, record.live_url
        assert fields.body == "\n\n".join(record.article().paragraphs), record.live_url


def test_add_and_edit_articles(tmp_path: Path) -> None:
    root = tmp_path / "site"
    big_mirror.generate(root, 60, seed=3)
    added = big_mirror.add_articles(root, 12, seed=4)
    assert len(added) == 12
    for section in SECTIONS:
        new_here = sorted((url for url in added if parsed(url).section == section), reverse=True)
        url = listing_page_url(section, 0)
        first_page = extract_listing(mirror_file(root, url).read_text(encoding="utf-8"), url)
        assert [link.url for link in first_page.article_links][: len(new_here)] == new_here

    paths = {r.live_url: mirror_file(root, r.live_url) for r in big_mirror.load_records(root)}
    before = {url: (path.read_bytes(), os.stat(path).st_mtime_ns) for url, path in paths.items()}
    edited = big_mirror.edit_articles(root, 5, seed=5)
    assert len(set(edited)) == 5
    for url, path in paths.items():
        content, mtime = before[url]
        if url in edited:
            assert path.read_bytes() != content
            assert path.stat().st_mtime_ns == mtime + 5_000_000_000
        else:
            assert path.read_bytes() == content
