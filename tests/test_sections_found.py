"""Sections found on the sites, end to end: read only with the default ``-a sections=all``, taken
up by a state that knew none, said to be gone when the site drops them, and failed when they
break while still linked."""

from __future__ import annotations

import re
import shutil
from typing import TYPE_CHECKING

from cnis_crawler.crawling.commands.crawl import UNHEALTHY_EXIT_STATUS
from cnis_crawler.crawling.health import SECTION_EMPTY
from cnis_crawler.memory.state import CrawlState
from cnis_crawler.site import SECTIONS
from cnis_crawler.tools.report import gather, render
from cnis_crawler.urls import section_of
from tests.conftest import FOUND_NEWS_SECTIONS, PROFILES_SECTION, SITE, mirror_news_sections
from tests.crawling import run_crawl
from tests.tooling.fault_mirror import running_mirror

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

COLUMN = "en.cnis.ac.cn/xwdt/gjhz"
"""The found column under News, linked by the English menu on every page."""


def section_keys(records: list[dict[str, object]]) -> set[str]:
    return {section.key for record in records if (section := section_of(str(record["url"]))) is not None}


def told(crawl: CrawlResult, key: str) -> tuple[str, str]:
    row = crawl.summary["sections"][key]
    return row["section"], row["why"]


def test_sections_known_reads_site_py_alone_and_a_later_run_takes_up_what_it_finds(
    mirror_url: str, tmp_path: Path
) -> None:
    known = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-a", "sections=known")
    assert known.returncode == 0, known.log[-3000:]
    assert section_keys(known.records) == {section.key for section in SECTIONS}
    assert not [key for key in known.stats if key.startswith("discovery/")], "no home page, no folder read"
    assert sorted(known.summary["sections"]) == sorted(section.key for section in SECTIONS)
    # The same state, then every section: the found ones' articles, and nothing else, are new.
    found = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert found.returncode == 0, found.log[-3000:]
    assert section_keys(found.records) == set(FOUND_NEWS_SECTIONS)
    assert len(found.records) == 12
    assert {told(found, key)[0] for key in FOUND_NEWS_SECTIONS} == {"crawled"}
    assert told(found, PROFILES_SECTION) == ("skipped", "About CNIS: profiles")


def without_column(root: Path, keep_articles: bool = False) -> None:
    """The site drops the column: its folder (or its listing only), and every link to it."""
    if not keep_articles:
        shutil.rmtree(root / COLUMN)
    for page in (root / "en.cnis.ac.cn").rglob("*.shtml"):
        html = page.read_text(encoding="utf-8")
        if "/xwdt/gjhz/" in html:
            kept = [line for line in html.splitlines(keepends=True) if "/xwdt/gjhz/" not in line]
            page.write_text("".join(kept), encoding="utf-8")


