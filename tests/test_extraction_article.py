"""Every fixture article, every field: the extracted record against its hand-checked expectation.

Pages are decoded from their bytes by Scrapy (as on the wire) and turned into records by the
extraction pipeline, without a crawl. A failure names the page and the field.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import pytest

from cnis_crawler.crawling.items import Article, FetchedPage, record_of
from cnis_crawler.crawling.pipelines import ExtractArticlePipeline
from cnis_crawler.extraction import RUNGS, Listed, extract_article, extract_listing
from tests.conftest import (
    CRAWL_FACTS,
    SITE,
    article_pages,
    expected_record,
    live_url,
    page_id,
    page_text,
    part_pages,
)

if TYPE_CHECKING:
    from pathlib import Path

PAGES = article_pages()
# Every exported field but the crawl facts (fetch time, rungs), which pages do not determine.
FIELDS = (
    "url", "site", "lang", "section", "title", "subtitle", "date", "date_source", "url_date",
    "source", "body", "attachments", "standards", "committees", "doc_id", "content_hash",
)  # fmt: skip


@cache
def listed_articles(root: Path = SITE) -> dict[str, Listed]:
    """What each article's listing page shows for it (title, text, date), as the spider passes
    it on: the first listing that links it."""
    listed: dict[str, Listed] = {}
    for listing in sorted(root.rglob("index*.*html")):
        for link in extract_listing(page_text(listing, root), live_url(listing, root)).article_links:
            if link.listed is not None:
                listed.setdefault(link.url, link.listed)
    return listed


@cache
def extracted_record(page: Path, root: Path = SITE) -> dict[str, Any]:
    """The record the pipeline makes of a mirror page (and its continuation pages)."""
    url = live_url(page, root)
    fetched = FetchedPage(
        url=url,
        fetched_at="2026-01-01T00:00:00Z",
        html=page_text(page, root),
        continuations=[page_text(part, root) for part in part_pages(page)],
        listed=listed_articles(root).get(url),
    )
    article = ExtractArticlePipeline().article_of(fetched)
    assert isinstance(article, Article)
    return record_of(article)


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_field(page: Path, field: str) -> None:
    expected = expected_record(page)
    assert field in expected, f"{page_id(page)}: expected record has no {field!r}; run `make fixtures`"
    got = extracted_record(page)[field]
    assert got == expected[field], f"{page_id(page)}: field {field!r} differs from its .expected.json"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_no_missing_or_extra_fields(page: Path) -> None:
    record = extracted_record(page)
    produced, expected = set(record) - set(CRAWL_FACTS), set(expected_record(page))
    assert produced == expected, (
        f"{page_id(page)}: missing {sorted(expected - produced)}, extra {sorted(produced - expected)}"
    )


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_record_names_the_rung_of_every_field(page: Path) -> None:
    extracted_by = extracted_record(page)["extracted_by"]
    assert set(extracted_by) == set(RUNGS)
    for name, rung in extracted_by.items():
        assert rung in (*RUNGS[name], None), f"{page_id(page)}: unknown rung {rung!r} for {name}"
        assert (rung is None) == (extracted_record(page)[name] is None), f"{page_id(page)}: {name}"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_page_agrees_with_its_listing(page: Path) -> None:
    """Every fixture article is listed (cut title, whole title, date) as its page states it."""
    url = live_url(page)
    listed = listed_articles().get(url)
    assert listed is not None, f"{page_id(page)}: not listed"
    assert listed.date, f"{page_id(page)}: listed without a date"
    fields = extract_article(page_text(page), url, listed, [page_text(part) for part in part_pages(page)])
    assert fields.disagreements == (), f"{page_id(page)}: page and listing disagree ({listed})"
