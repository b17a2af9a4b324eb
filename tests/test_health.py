"""An unhealthy crawl (cnis_crawler.crawling.health) closes with its own finish reason, says why in an ERROR
line and exits with status 3 (cnis_crawler.crawling.commands.crawl); a healthy one finishes and exits 0."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.utils.test import get_crawler

from cnis_crawler.crawling.commands.crawl import UNHEALTHY_EXIT_STATUS
from cnis_crawler.crawling.extensions import COUNTERS
from cnis_crawler.crawling.health import (
    MIN_FETCHED_FOR_SHARE,
    SECTION_EMPTY,
    TOO_MANY_DROPS,
    CrawlHealth,
    assess,
    finish_reason,
)
from cnis_crawler.urls import section_of
from tests.conftest import SITE, article_pages, mirror_news_sections
from tests.crawling import run_crawl
from tests.tooling.fault_mirror import running_mirror

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

HEALTH_ERROR_RE = re.compile(r"^\S+ \S+ \[cnis_crawler\.crawling\.health\] ERROR: (.*)$", re.MULTILINE)


def health_errors(result: CrawlResult) -> list[str]:
    return HEALTH_ERROR_RE.findall(result.log)


# --- The decision, on synthetic tables -----------------------------------------------------------


def row(**counts: Any) -> dict[str, Any]:
    """A row of extensions.section_table (its ``unaccounted`` is not read by the decision)."""
    return dict.fromkeys(COUNTERS, 0) | {"dropped": {}} | counts


def read(linked: int, pages: int = 1, **counts: Any) -> dict[str, Any]:
    """A section whose listing pages were read and linked ``linked`` articles."""
    return row(listing_pages_declared=pages, listing_pages_fetched=pages, articles_linked=linked, **counts)


# make demo's first crawl (README): one article gone, two aliases on the old host.
FIRST_CRAWL = {
    "en.cnis.ac.cn/kycg": read(6, 2, records=5, dropped={"Gone": 1}),
    "en.cnis.ac.cn/xwdt/bydt": read(14, 3, records=14),
    "en.cnis.ac.cn/xwdt/bzhdt": read(7, 2, records=7),
    "en.cnis.ac.cn/zdxw": read(5, 1, records=5),
    "en.cnis.gov.cn/xwdt/bydt": read(8, 2, records=6, aliases=2),
    "www.cnis.ac.cn/bydt/kydt": read(5, 1, records=5),
    "www.cnis.ac.cn/bydt/zhxw": read(12, 3, records=12),
    "www.cnis.ac.cn/tzgg": read(6, 2, records=6),
}


def test_a_first_crawl_of_the_mirror_is_healthy() -> None:
    assert assess(FIRST_CRAWL, 0.2, crawled=FIRST_CRAWL) == []


def test_an_incremental_run_that_knows_every_article_is_healthy() -> None:
    table = {key: read(5, skipped_known=5) for key in FIRST_CRAWL}
    table["www.cnis.ac.cn/tzgg"] = read(6, unchanged=6)  # revalidated: 304s
    table["en.cnis.gov.cn/xwdt/bydt"] = read(8, aliases=8)  # the old host's copies alone
    assert finish_reason(table, 0.2, crawled=table) is None


@pytest.mark.parametrize(
    ("tzgg", "why"),
    [
        (row(listing_pages_failed=1), "its listing failed, no article linked"),
        (
            row(listing_pages_fetched=1, listing_pages_failed=1),
            "its listing failed, no article linked",
        ),  # not HTML
        (read(0), "no article linked: a new template?"),
        (
            read(3, dropped={"MissingTitle": 2, "EmptyBody": 1}),
            "all 3 linked dropped: EmptyBody=1, MissingTitle=2",
        ),
        (None, "its listing was requested and never answered"),
    ],
    ids=["failed-first-listing-page", "listing-not-html", "listing-links-nothing", "all-dropped", "no-trace"],
)
def test_a_crawled_section_that_yields_nothing_is_section_empty(
    tzgg: dict[str, Any] | None, why: str
) -> None:
    table = {key: value for key, value in FIRST_CRAWL.items() if key != "www.cnis.ac.cn/tzgg"}
    if tzgg is not None:
        table["www.cnis.ac.cn/tzgg"] = tzgg
    [problem] = assess(table, 0.2, crawled=FIRST_CRAWL)
    assert problem.reason == SECTION_EMPTY
    assert "1 section(s) yielded nothing" in problem.message
    assert re.search(r": www\.cnis\.ac\.cn/tzgg \([^)]*" + re.escape(why) + r"\)$", problem.message)


def test_a_crawl_that_read_no_listing_page_points_at_the_address_first() -> None:
    """Every listing page failed (a mirror's wrong path answers 404 to all): the site did not
    change everywhere at once; the address comes first."""
    table = {key: row(listing_pages_failed=1) for key in FIRST_CRAWL}
    [problem] = assess(table, 0.2, crawled=FIRST_CRAWL)
    assert problem.message.endswith(
        "; not one listing page could be read: check the site's address (-a mirror=) first"
    )
    one_read = table | {"www.cnis.ac.cn/tzgg": read(6, 2, records=6)}
    [problem] = assess(one_read, 0.2, crawled=FIRST_CRAWL)
    assert "check the site's address" not in problem.message


def test_every_empty_section_is_named() -> None:
    table = FIRST_CRAWL | {"en.cnis.ac.cn/zdxw": read(0), "www.cnis.ac.cn/tzgg": row(listing_pages_failed=1)}
    [problem] = assess(table, 0.2)
    assert "2 section(s)" in problem.message
    assert "en.cnis.ac.cn/zdxw (" in problem.message
    assert "www.cnis.ac.cn/tzgg (" in problem.message


def test_a_section_whose_listing_was_not_crawled_is_not_judged() -> None:
    # Items counted under "unknown" (no section URL), or the sections of sites not chosen.
    table = FIRST_CRAWL | {"unknown": row(dropped={"error:KeyError": 1})}
    assert finish_reason(table, 0.2, crawled=["en.cnis.ac.cn/kycg"]) is None


def share(total: int, sections: int, n: int) -> int:
    """Section ``n``'s part of ``total`` spread over ``sections``."""
    return total // sections + (n < total % sections)


def spread(fetched: int, dropped: int, sections: int = 4, known: int = 0) -> dict[str, dict[str, Any]]:
    """``fetched`` articles over ``sections`` sections, ``dropped`` of them gone, none empty; and
    ``known`` more linked, skipped as known by an incremental run."""
    table = {}
    for n in range(sections):
        section_fetched, section_dropped = share(fetched, sections, n), share(dropped, sections, n)
        section_known = share(known, sections, n)
        assert section_dropped < section_fetched or section_known
        table[f"en.cnis.ac.cn/s{n}"] = read(
            section_fetched + section_known,
            records=section_fetched - section_dropped,
            skipped_known=section_known,
            dropped={"Gone": section_dropped},
        )
    return table


@pytest.mark.parametrize(("linked", "share"), [(20, 0.2), (100, 0.1), (30, 0.3), (63, 1 / 7)])
def test_a_drop_share_at_the_limit_is_healthy_and_one_drop_more_is_not(linked: int, share: float) -> None:
    at_limit = round(linked * share)
    assert finish_reason(spread(linked, at_limit), share) is None
    [problem] = assess(spread(linked, at_limit + 1), share)
    assert problem.reason == TOO_MANY_DROPS
    assert problem.message.startswith(
        f"{TOO_MANY_DROPS}: {at_limit + 1} of {linked} fetched articles dropped"
    )
    assert problem.message.endswith(f"more than CNIS_MAX_DROP_SHARE={share:g}: Gone={at_limit + 1}")


def test_drops_are_told_by_reason_over_every_section() -> None:
    table = spread(40, 7) | {
        "en.cnis.ac.cn/s9": read(10, records=6, dropped={"MissingTitle": 3, "FetchFailed": 1})
    }
    [problem] = assess(table, 0.2)
    assert problem.reason == TOO_MANY_DROPS
    assert "11 of 50 fetched articles dropped (22.0%), more" in problem.message
    assert problem.message.endswith(": FetchFailed=1, Gone=7, MissingTitle=3")


def test_the_share_waits_for_enough_fetched_articles() -> None:
    few = spread(MIN_FETCHED_FOR_SHARE - 1, MIN_FETCHED_FOR_SHARE // 2)
    assert finish_reason(few, 0.2) is None
    enough = spread(MIN_FETCHED_FOR_SHARE, MIN_FETCHED_FOR_SHARE // 2)
    assert finish_reason(enough, 0.2) == TOO_MANY_DROPS
    # Known articles, linked but not fetched, make no share count.
    assert finish_reason(spread(MIN_FETCHED_FOR_SHARE - 1, MIN_FETCHED_FOR_SHARE - 1, known=200), 0.2) is None


def test_an_incremental_run_dropping_its_new_articles_is_too_many_drops() -> None:
    """A nightly run after a change of the article template: each section links 30 articles, 27
    of them known, and drops the 3 new ones. Out of all linked that is 10 %."""
    table = {key: read(30, skipped_known=27, dropped={"MissingTitle": 3}) for key in FIRST_CRAWL}
    [problem] = assess(table, 0.2, crawled=table)
    assert problem.reason == TOO_MANY_DROPS
    assert problem.message == (
        f"{TOO_MANY_DROPS}: 24 of 24 fetched articles dropped (100.0%) (216 more linked were known,"
        " not fetched), more than CNIS_MAX_DROP_SHARE=0.2: MissingTitle=24"
    )


def test_revalidated_articles_count_as_fetched_and_fine() -> None:
    # 10 linked a section: 6 known, 3 revalidated (304s) and 1 dropped, 8 sections: 8 of 32.
    unchanged = {key: read(10, skipped_known=6, unchanged=3, dropped={"Gone": 1}) for key in FIRST_CRAWL}
    assert finish_reason(unchanged, 0.25, crawled=unchanged) is None
    assert finish_reason(unchanged, 0.2, crawled=unchanged) == TOO_MANY_DROPS
    # Incremental run, some known: the share is of the articles fetched.
    assert finish_reason(spread(40, 8, known=400), 0.2) is None
    assert finish_reason(spread(40, 9, known=400), 0.2) == TOO_MANY_DROPS


def test_a_drop_share_of_0_is_no_limit() -> None:
    assert finish_reason(spread(40, 30), 0) is None
    assert finish_reason(spread(40, 30), 0.5) == TOO_MANY_DROPS


def test_an_empty_section_comes_before_too_many_drops() -> None:
    table = spread(40, 30) | {"www.cnis.ac.cn/tzgg": read(0)}
    assert [problem.reason for problem in assess(table, 0.2)] == [SECTION_EMPTY, TOO_MANY_DROPS]


def test_a_negative_drop_share_is_refused() -> None:
    with pytest.raises(
        ValueError, match=re.escape("CNIS_MAX_DROP_SHARE must be a number, from 0.0 to 1.0; got -0.1")
    ):
        CrawlHealth.from_crawler(get_crawler(settings_dict={"CNIS_MAX_DROP_SHARE": -0.1}))


# --- Real crawls of the mirror -------------------------------------------------------------------


def test_a_healthy_crawl_finishes_exits_0_and_logs_no_health_error(mirror_crawl: CrawlResult) -> None:
    # At its first idle the old host's section is not crawled yet, so the extension's CloseSpider
    # is ignored then (the spider keeps the crawl open): nothing of it may reach the log.
    assert mirror_crawl.returncode == 0, mirror_crawl.log[-3000:]
    assert mirror_crawl.summary["finish_reason"] == "finished"
    assert health_errors(mirror_crawl) == []


@pytest.mark.parametrize(
    ("path", "fault", "section"),
    [
        ("/www.cnis.ac.cn/tzgg/index.html", {"kind": "status", "statuses": [404]}, "www.cnis.ac.cn/tzgg"),
        # The old host, crawled after the others: judged at the spider's second idle.
        ("/en.cnis.gov.cn/xwdt/bydt/index.shtml", {"kind": "soft404"}, "en.cnis.gov.cn/xwdt/bydt"),
    ],
    ids=["first-listing-page-404", "archive-listing-without-links"],
)
def test_a_section_yielding_nothing_ends_the_crawl_as_section_empty(
    path: str, fault: dict[str, Any], section: str, tmp_path: Path
) -> None:
    with running_mirror(SITE, faults={path: fault}) as url:
        result = run_crawl(tmp_path, "-a", f"mirror={url}")
    assert result.returncode == UNHEALTHY_EXIT_STATUS, result.log[-3000:]
    assert result.summary["finish_reason"] == SECTION_EMPTY
    [error] = health_errors(result)
    assert error.startswith(f"Crawl unhealthy, {SECTION_EMPTY}: 1 section(s) yielded nothing")
    assert re.search(rf"as when the site changed: {re.escape(section)} \([^()]*\)$", error), error
    # Every other section was crawled all the same.
    written = {section_of(record["url"]).key for record in result.records}  # type: ignore[union-attr]
    assert written == set(mirror_news_sections()) - {section}


def faulted_articles(count: int) -> dict[str, dict[str, Any]]:
    """404 on ``count`` articles spread over the mirror, so that no section loses all of them."""
    pages = article_pages()
    chosen = pages[:: len(pages) // count][:count]
    return {"/" + page.relative_to(SITE).as_posix(): {"kind": "status", "statuses": [404]} for page in chosen}


@pytest.mark.parametrize(("max_share", "healthy"), [("0.1", False), ("0.2", True)])
def test_a_share_of_drops_over_the_setting_ends_the_crawl_as_too_many_drops(
    max_share: str, healthy: bool, tmp_path: Path
) -> None:
    with running_mirror(SITE, faults=faulted_articles(8)) as url:
        result = run_crawl(tmp_path, "-a", f"mirror={url}", "-s", f"CNIS_MAX_DROP_SHARE={max_share}")
    sections = result.summary["sections"]
    # A first crawl: every article linked is fetched.
    fetched = sum(row["articles_linked"] - row["skipped_known"] for row in sections.values())
    gone = sum(row["dropped"].get("Gone", 0) for row in sections.values())
    assert gone == 9, "the 8 faulted articles and the mirror's own 404"
    assert 0.1 < gone / fetched <= 0.2
    if healthy:
        assert result.returncode == 0, result.log[-3000:]
        assert (result.summary["finish_reason"], health_errors(result)) == ("finished", [])
        return
    assert result.returncode == UNHEALTHY_EXIT_STATUS, result.log[-3000:]
    assert result.summary["finish_reason"] == TOO_MANY_DROPS
    [error] = health_errors(result)
    assert error == (
        f"Crawl unhealthy, {TOO_MANY_DROPS}: {gone} of {fetched} fetched articles dropped"
        f" ({gone / fetched:.1%}), more than CNIS_MAX_DROP_SHARE=0.1: Gone={gone}"
    )


def test_the_run_after_an_unhealthy_one_reads_only_what_it_must(tmp_path: Path) -> None:
    """An unhealthy crawl ran to its end: the next run stops paging every section it walked, and
    walks again only the one whose listing failed."""
    failing_once = {"/www.cnis.ac.cn/tzgg/index.html": {"kind": "status", "statuses": [404], "times": 1}}
    with running_mirror(SITE, faults=failing_once) as url:
        first = run_crawl(tmp_path, "-a", f"mirror={url}")
        second = run_crawl(tmp_path, "-a", f"mirror={url}")
    assert first.summary["finish_reason"] == SECTION_EMPTY
    assert (second.returncode, second.summary["finish_reason"]) == (0, "finished"), second.log[-3000:]
    tzgg_pages = len(list((SITE / "www.cnis.ac.cn" / "tzgg").glob("index*.html")))
    assert second.stats["incremental/listing_pages_read"] == len(mirror_news_sections()) - 1 + tzgg_pages
