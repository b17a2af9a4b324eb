"""Drift fixtures: every article page again in four redesigned templates, every field unchanged.

``tests/fixtures/drift/a`` … ``…/d`` (written by ``tests/fixtures/build_drift.py``) are the mirror
with its article pages in other markup and the same text (``c`` and ``d`` also print the date line
with other labels or none, in other date forms, among other metadata, and re-render the listing
pages); each page must give exactly the record of its original. A failure names the variant, the
page and the field.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.site import HOSTS
from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import (
    CRAWL_FACTS,
    FIXTURES,
    SITE,
    article_pages,
    assert_one_record_per_article,
    expected_path,
    expected_record,
)
from tests.crawling import run_crawl
from tests.fixtures import build_drift
from tests.test_extraction_article import FIELDS, extracted_record

if TYPE_CHECKING:
    from pathlib import Path

DRIFT = FIXTURES / "drift"
VARIANTS = build_drift.VARIANTS
PAGES = [page for variant in VARIANTS for page in article_pages(DRIFT / variant)]
KEPT = {
    (entry["host"], int(entry["doc_id"]))
    for source in sorted((FIXTURES / "source").glob("articles_*.json"))
    for entry in json.loads(source.read_text(encoding="utf-8"))
    if "page_breaks" in entry or "encoding" in entry
}


def drift_id(page: Path) -> str:
    return str(page.relative_to(DRIFT))


def root_of(page: Path) -> Path:
    return DRIFT / page.relative_to(DRIFT).parts[0]


def original_of(page: Path) -> Path:
    return SITE / page.relative_to(root_of(page))


def kept_original(page: Path) -> bool:
    """Pages of content entries with a page_breaks or encoding key are not redesigned."""
    record = expected_record(page)
    return (record["site"], record["doc_id"]) in KEPT


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("page", PAGES, ids=drift_id)
def test_field(page: Path, field: str) -> None:
    expected = expected_record(page)
    got = extracted_record(page, root_of(page))[field]
    assert got == expected[field], f"{drift_id(page)}: field {field!r} differs from its .expected.json"


@pytest.mark.parametrize("page", PAGES, ids=drift_id)
def test_no_missing_or_extra_fields(page: Path) -> None:
    produced = set(extracted_record(page, root_of(page))) - set(CRAWL_FACTS)
    expected = set(expected_record(page))
    assert produced == expected, (
        f"{drift_id(page)}: missing {expected - produced}, extra {produced - expected}"
    )


@pytest.mark.parametrize("page", PAGES, ids=drift_id)
def test_expected_record_is_the_originals(page: Path) -> None:
    assert expected_path(page).read_bytes() == expected_path(original_of(page)).read_bytes()


@pytest.mark.parametrize("variant", VARIANTS)
def test_variant_redesigns_articles_of_every_host(variant: str) -> None:
    pages = article_pages(DRIFT / variant)
    assert [original_of(page) for page in pages] == article_pages()
    changed = [page for page in pages if page.read_bytes() != original_of(page).read_bytes()]
    assert not [page for page in changed if kept_original(page)], "multi-page/encoding pages must stay"
    assert len(changed) == len([page for page in pages if not kept_original(page)])
    assert len(changed) >= 15
    assert {expected_record(page)["site"] for page in changed} == set(HOSTS)


def test_every_markup_change_on_several_pages_and_all_hosts() -> None:
    counts = dict.fromkeys(build_drift.FEATURES, 0)
    hosts: dict[str, set[str]] = {feature: set() for feature in build_drift.FEATURES}
    for variant in VARIANTS:
        pages = [page for page, _ in build_drift.rendered(variant)]
        assert {page.article.host for page in pages} == set(HOSTS)
        for page in pages:
            for feature in page.features:
                counts[feature] += 1
                hosts[feature].add(page.article.host)
    assert min(counts.values()) >= 3, counts
    for feature in build_drift.lb.FEATURES:  # c and d: on every host where the case makes sense
        assert hosts[feature] == build_drift.FEATURE_HOSTS.get(feature, set(HOSTS)), feature


LISTING_LINK = re.compile(r'<a href="(\./\d{6}/t\d{8}_\d+\.s?html)"')
INLINE_SCRIPT = re.compile(r"<script[^>]*>(.*?)</script>", re.DOTALL)


def pager_scripts(html: str) -> list[str]:
    return [code for code in INLINE_SCRIPT.findall(html) if "createPageHTML" in code or "countPage" in code]


def listing_pages(root: Path) -> list[Path]:
    sections = build_drift.bm.SECTIONS
    return sorted(path for s in sections for path in (root / s.host / s.path).glob("index*.*html"))


@pytest.mark.parametrize("variant", VARIANTS)
def test_listings_keep_links_order_and_pager(variant: str) -> None:
    """a and b copy the listing pages; c and d re-render them around the same links and pager."""
    originals, pages = listing_pages(SITE), listing_pages(DRIFT / variant)
    assert [page.relative_to(DRIFT / variant) for page in pages] == [o.relative_to(SITE) for o in originals]
    for page, original in zip(pages, originals, strict=True):
        html, before = page.read_text(encoding="utf-8"), original.read_text(encoding="utf-8")
        if variant not in build_drift.RELABELLED:
            assert html == before, page
            continue
        assert html != before, page
        assert LISTING_LINK.findall(html) == LISTING_LINK.findall(before), page
        assert pager_scripts(html) == pager_scripts(before) != [], page


def test_every_listing_change_on_several_pages_and_all_hosts() -> None:
    counts = dict.fromkeys(build_drift.LISTING_FEATURES, 0)
    hosts: dict[str, set[str]] = {feature: set() for feature in build_drift.LISTING_FEATURES}
    for variant in build_drift.RELABELLED:
        for listing, _ in build_drift.rendered_listings(variant):
            for feature in listing.features:
                counts[feature] += 1
                hosts[feature].add(listing.section.host)
    assert min(counts.values()) >= 3, counts
    assert all(found == set(HOSTS) for found in hosts.values()), hosts


def files(root: Path) -> dict[str, bytes]:
    return {
        path.relative_to(root).as_posix(): path.read_bytes() for path in root.rglob("*") if path.is_file()
    }


def test_committed_drift_matches_its_generator(tmp_path: Path) -> None:
    build_drift.build(tmp_path)
    built, committed = files(tmp_path), files(DRIFT)
    stale = sorted(name for name in built.keys() | committed.keys() if built.get(name) != committed.get(name))
    assert not stale, f"tests/fixtures/drift is stale, run tests/fixtures/build_drift.py: {stale[:10]}"


@pytest.mark.parametrize("variant", VARIANTS)
def test_crawl_of_variant(variant: str, tmp_path: Path) -> None:
    root = DRIFT / variant
    with running_mirror(root) as url:
        crawl = run_crawl(tmp_path, "-a", f"mirror={url}")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert_one_record_per_article(crawl.records, root)