def test_a_found_section_the_site_drops_is_gone_and_the_crawl_healthy(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    with running_mirror(site) as url:
        first = run_crawl(tmp_path / "work", "-a", f"mirror={url}")
        assert told(first, COLUMN)[0] == "crawled"
        without_column(site)
        second = run_crawl(tmp_path / "work", "-a", f"mirror={url}")
    assert (second.returncode, second.summary["finish_reason"]) == (0, "finished"), second.log[-3000:]
    assert told(second, COLUMN) == (
        "gone",
        "no page links it any more and its first page failed (HTTP 404)",
    )
    assert re.search(rf"^{re.escape(COLUMN)} +gone +- ", second.log, re.MULTILINE)  # the closing table
    state = CrawlState(tmp_path / "work" / "output" / "state.sqlite")
    try:
        kinds = {verdict.key: verdict.kind for verdict in state.sections()}
    finally:
        state.close()
    assert kinds[COLUMN] == "gone"
    assert {key for key, kind in kinds.items() if kind not in ("gone", "no listing")} == {
        *(key for key in mirror_news_sections() if key != COLUMN),
        PROFILES_SECTION,
    }
    report = gather(tmp_path / "work" / "output")
    assert f'<tr class="section bad"><td>{COLUMN}</td><td>gone</td>' in render(report)
    # Its articles stay in the dataset: the site dropped the section, not the news.
    assert len([a for a in report.articles if a["url"].startswith(f"https://{COLUMN}/")]) == 6


def test_a_found_section_still_linked_whose_listing_fails_is_a_failed_section(tmp_path: Path) -> None:
    work = tmp_path / "work"
    broken = {f"/{COLUMN}/index.shtml": {"kind": "status", "statuses": [404]}}
    with running_mirror(SITE) as url:
        first = run_crawl(work, "-a", f"mirror={url}")
    with running_mirror(SITE, faults=broken) as url:
        second = run_crawl(work, "-a", f"mirror={url}")
    assert told(first, COLUMN)[0] == "crawled"
    assert second.returncode == UNHEALTHY_EXIT_STATUS, second.log[-3000:]
    assert second.summary["finish_reason"] == SECTION_EMPTY
    assert told(second, COLUMN) == ("crawled", "still linked, but its first page failed (HTTP 404)")
    assert f"{COLUMN} (still linked, but its first page failed (HTTP 404)" in second.log


def test_the_closing_table_keeps_its_columns_for_a_long_found_path(mirror_crawl: CrawlResult) -> None:
    logged = mirror_crawl.log.split("Per-section accounting", 1)[1]
    table = re.split(r"\n\d{4}-\d\d-\d\d ", logged, maxsplit=1)[0].split("\n", 1)[1]
    heading, *rows = [line for line in table.splitlines() if not line.lstrip().startswith("(")]
    assert len(rows) == len(mirror_news_sections()) + 1
    # Every count ends where its heading ends (the kind is left-aligned), whatever the path length.
    ends = [match.end() for match in re.finditer(r"\S+", heading)][2:-1]
    for row in rows:
        assert [match.end() for match in re.finditer(r"\S+", row)][2 : len(ends) + 2] == ends, row


def test_a_profile_a_listing_links_is_never_kept_to_fetch(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    listing = site / "en.cnis.ac.cn" / "kycg" / "index.shtml"
    profile = '<li><a href="/bzygk_329/yjjg/201312/t20131231_35948.shtml">Institutions</a></li>'
    listing.write_text(listing.read_text("utf-8").replace("</ul>", f"{profile}</ul>", 1), "utf-8")
    with running_mirror(site) as url:
        first = run_crawl(tmp_path / "work", "-a", f"mirror={url}")
        second = run_crawl(tmp_path / "work", "-a", f"mirror={url}")
    assert first.returncode == second.returncode == 0, second.log[-3000:]
    assert "incremental/resumed_articles" not in second.stats, "nothing left to fetch"
    state = CrawlState(tmp_path / "work" / "output" / "state.sqlite")
    try:
        assert state.pending_links() == []
    finally:
        state.close()


def test_an_article_of_a_section_gone_meanwhile_is_fetched_when_it_answers(tmp_path: Path) -> None:
    """A page of a found section failed; the section has left the site's menus since: the page is
    tried again by the next runs all the same, and written when it answers."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    article = f"/{COLUMN}/202308/t20230817_55870.shtml"
    failing = {article: {"kind": "status", "statuses": [503]}}
    options = ("-s", "CNIS_RETRY_BACKOFF_BASE=0.05")
    with running_mirror(site, faults=failing) as url:
        first = run_crawl(tmp_path / "work", "-a", f"mirror={url}", *options)
        for listing in (site / COLUMN).glob("index*.shtml"):
            listing.unlink()
        without_column(site, keep_articles=True)
        second = run_crawl(tmp_path / "work", "-a", f"mirror={url}", *options)
    with running_mirror(site) as url:
        third = run_crawl(tmp_path / "work", "-a", f"mirror={url}")
    assert first.stats["item_dropped_reasons_count/FetchFailed"] == 1
    assert told(second, COLUMN)[0] == "gone"
    assert second.stats["item_dropped_reasons_count/FetchFailed"] == 1, "tried again, failed again"
    assert [record["url"] for record in third.records] == [f"https://{article.lstrip('/')}"]


def test_an_article_of_a_found_section_without_a_breadcrumb_is_named_by_its_folder(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    page = site / COLUMN / "202406" / "t20240605_58120.shtml"
    page.write_text(
        "".join(line for line in page.read_text("utf-8").splitlines(True) if 'class="location"' not in line),
        "utf-8",
    )
    with running_mirror(site) as url:
        crawl = run_crawl(tmp_path / "work", "-a", f"mirror={url}")
    [record] = [record for record in crawl.records if record["url"].endswith("t20240605_58120.shtml")]
    assert (record["section"], record["extracted_by"]["section"]) == ("xwdt/gjhz", "url-section")
