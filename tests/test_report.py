"""The report: one self-contained HTML page from two real crawls of the mirror, also in a browser."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from cnis_crawler.memory.state import CrawlState, Written
from cnis_crawler.site import SECTIONS
from cnis_crawler.tools.export import main as export_main
from cnis_crawler.tools.report import Run, gather, main, render
from cnis_crawler.urls import section_of
from tests.conftest import FOUND_NEWS_SECTIONS, MIRROR_ARTICLES, PROFILES_SECTION, SITE, mirror_news_sections
from tests.crawling import run_crawl

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def two_runs(mirror_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, CrawlResult]:
    """The output folder after a first crawl and a second one that finds nothing new; the first."""
    workdir = tmp_path_factory.mktemp("report")
    first = run_crawl(workdir, "-a", f"mirror={mirror_url}")
    second = run_crawl(workdir, "-a", f"mirror={mirror_url}")
    assert (first.returncode, second.returncode, len(second.records)) == (0, 0, 0), second.log
    return workdir / "output", first


def test_every_article_once_by_section_and_month(two_runs: tuple[Path, CrawlResult]) -> None:
    output, first = two_runs
    report = gather(output)
    assert len(report.articles) == len(first.records) == MIRROR_ARTICLES
    sections = sum(report.by_month.values(), Counter())
    assert sections == Counter(section_of(record["url"]).key for record in first.records)  # type: ignore[union-attr]
    months = {month: counts.total() for month, counts in report.by_month.items()}
    assert months == Counter(record["date"][:7] for record in first.records)
    # site.py's sections in its order, then those found on the sites, named by their records' trail.
    known = [section.key for section in SECTIONS if section.key in sections]
    assert list(report.section_names) == known + sorted(FOUND_NEWS_SECTIONS)
    assert (
        report.section_names["www.cnis.ac.cn/ynbm/spynyzlyjs/kydt"]
        == "院内部门 > 食品与农业标准化研究所 > 科研动态"
    )


def test_runs_from_the_state_and_the_summaries(two_runs: tuple[Path, CrawlResult]) -> None:
    second, first = gather(two_runs[0]).runs
    assert (first.written("new"), second.written("new")) == (MIRROR_ARTICLES, 0)
    assert (first.counters["aliases"], first.dropped) == (2, Counter(Gone=1))
    # The state's counters and the summary's per-section table are two records of one crawl.
    for run in (first, second):
        for counter in ("aliases", "skipped_known"):
            assert run.counters.get(counter, 0) == run.total(counter), (run.run_id, counter)
    listing_pages = sum(len(list((SITE / key).glob("index*.*html"))) for key in mirror_news_sections())
    assert first.total("listing_pages_fetched") == first.total("listing_pages_declared") == listing_pages
    # Page 1 of each news section, and a row for the profiles, found and skipped.
    assert second.total("listing_pages_fetched") == len(mirror_news_sections())
    assert set(second.sections or {}) == {*mirror_news_sections(), PROFILES_SECTION}
    assert second.counters["skipped_known"] == 5 * len(mirror_news_sections())
    assert first.problems == second.problems == []
    assert first.run_id < second.run_id


def test_the_state_tells_every_section_and_the_page_shows_them(two_runs: tuple[Path, CrawlResult]) -> None:
    report = gather(two_runs[0])
    told = {verdict.key: (verdict.kind, verdict.first_page_articles) for verdict in report.sections}
    assert told == {
        **{key: ("known", 5) for key in mirror_news_sections() if key not in FOUND_NEWS_SECTIONS},
        **dict.fromkeys(FOUND_NEWS_SECTIONS, ("crawled", 5)),
        PROFILES_SECTION: ("skipped", 2),
    }
    first_run = report.runs[-1].run_id
    assert {verdict.found_run for verdict in report.sections} == {first_run}
    assert {verdict.told_run for verdict in report.sections} == {report.runs[0].run_id}
    page = render(report)
    rows = re.findall(r'<tr class="section">(.*?)</tr>', page)
    assert len(rows) == len(told)
    profiles = "<td>en.cnis.ac.cn/bzygk_329/yjjg</td><td>skipped</td><td>2</td><td>0</td>"
    assert f"{profiles}<td>About CNIS: profiles</td>" in page
    assert (
        "<td>en.cnis.ac.cn/xwdt/gjhz</td><td>crawled</td><td>5</td><td>6</td><td>under a news root</td>"
        in page
    )


def test_the_page_shows_the_counts(two_runs: tuple[Path, CrawlResult]) -> None:
    report = gather(two_runs[0])
    page = render(report)
    assert f'<b id="total">{MIRROR_ARTICLES}</b>' in page
    assert page.count('<g class="month"') == len(report.by_month)
    assert page.count('<tr class="run"') == 2
    assert "healthy" in page
    assert "<script" not in page


def record(title: str) -> dict[str, Any]:
    return {
        "url": "https://en.cnis.ac.cn/kycg/202001/t20200115_40001.shtml",
        "site": "en.cnis.ac.cn",
        "lang": "en",
        "section": "Research",
        "title": title,
        "date": "2020-01-15",
        "source": '"CNIS" <b>',
        "body": "Text.",
        "fetched_at": "2026-11-01T03:00:05Z",
        "content_hash": "0" * 64,
        "key": "en.cnis.ac.cn/40001",
        "version": 1,
        "change": "new",
    }


def test_killed_runs_and_text_from_the_web(tmp_path: Path) -> None:
    """A run killed before its summary still shows (from the state), and is the headline's news;
    a title with markup stays text."""
    title = "<script>alert(1)</script> & 标准化"
    output = tmp_path / "output"
    output.mkdir()
    (output / "cnis-2026-11-01T03-00-00.000001-001.jsonl").write_text(json.dumps(record(title)) + "\n")
    state = CrawlState(output / "state.sqlite")
    state.start_run("2026-11-01T03-00-00.000001", "2026-11-01T03:00:00Z")
    state.settle([Written.from_record(record(title))], "2026-11-01T03-00-00.000001")
    state.finish_run(
        "2026-11-01T03-00-00.000001", "2026-11-01T03:00:09Z", "finished", {"new": 1, "stored": 1}
    )
    state.start_run("2026-11-02T03-00-00.000001", "2026-11-02T03:00:00Z")  # then killed
    state.close()
    summary = {"finish_reason": "finished", "sections": {}, "stats": {}}
    (output / "cnis-2026-11-01T03-00-00.000001.summary.json").write_text(json.dumps(summary))
    report = gather(output, now=datetime(2026, 11, 2, 7, tzinfo=UTC))
    killed, finished = report.runs
    assert (killed.finish_reason, killed.sections, finished.written("new")) == (None, None, 1)
    assert killed.problems == ["did not finish: killed, or still running"]
    assert finished.problems == []
    page = render(report)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; 标准化" in page
    assert "&quot;CNIS&quot; &lt;b&gt;" in page
    assert "<script" not in page
    assert '<div class="headline bad">' in page
    assert "did not finish: killed, or still running (4 h before this report)" in page
    assert '<tr class="run bad" data-run="2026-11-02T03-00-00.000001">' in page


def test_records_of_a_killed_run_count_for_it_when_a_later_run_adopts_its_file(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    killed, adopting = "2026-11-01T03-00-00.000001", "2026-11-02T03-00-00.000001"
    (output / f"cnis-{killed}-001.jsonl").write_text(json.dumps(record("Report")) + "\n")
    state = CrawlState(output / "state.sqlite")
    state.start_run(killed, "2026-11-01T03:00:00Z")
    state.start_run(adopting, "2026-11-02T03:00:00Z")
    state.settle([Written.from_record(record("Report"))], adopting)  # the state credits the adopter
    state.finish_run(adopting, "2026-11-02T03:00:09Z", "finished", {"adopted": 1})
    state.close()
    later, first = gather(output).runs
    assert (first.run_id, first.written("new"), later.written("new")) == (killed, 1, 0)


def test_command_line(
    two_runs: tuple[Path, CrawlResult], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site" / "report.html"
    assert main(["--output", str(two_runs[0]), "--out", str(out)]) == 0
    assert (
        f"{MIRROR_ARTICLES} articles and 2 runs in {out} ({out.stat().st_size:,} bytes)"
        in capsys.readouterr().out
    )
    assert [path.name for path in out.parent.iterdir()] == ["report.html"]
    assert main(["--output", str(tmp_path / "nothing")]) == 2
    assert "no crawl in" in capsys.readouterr().err


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(
            "The report's browser test needs Chromium: apt-get install chromium (Debian, Ubuntu)",
            pytrace=False,
        )
    return path


def test_in_a_browser_the_page_loads_nothing_and_shows_the_counts(
    two_runs: tuple[Path, CrawlResult], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    output, first = two_runs
    assert export_main(["--output", str(output)]) == 0
    out = output / "report.html"
    assert main(["--output", str(output)]) == 0
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda message: message.type == "error" and problems.append(message.text))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.on("requestfailed", lambda request: problems.append(f"{request.url} failed"))
            page.on("request", lambda request: requests.append(request.url))
            page.goto(out.as_uri(), wait_until="load")
            shown = page.evaluate(
                """() => ({
                total: document.querySelector("#total").textContent,
                months: Object.fromEntries([...document.querySelectorAll("svg g.month")].map(
                    (g) => [g.dataset.month, g.querySelectorAll("rect").length])),
                drawn: [...document.querySelectorAll("svg rect")].every(
                    (rect) => rect.getBoundingClientRect().height > 0),
                newest: document.querySelectorAll("table.newest tbody tr").length,
                runs: [...document.querySelectorAll("table.runs tbody tr")].map(
                    (row) => [...row.cells].map((cell) => cell.textContent)),
                health: document.querySelector("#health").textContent,
                width: document.documentElement.scrollWidth,
                export: document.querySelector("a#export")?.getAttribute("href"),
            })"""
            )
        finally:
            browser.close()
    assert problems == []
    assert requests == [out.as_uri()]
    assert shown["total"] == str(MIRROR_ARTICLES)
    sections_per_month: dict[str, set[str]] = {}
    for record in first.records:
        sections_per_month.setdefault(record["date"][:7], set()).add(section_of(record["url"]).key)  # type: ignore[union-attr]
    assert shown["months"] == {month: len(keys) for month, keys in sections_per_month.items()}
    assert shown["drawn"]
    assert shown["newest"] == 20
    assert [row[3] for row in shown["runs"]] == ["0", str(MIRROR_ARTICLES)]  # new, the newest run first
    assert [row[-1] for row in shown["runs"]] == ["ok", "ok"]
    assert shown["health"].startswith("healthy")
    assert shown["width"] <= 1280, "no horizontal scrollbar at 1,280 px"
    assert shown["export"] == "export/manifest.json"


def test_a_resumed_run_that_settled_more_than_it_linked_has_lost_nothing() -> None:
    resumed = Run("2026-11-02T03-00-00.000001", "2026-11-02T03:00:09Z", "finished", {"new": 3})
    resumed.sections = {"en.cnis.ac.cn/kycg": {"unaccounted": -5}, "www.cnis.ac.cn/tzgg": {"unaccounted": 2}}
    assert resumed.lost == 2
    assert resumed.problems == ["2 linked articles lost"]


@pytest.mark.parametrize(
    ("out", "line"),
    [
        ("/proc/cnis/report.html", "cnis-crawler report: error: cannot write /proc/cnis/report.html: "),
        (
            "{tmp}",
            "cnis-crawler report: error: --out {tmp} is a folder: name the page to write (e.g. {tmp}/report.html)",  # noqa: E501
        ),
    ],
    ids=["unwritable", "folder"],
)
def test_a_report_that_cannot_be_written_is_one_line(
    out: str,
    line: str,
    two_runs: tuple[Path, CrawlResult],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--output", str(two_runs[0]), "--out", out.format(tmp=tmp_path)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(line.format(tmp=tmp_path))
    assert error.count("\n") == 1
