"""End to end: the real spider, settings and pipelines crawl the mirror served on loopback."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from datetime import datetime
from itertools import pairwise
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.crawling.extensions import empty_row
from cnis_crawler.extraction import RUNGS
from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import (
    FOUND_NEWS_SECTIONS,
    PROFILES_SECTION,
    SITE,
    article_pages,
    assert_one_record_per_article,
    expected_by_url,
    folders_linked,
    identity,
    mirror_news_sections,
    part_pages,
)
from tests.crawling import command_status, run_crawl

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.crawling import CrawlResult

    CrawlRunner = Callable[..., CrawlResult]

# Listed on the kycg listing page, absent from the mirror: a 404 that must end as a counted drop.
MISSING_ARTICLE = "https://en.cnis.ac.cn/kycg/202001/t20200115_41950.shtml"
PROFILE_PAGE = "https://en.cnis.ac.cn/bzygk_329/yjjg/201312/t20131231_35948.shtml"


def listing_files(section_key: str) -> list[Path]:
    return sorted((SITE / section_key).glob("index*.*html"))


def test_crawl_succeeds(mirror_crawl: CrawlResult) -> None:
    assert mirror_crawl.returncode == 0, mirror_crawl.log[-3000:]
    assert mirror_crawl.summary["finish_reason"] == "finished"


def test_every_fixture_article_exactly_once_as_its_expected_json(mirror_crawl: CrawlResult) -> None:
    assert_one_record_per_article(mirror_crawl.records)


def test_crawl_facts_of_a_first_crawl(mirror_crawl: CrawlResult) -> None:
    for record in mirror_crawl.records:
        assert datetime.fromisoformat(record["fetched_at"]).utcoffset().total_seconds() == 0
        assert set(record["extracted_by"]) == set(RUNGS)
        assert (record["key"], record["version"], record["change"]) == (
            f"{record['site']}/{record['doc_id']}",
            1,
            "new",
        )


def test_no_record_for_listing_profile_or_missing_pages(mirror_crawl: CrawlResult) -> None:
    urls = {record["url"] for record in mirror_crawl.records}
    assert not {url for url in urls if re.search(r"/index(_\d+)?\.s?html$", url)}
    assert PROFILE_PAGE not in urls
    assert MISSING_ARTICLE not in urls


def test_only_listings_articles_and_robots_are_fetched(mirror_crawl: CrawlResult) -> None:
    """No attachment, profile or off-site request: exactly one request per page that should be
    read, and the first page of each folder the pages link, once."""
    listings = sum(len(listing_files(section)) for section in mirror_news_sections())
    parts = sum(len(part_pages(page)) for page in article_pages())
    stats = mirror_crawl.summary["stats"]
    assert stats["discovery/home_pages_read"] == 3
    assert stats["discovery/folders_read"] == len(folders_linked())
    # The found news sections' first pages are among the listings.
    folders = len(folders_linked()) - len(FOUND_NEWS_SECTIONS)
    wanted = 1 + 3 + listings + len(article_pages()) + parts + 1 + folders  # robots.txt, home pages, the 404
    assert stats["downloader/request_count"] == wanted


def test_per_section_accounting(mirror_crawl: CrawlResult) -> None:
    sections = mirror_crawl.summary["sections"]
    assert sorted(sections) == sorted([*mirror_news_sections(), PROFILES_SECTION])
    for section in mirror_news_sections():
        articles = [p for p in article_pages() if p.is_relative_to(SITE / section)]
        missing = 1 if MISSING_ARTICLE.startswith(f"https://{section}/") else 0
        row = sections[section]
        assert row["records"] + row["aliases"] == len(articles), section
        found = section in FOUND_NEWS_SECTIONS
        assert row == {
            "section": "crawled" if found else "known",
            "why": row["why"] if found else "a section of site.py",
            "first_page_articles": 5,
            "listing_pages_declared": len(listing_files(section)),
            "listing_pages_fetched": len(listing_files(section)),
            "listing_pages_failed": 0,
            "articles_linked": len(articles) + missing,
            "skipped_known": 0,
            "records": row["records"],
            "unchanged": 0,
            "aliases": row["aliases"],
            "disagreements": 0,  # every page states the title and date its listing shows
            "dropped": {"Gone": 1} if missing else {},
            "unaccounted": 0,
        }, section
    assert sections[PROFILES_SECTION] == empty_row() | {
        "section": "skipped",
        "why": "About CNIS: profiles",
        "first_page_articles": 2,
        "unaccounted": 0,
    }


def test_pages_and_listings_agree_on_every_title_and_date(mirror_crawl: CrawlResult) -> None:
    """The listings' second witness finds nothing to contradict in the mirror: no count, no log."""
    stats = mirror_crawl.summary["stats"]
    assert not [key for key in stats if key.startswith("extraction/disagreement/")]
    assert "Page and listing disagree" not in mirror_crawl.log
    for section in mirror_news_sections():  # the closing table has the column, all 0
        assert closing_row(mirror_crawl.log, section)["disagreements"] == "0", section


