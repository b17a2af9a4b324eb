"""The mirror is complete and current: every section has fixtures, every article its expectation."""

from __future__ import annotations

import filecmp
import importlib.util
import sys
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.site import HOSTS, SECTIONS, Section
from tests.conftest import FIXTURES, SITE, article_pages, expected_path, page_id

if TYPE_CHECKING:
    from pathlib import Path


def test_at_least_sixty_article_pages() -> None:
    assert len(article_pages()) >= 60


@pytest.mark.parametrize("page", article_pages(), ids=page_id)
def test_every_article_page_has_an_expected_record(page: Path) -> None:
    assert expected_path(page).is_file(), (
        f"Missing test data: {page_id(page)} has no {expected_path(page).name}; "
        "add the article to tests/fixtures/source/*.json and run `make fixtures`"
    )


@pytest.mark.parametrize("section", SECTIONS, ids=lambda section: section.key)
def test_every_section_has_listing_and_article_pages(section: Section) -> None:
    folder = SITE / section.host / section.path
    extension = HOSTS[section.host].extension
    assert (folder / f"index.{extension}").is_file(), f"no first listing page for {section.key}"
    assert any(page.is_relative_to(folder) for page in article_pages()), f"no article in {section.key}"


def test_sections_with_three_or_more_listing_pages() -> None:
    deep = [s for s in SECTIONS if len(list((SITE / s.host / s.path).glob("index_*"))) >= 2]
    assert len(deep) >= 2


def test_committed_mirror_matches_its_generator(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_mirror", FIXTURES / "build_mirror.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    module.build(tmp_path / "site")
    comparison = filecmp.dircmp(SITE, tmp_path / "site")
    stale = _differences(comparison)
    assert not stale, f"tests/fixtures/site is stale, run `make fixtures`: {stale[:10]}"


def _differences(comparison: filecmp.dircmp[str], prefix: str = "") -> list[str]:
    found = [f"{prefix}{name}" for name in comparison.left_only + comparison.right_only]
    _, mismatch, errors = filecmp.cmpfiles(
        comparison.left, comparison.right, comparison.common_files, shallow=False
    )
    found += [f"{prefix}{name}" for name in mismatch + errors]
    for name, sub in comparison.subdirs.items():
        found += _differences(sub, f"{prefix}{name}/")
    return found
