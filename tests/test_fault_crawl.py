"""A crawl of a failing site: every listed article ends as a record or a counted drop with its reason.

One crawl of the mirror with a fault on each of 15 articles and 3 listing pages (the kinds of
``cnis_crawler/faults.py``), then the accounting: per faulted article its outcome, per section
articles linked = records + aliases + drops by reason, and no error page or file among the records.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import SITE, expected_by_url
from tests.crawling import run_crawl
from tests.tooling.fault_mirror import running_mirror
from tests.tooling.faults import requests_seen

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

EN, ZH, OLD = "https://en.cnis.ac.cn", "https://www.cnis.ac.cn", "http://en.cnis.gov.cn"
# Live URL → (fault, what must become of the article: "record", "alias" or a drop's reason).
ARTICLE_FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    f"{EN}/xwdt/bydt/201812/t20181205_37890.shtml": (
        {"kind": "status", "statuses": [503, 502], "then": "serve"}, "record"),
    f"{EN}/xwdt/bydt/201906/t20190618_39415.shtml": ({"kind": "status", "statuses": [500]}, "FetchFailed"),
    f"{EN}/xwdt/bydt/201910/t20191014_40530.shtml": ({"kind": "timeout"}, "FetchFailed"),
    f"{EN}/xwdt/bydt/202009/t20200910_44210.shtml": (
        {"kind": "reset", "after_bytes": 2000, "times": 1}, "record"),
    f"{EN}/xwdt/bydt/202103/t20210316_46012.shtml": ({"kind": "truncate"}, "FetchFailed"),
    f"{EN}/xwdt/bzhdt/201810/t20181012_37345.shtml": ({"kind": "status", "statuses": [404]}, "Gone"),
    f"{EN}/xwdt/bzhdt/202001/t20200109_41876.shtml": ({"kind": "soft404", "lang": "en"}, "NotFoundPage"),
    f"{ZH}/bydt/zhxw/201504/t20150422_31876.html": ({"kind": "soft404", "lang": "zh"}, "NotFoundPage"),
    f"{OLD}/xwdt/bydt/201801/t20180126_23388.shtml": (
        {"kind": "redirect", "to": "/en.cnis.ac.cn/xwdt/bydt/201801/t20180126_36026.shtml", "status": 301},
        "alias"),
    f"{EN}/xwdt/bzhdt/202208/t20220830_52105.shtml": (
        {"kind": "redirect", "to": f"{EN}/xwdt/bzhdt/202208/t20220830_52105.shtml"}, "Redirected"),
    f"{EN}/xwdt/bzhdt/202310/t20231025_56240.shtml": ({"kind": "redirect_loop"}, "Redirected"),
    f"{EN}/zdxw/201809/t20180914_37120.shtml": ({"kind": "empty"}, "EmptyBody"),
    f"{EN}/zdxw/201908/t20190820_40012.shtml": ({"kind": "pdf"}, "NotHtml"),
    f"{ZH}/bydt/kydt/201603/t20160310_33918.html": ({"kind": "encoding", "actual": "gb18030"}, "record"),
    f"{ZH}/tzgg/201709/t20170906_37214.html": ({"kind": "huge", "megabytes": 10}, "record"),
}  # fmt: skip
LISTING_FAULTS = {
    # Every article of that page is still linked: a retried listing page loses nothing.
    f"{EN}/kycg/index.shtml": {"kind": "status", "statuses": [503], "then": "serve"},
    # The last page claims 4 pages: the page after it is a 404, its section's listing unfinished.
    f"{ZH}/tzgg/index_1.html": {"kind": "pager", "declare": 4},
    f"{ZH}/bydt/kydt/index.html": {"kind": "encoding", "actual": "gb18030"},
}
UNFAULTED_404 = "https://en.cnis.ac.cn/kycg/202001/t20200115_41950.shtml"  # the mirror's own
FAST = (
    *("-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_TIMES=2"),
    *("-s", "CNIS_RETRY_BACKOFF_BASE=0.05", "-s", "CNIS_RETRY_BACKOFF_MAX=0.2"),
    # The faults above drop a fifth of the demo mirror: above what a real site may lose.
    *("-s", "CNIS_MAX_DROP_SHARE=0.5"),
)


def mirror_path(live_url: str) -> str:
    return "/" + live_url.split("://", 1)[1]


@pytest.fixture(scope="module")
def faulty_crawl(tmp_path_factory: pytest.TempPathFactory) -> tuple[CrawlResult, dict[str, list[Any]]]:
    faults = {mirror_path(url): fault for url, (fault, _) in ARTICLE_FAULTS.items()}
    faults |= {mirror_path(url): fault for url, fault in LISTING_FAULTS.items()}
    with running_mirror(SITE, faults=faults) as url:
        result = run_crawl(tmp_path_factory.mktemp("faults"), "-a", f"mirror={url}", *FAST)
        seen = requests_seen(url)
    return result, seen


def outcomes(result: CrawlResult) -> dict[str, str]:
    """What became of each URL: "record", "alias" (a page of an article recorded under another
    URL) or the reason it was dropped, from the records and the crawl state."""
    found = {record["url"]: "record" for record in result.records}
    db = sqlite3.connect(result.workdir / "output" / "state.sqlite")
    try:
        found |= dict(db.execute("SELECT url, reason FROM failures").fetchall())
        for url, key in db.execute("SELECT pages.url, pages.key FROM pages"):
            if url not in found:
                found[url] = "alias" if key else "?"
    finally:
        db.close()
    return found


def test_every_faulted_article_ends_as_a_record_or_a_drop_with_its_reason(
    faulty_crawl: tuple[CrawlResult, dict[str, list[Any]]],
) -> None:
    result, _ = faulty_crawl
    assert result.summary["finish_reason"] == "finished", result.log[-3000:]
    found = outcomes(result)
    assert {url: found.get(url) for url in ARTICLE_FAULTS} == {
        url: outcome for url, (_, outcome) in ARTICLE_FAULTS.items()
    }


def test_every_other_article_is_written_as_expected(
    faulty_crawl: tuple[CrawlResult, dict[str, list[Any]]],
) -> None:
    result, _ = faulty_crawl
    expected = expected_by_url()
    written = {record["url"]: record for record in result.records}
    for url, (_, outcome) in ARTICLE_FAULTS.items():
        if outcome == "record":  # a recovered, re-encoded or padded page: the same record
            assert {name: written[url][name] for name in ("title", "date", "source", "body")} == {
                name: expected[url][name] for name in ("title", "date", "source", "body")
            }, url
    untouched = set(expected) - set(ARTICLE_FAULTS) - {UNFAULTED_404}
    old_host_copies = {url for url in untouched if url.startswith(OLD)} - set(written)
    assert untouched - set(written) == old_host_copies  # aliases of en.cnis.ac.cn articles
    assert outcomes(result)[UNFAULTED_404] == "Gone"


def test_per_section_articles_linked_are_records_aliases_and_drops(
    faulty_crawl: tuple[CrawlResult, dict[str, list[Any]]],
) -> None:
    result, _ = faulty_crawl
    sections = result.summary["sections"]
    for section, row in sections.items():
        settled = row["records"] + row["aliases"] + row["unchanged"] + row["skipped_known"]
        assert row["articles_linked"] == settled + sum(row["dropped"].values()), section
        assert row["unaccounted"] == 0, section
    drops = sum((Counter(row["dropped"]) for row in sections.values()), Counter())
    expected = Counter(
        outcome for _, outcome in ARTICLE_FAULTS.values() if outcome not in ("record", "alias")
    )
    assert drops == expected + Counter(Gone=1)
    tzgg = sections["www.cnis.ac.cn/tzgg"]
    assert (tzgg["listing_pages_declared"], tzgg["listing_pages_fetched"], tzgg["listing_pages_failed"]) == (
        4, 2, 1)  # fmt: skip
    kycg = sections["en.cnis.ac.cn/kycg"]
    assert (kycg["articles_linked"], kycg["listing_pages_failed"]) == (6, 0)


def test_no_error_page_or_file_becomes_a_record(
    faulty_crawl: tuple[CrawlResult, dict[str, list[Any]]],
) -> None:
    result, _ = faulty_crawl
    for record in result.records:
        text = record["title"] + record["body"]
        assert not any(marker in text for marker in ("does not exist", "页面不存在", "%PDF", "404")), record[
            "url"
        ]


def test_transient_errors_were_retried(faulty_crawl: tuple[CrawlResult, dict[str, list[Any]]]) -> None:
    _, seen = faulty_crawl
    answers = {url: [request["answer"] for request in seen[mirror_path(url)]] for url in ARTICLE_FAULTS}
    assert answers[f"{EN}/xwdt/bydt/201812/t20181205_37890.shtml"] == ["503", "502", "serve"]
    assert answers[f"{EN}/xwdt/bydt/201906/t20190618_39415.shtml"] == ["500"] * 3  # RETRY_TIMES 2
    assert answers[f"{EN}/xwdt/bydt/202009/t20200910_44210.shtml"] == ["reset", "serve"]
    assert len(answers[f"{EN}/xwdt/bydt/202103/t20210316_46012.shtml"]) == 3
    assert [request["answer"] for request in seen[mirror_path(f"{EN}/kycg/index.shtml")]] == ["503", "serve"]


def test_a_second_run_retries_only_what_may_pass(
    faulty_crawl: tuple[CrawlResult, dict[str, list[Any]]], tmp_path: Path
) -> None:
    """Without faults, the next run fetches again the pages dropped for a passing reason (and the
    unfinished listing), not those the server said are gone or are no article."""
    result, _ = faulty_crawl
    with running_mirror(SITE) as url:
        again = run_crawl(result.workdir, "-a", f"mirror={url}", *FAST)
    assert again.returncode == 0, again.log[-3000:]
    passing = {url for url, (_, outcome) in ARTICLE_FAULTS.items() if outcome == "FetchFailed"}
    assert {record["url"] for record in again.records} == passing


BROKEN_LISTINGS = {
    "/en.cnis.ac.cn/xwdt/bydt/index_1.shtml": {"kind": "empty"},
    "/www.cnis.ac.cn/bydt/zhxw/index_1.html": {"kind": "soft404"},
    # Reached first through a redirect from another section, then under its own URL.
    "/en.cnis.ac.cn/zdxw/201809/t20180914_37120.shtml": {
        "kind": "redirect", "to": "/en.cnis.ac.cn/kycg/202105/t20210525_46830.shtml"},
    "/en.cnis.ac.cn/kycg/202105/t20210525_46830.shtml": {"kind": "timeout", "seconds": 1.5, "times": 1},
}  # fmt: skip


def test_a_broken_listing_page_is_a_failure_and_the_next_run_reads_past_it(tmp_path: Path) -> None:
    with running_mirror(SITE, faults=BROKEN_LISTINGS) as url:
        broken = run_crawl(tmp_path, "-a", f"mirror={url}", *FAST)
    sections = broken.summary["sections"]
    for key in ("en.cnis.ac.cn/xwdt/bydt", "www.cnis.ac.cn/bydt/zhxw"):
        # Both pages fetched, the second one unreadable.
        assert (sections[key]["listing_pages_fetched"], sections[key]["listing_pages_failed"]) == (2, 1), key
    assert f"Listing page failed (no article linked): {EN}/xwdt/bydt/index_1.shtml" in broken.log
    assert "(an error page (not found) served with status 200)" in broken.log
    assert {key: row["unaccounted"] for key, row in sections.items() if row["unaccounted"]} == {}
    assert outcomes(broken)[f"{EN}/zdxw/201809/t20180914_37120.shtml"] == "alias"
    with running_mirror(SITE) as url:
        repaired = run_crawl(tmp_path, "-a", f"mirror={url}", *FAST)
    found = outcomes(repaired)  # the state after both runs
    for key in ("en.cnis.ac.cn/xwdt/bydt", "www.cnis.ac.cn/bydt/zhxw"):
        listed = {url for url in expected_by_url() if url.startswith(f"https://{key}/")}
        # Two of them are aliases: their old-host copies were written while they were unlisted.
        assert {url: found.get(url) for url in listed if found.get(url) not in ("record", "alias")} == {}
    assert {record["url"] for record in repaired.records} & set(expected_by_url())