def test_copies_on_the_old_host_are_aliases(mirror_crawl: CrawlResult) -> None:
    expected = expected_by_url()
    identities = Counter(identity(record) for record in expected.values())
    copies = {url for url, record in expected.items() if identities[identity(record)] > 1}
    assert len(copies) == 4  # two articles, each on en.cnis.gov.cn and on en.cnis.ac.cn
    # The old host is crawled last: its copies are the aliases, the current host's the records.
    assert copies & {record["url"] for record in mirror_crawl.records} == {
        url for url in copies if url.startswith("https://en.cnis.ac.cn/")
    }
    assert mirror_crawl.summary["stats"]["incremental/aliases"] == 2
    assert mirror_crawl.summary["stats"]["item_dropped_reasons_count/Alias"] == 2


def test_drops_are_counted_by_reason_and_logged_with_their_url(mirror_crawl: CrawlResult) -> None:
    stats = mirror_crawl.summary["stats"]
    assert stats["item_dropped_reasons_count/Gone"] == 1
    assert stats["item_dropped_count"] == 1 + stats["item_dropped_reasons_count/Alias"]
    assert f"HTTP 404: {MISSING_ARTICLE}" in mirror_crawl.log
    assert "Per-section accounting" in mirror_crawl.log


def test_output_is_utf8_json_lines_with_chinese_as_characters(mirror_crawl: CrawlResult) -> None:
    lines = mirror_crawl.raw_output.split(b"\n")
    assert lines[-1] == b"", "the file ends with a complete line"
    assert all(json.loads(line) for line in lines[:-1])
    assert "中国标准化研究院".encode() in mirror_crawl.raw_output
    assert b"\\u" not in mirror_crawl.raw_output


def test_sites_argument_and_dash_capital_o(crawl_runner: CrawlRunner) -> None:
    result = crawl_runner("-a", "sites=en.cnis.gov.cn", "-O", "old-site.jsonl")
    assert result.returncode == 0, result.log[-3000:]
    written = (result.workdir / "old-site.jsonl").read_text(encoding="utf-8").splitlines()
    expected = sorted(url for url in expected_by_url() if url.startswith("http://en.cnis.gov.cn/"))
    assert sorted(json.loads(line)["url"] for line in written) == expected
    # As in any Scrapy project with FEEDS set: -O adds its feed, the per-run file is written too.
    assert sorted(record["url"] for record in result.records) == expected


def test_unknown_site_is_a_clear_error(crawl_runner: CrawlRunner) -> None:
    result = crawl_runner("-a", "sites=cnis.example")
    assert "unknown site(s) ['cnis.example']; known sites: en.cnis.ac.cn" in result.log
    assert not result.records


PROGRESS_LINE = re.compile(
    r"^(?P<section>\S+): listing pages (?P<read>\d+)/(?P<declared>\d+), linked (?P<linked>\d+),"
    r" written (?P<written>\d+), known \d+, same \d+, alias \d+, dropped (?P<dropped>\d+), pending \d+$"
)


def test_progress_is_logged_per_section_while_crawling(crawl_runner: CrawlRunner) -> None:
    result = crawl_runner("-s", "CNIS_PROGRESS_INTERVAL=0.05", "-s", "DOWNLOAD_DELAY=0.01")
    assert result.returncode == 0, result.log[-3000:]
    reports = re.findall(r"Progress after \d+ s, sections that moved:\n((?:\S+: listing .*\n)+)", result.log)
    assert len(reports) >= 3, result.log[-3000:]
    seen: dict[str, list[tuple[int, ...]]] = {}
    for report in reports:
        for line in report.splitlines():
            match = PROGRESS_LINE.match(line)
            assert match, line
            counts = tuple(int(match[name]) for name in ("read", "declared", "linked", "written", "dropped"))
            seen.setdefault(match["section"], []).append(counts)
    final = result.summary["sections"]
    assert set(seen) == set(final), "every section reports its progress"
    for section, reported in seen.items():
        row = final[section]
        at_close = (
            row["listing_pages_fetched"],
            row["listing_pages_declared"],
            row["articles_linked"],
            row["records"],
            sum(row["dropped"].values()),
        )
        for earlier, later in pairwise([*reported, at_close]):
            assert all(before <= after for before, after in zip(earlier, later, strict=True)), section


@pytest.mark.parametrize("feed", ["news.jsonl", "output/cnis-mine.jsonl"])
def test_a_feed_the_export_cannot_see_makes_nothing_known(feed: str, crawl_runner: CrawlRunner) -> None:
    """Records only a user's own feed took (here -s FEEDS={} -O file, also one named almost like
    a run file; Scrapyd's items_dir alike) are in no run file: the state does not count them, so
    the next crawl writes them there."""
    result = crawl_runner("-a", "sites=en.cnis.gov.cn", "-s", "FEEDS={}", "-O", feed)
    assert result.returncode == 0, result.log[-3000:]
    assert len((result.workdir / feed).read_text(encoding="utf-8").splitlines()) == 8
    assert "No feed writes run files (output/cnis-*.jsonl) beside the crawl state" in result.log
    assert "8 records are in no run file stored: the next run fetches them again" in result.log
    again = crawl_runner("-a", "sites=en.cnis.gov.cn")
    assert again.returncode == 0, again.log[-3000:]
    assert len(again.records) == 8
    assert command_status(["export", "--output", str(result.workdir / "output")]) == 0


def test_the_default_feeds_are_run_files(mirror_crawl: CrawlResult) -> None:
    assert "No feed writes run files" not in mirror_crawl.log


def closing_row(log: str, section: str) -> dict[str, str]:
    """A section's row of the per-section table logged at the close, by column heading."""
    table = log.split("Per-section accounting", 1)[1].splitlines()
    heading = next(line for line in table if line.startswith("section "))
    row = next(line for line in table if line.startswith(f"{section} "))
    return dict(zip(heading.split(), row.split(), strict=False))


def test_a_listing_that_contradicts_its_pages_is_counted_and_the_pages_win(tmp_path: Path) -> None:
    """On a copy of the mirror, one listing item prints another day and one another title: the
    crawl writes the pages' values and says where page and listing disagree."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    listing = root / "en.cnis.ac.cn" / "xwdt" / "bydt" / "index.shtml"
    html = listing.read_text(encoding="utf-8")
    changes = [
        (
            '<span class="list_date">2024-03-29</span><a href="./202403/t20240329_57887.shtml"',
            '<span class="list_date">2024-03-28</span><a href="./202403/t20240329_57887.shtml"',
        ),
        (
            'title="Sixth ISSCC Plenary Meeting held in Hangzhou"',
            'title="ISSCC secretariat moves to Beijing"',
        ),
        (">Sixth ISSCC Plenary Meeting held in Ha...</a>", ">ISSCC secretariat moves to Be...</a>"),
    ]
    for old, new in changes:
        assert html.count(old) == 1, old
        html = html.replace(old, new)
    listing.write_text(html, encoding="utf-8")
    with running_mirror(root) as url:
        result = run_crawl(tmp_path / "crawl", "-a", f"mirror={url}")
    assert result.returncode == 0, result.log[-3000:]
    dated = "https://en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml"
    titled = "https://en.cnis.ac.cn/xwdt/bydt/202211/t20221128_53416.shtml"
    written = {record["url"]: record for record in result.records}
    expected = expected_by_url()
    for page in (dated, titled):
        assert (written[page]["title"], written[page]["date"]) == (
            expected[page]["title"],
            expected[page]["date"],
        )
    disagreements = {
        key: value for key, value in result.stats.items() if key.startswith("extraction/disagreement/")
    }
    assert disagreements == {"extraction/disagreement/date": 1, "extraction/disagreement/title": 1}
    assert (
        f"Page and listing disagree on the date of {dated}: page '2024-03-29', listing '2024-03-28'"
        in result.log
    )
    assert (
        f"Page and listing disagree on the title of {titled}:"
        " page 'Sixth ISSCC Plenary Meeting held in Hangzhou',"
        " listing 'ISSCC secretariat moves to Beijing / ISSCC secretariat moves to Be...'" in result.log
    )
    assert result.summary["sections"]["en.cnis.ac.cn/xwdt/bydt"]["disagreements"] == 2
    assert closing_row(result.log, "en.cnis.ac.cn/xwdt/bydt")["disagreements"] == "2"
    assert closing_row(result.log, "en.cnis.ac.cn/kycg")["disagreements"] == "0"
