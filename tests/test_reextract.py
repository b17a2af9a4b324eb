"""Re-extraction from the archive: the records of a crawl of the mirror rebuilt offline, a new
version exactly where an extraction rule changed what a page gives, nothing lost otherwise."""

from __future__ import annotations

import json
import shutil
import time
from datetime import timedelta
from io import BytesIO
from typing import TYPE_CHECKING, Any
from unittest import mock

import pytest
from jsonschema import Draft202012Validator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cnis_crawler.extraction import standards
from cnis_crawler.memory.files import RUN_FILE_RE, run_files
from cnis_crawler.memory.state import CrawlState, utc_now
from cnis_crawler.memory.warc import archive_files, index_archive, whole_members
from cnis_crawler.schema import record_schema
from cnis_crawler.tools import reextract as reextract_module
from cnis_crawler.tools.export import Filters, build
from cnis_crawler.tools.mirror import running_mirror
from cnis_crawler.tools.reextract import Accounting, Reextraction
from cnis_crawler.tools.report import gather, headline, run_row
from tests.conftest import MIRROR_ARTICLES, SITE
from tests.crawling import command_status, run_crawl

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

VALIDATOR = Draft202012Validator(record_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
BOOKKEEPING = ("fetched_at", "version", "change", "versions", "last_changed")


def crawl_copy(crawl: CrawlResult, tmp_path: Path) -> Path:
    """The crawl's output folder copied (the session's crawl stays as it is)."""
    output = tmp_path / "output"
    shutil.copytree(crawl.workdir / "output", output, ignore=shutil.ignore_patterns("*.lock"))
    return output


def reextract(output: Path, workers: int = 2) -> Accounting:
    state = CrawlState(output / "state.sqlite")
    try:
        return Reextraction(state, output, output / "warc").run(workers)
    finally:
        state.close()


def records_of(paths: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()]


def latest(output: Path) -> dict[str, dict[str, Any]]:
    return {row["key"]: row for row in build(output, Filters()).rows}


def page_fields(record: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in record.items() if name not in BOOKKEEPING}


def without_iso(original: Any) -> Any:
    """An extraction rule changed: standards of ISO are no longer named."""
    return lambda text: [found for found in original(text) if not found.startswith("ISO")]


def test_the_same_extractor_rebuilds_every_record_and_writes_nothing(
    mirror_crawl: CrawlResult, tmp_path: Path
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    files_before = run_files(output)
    accounting = reextract(output)
    crawl = mirror_crawl.stats
    assert accounting.read == crawl["incremental/new"] == MIRROR_ARTICLES
    assert accounting.unchanged == accounting.read
    assert (accounting.reextracted, accounting.new, accounting.not_archived) == (0, 0, 0)
    assert accounting.aliases == crawl["incremental/aliases"]
    assert not accounting.failed
    assert run_files(output) == files_before
    state = CrawlState(output / "state.sqlite")
    try:
        mode, completed, counted = state.db.execute(
            "SELECT mode, completed, accounting FROM runs ORDER BY started DESC, run_id DESC LIMIT 1"
        ).fetchone()
    finally:
        state.close()
    assert (mode, completed) == ("reextract", 1)
    assert json.loads(counted)["unchanged"] == MIRROR_ARTICLES


def test_a_changed_rule_gives_exactly_the_affected_articles_a_new_version(
    mirror_crawl: CrawlResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    before = latest(output)
    affected = {
        key for key, row in before.items() if any(name.startswith("ISO") for name in row["standards"])
    }
    assert 0 < len(affected) < len(before)
    original = standards.standards_in
    monkeypatch.setattr(standards, "standards_in", without_iso(original))

    accounting = reextract(output, workers=2)  # the workers are forked with the rule changed

    assert accounting.reextracted == len(affected)
    assert accounting.unchanged == accounting.read - len(affected)
    crawled = {path.name for path in run_files(mirror_crawl.workdir / "output")}
    [written] = [path for path in run_files(output) if path.name not in crawled]
    assert RUN_FILE_RE.match(written.name)
    new_records = records_of([written])
    assert {record["key"] for record in new_records} == affected
    assert not [error.message for record in new_records for error in VALIDATOR.iter_errors(record)]
    after = latest(output)
    for key in affected:
        old, new = before[key], after[key]
        assert (new["version"], new["change"]) == (2, "reextracted")
        assert new["standards"] == [name for name in old["standards"] if not name.startswith("ISO")]
        assert page_fields(new) | {"standards": old["standards"]} == page_fields(old)
    assert all(after[key] == before[key] for key in before.keys() - affected)
    state = CrawlState(output / "state.sqlite")
    try:
        assert {key: state.article(key).version for key in affected} == dict.fromkeys(affected, 2)  # type: ignore[union-attr]
    finally:
        state.close()

    assert reextract(output).reextracted == 0  # the same rule again: nothing more to write

    monkeypatch.setattr(standards, "standards_in", original)
    assert reextract(output, workers=1).reextracted == len(affected)
    restored = latest(output)
    for key in affected:
        assert restored[key]["version"] == 3
        assert page_fields(restored[key]) == page_fields(before[key])


def test_an_interrupted_reextraction_keeps_what_it_wrote_and_the_next_one_does_the_rest(
    mirror_crawl: CrawlResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    before = latest(output)
    monkeypatch.setattr(standards, "standards_in", lambda text: [])  # every article naming one changes
    affected = {key for key, row in before.items() if row["standards"]}
    monkeypatch.setattr(reextract_module, "BATCH", 2)
    take = Reextraction.take

    def interrupted(self: Reextraction, outcome: Any) -> None:
        if self.accounting.reextracted == 5:
            raise KeyboardInterrupt
        take(self, outcome)

    monkeypatch.setattr(Reextraction, "take", interrupted)
    assert command_status(["reextract", "--output", str(output), "--workers", "1"]) == 130
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "interrupted after" in error
    # Two files of 2, and the one record read after them: kept, and counted as kept.
    assert "3 run file(s) written are kept" in error
    kept = {key for key, row in latest(output).items() if row["version"] == 2}
    assert len(kept) == 5
    assert gather(output).runs[0].counters["reextracted"] == 5

    monkeypatch.setattr(Reextraction, "take", take)
    accounting = reextract(output, workers=1)
    assert accounting.reextracted == len(affected) - len(kept)
    after = latest(output)
    assert {key for key, row in after.items() if row["version"] == 2} == affected
    assert max(row["version"] for row in after.values()) == 2


def test_the_report_shows_a_reextraction_as_such(
    mirror_crawl: CrawlResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    monkeypatch.setattr(standards, "standards_in", without_iso(standards.standards_in))
    changed = reextract(output).reextracted
    reextraction, crawled = gather(output).runs
    assert (reextraction.reextraction, crawled.reextraction) == (True, False)
    assert reextraction.problems == []  # no summary: none is written, none is missing
    # The headline tells the last crawl's health, and the re-extraction beside it.
    headline_text = headline(gather(output))
    assert f"{changed} new versions, 0 pages failed" in headline_text
    assert "healthy" in headline_text
    row = run_row(reextraction)
    assert "re-extraction finished" in row
    assert f"<td>{changed}</td>" in row


def test_a_page_that_now_fails_keeps_its_record_and_is_counted(
    mirror_crawl: CrawlResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    before = latest(output)
    victim = next(iter(sorted(before)))

    def broken(text: str) -> list[str]:
        if before[victim]["title"] in text:
            raise RuntimeError("a rule that breaks on one page")
        return original(text)

    original = standards.standards_in
    monkeypatch.setattr(standards, "standards_in", broken)
    accounting = reextract(output, workers=1)
    assert accounting.failed == {"ExtractionFailed": 1}
    assert gather(output).runs[0].dropped == {"ExtractionFailed": 1}
    assert accounting.unchanged == accounting.read - 1
    assert latest(output) == before


def test_an_article_whose_record_was_lost_gets_it_back(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    before = latest(output)
    [run_file] = run_files(output)
    lines = run_file.read_text(encoding="utf-8").splitlines(keepends=True)
    lost = json.loads(lines[0])
    run_file.write_text("".join(lines[1:]), encoding="utf-8")
    state = CrawlState(output / "state.sqlite")
    try:
        kept = {(record["key"], record["version"]) for record in map(json.loads, lines[1:])}
        assert state.keep_only(kept, [(run_file, len(kept))], utc_now()) == [lost["key"]]
    finally:
        state.close()

    accounting = reextract(output)

    assert (accounting.new, accounting.reextracted) == (1, 0)
    found = latest(output)[lost["key"]]
    assert (found["version"], found["change"]) == (1, "reextracted")
    assert page_fields(found) == page_fields(before[lost["key"]])


@pytest.mark.parametrize("cut", ["inside a record", "just after a record"])
def test_a_damaged_archive_file_costs_the_pages_after_the_damage(
    mirror_crawl: CrawlResult, tmp_path: Path, cut: str
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    [archive] = archive_files(output / "warc")
    data = archive.read_bytes()
    ends = list(whole_members(data))  # each record is a gzip member
    middle = ends[len(ends) // 2]
    archive.write_bytes(data[: middle + 5 if cut == "just after a record" else middle - 5])
    whole = index_archive([mirror_crawl.workdir / "output" / "warc" / archive.name])
    cut = index_archive([archive])
    assert [damage.split(":")[0] for damage in cut.damaged] == [archive.name]
    assert 0 < cut.responses < whole.responses
    assert all(whole.captures[url].offset == capture.offset for url, capture in cut.captures.items())

    accounting = reextract(output)
    assert accounting.damaged_files == cut.damaged
    assert accounting.not_archived > 0
    # A page whose further page was in the part cut off is read, and kept as it was.
    assert set(accounting.failed) <= {"MissingPart"}
    assert accounting.unchanged + accounting.failed.total() == accounting.read
    assert accounting.read + accounting.not_archived == MIRROR_ARTICLES
    assert latest(output) == latest(mirror_crawl.workdir / "output")


def test_the_command_prints_its_accounting(
    mirror_crawl: CrawlResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    assert command_status(["reextract", "--output", str(output), "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"Re-extracted {MIRROR_ARTICLES} archived article pages" in printed
    assert f"unchanged {MIRROR_ARTICLES}, new versions 0, new records 0, aliases 2; failed: none" in printed


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workers", "0"], "'0' is no number of processes: 1 or more"),
        (["--warc", "{output}/nowhere"], "--warc {output}/nowhere is no folder: give the archive's folder"),
        (["--warc", "{output}/state.sqlite"], "--warc {output}/state.sqlite is a file, not a folder"),
        (["--warc", "{output}"], "no archive file (*.warc.gz) in {output}"),
        (["--state", "{output}/none.sqlite"], "no crawl state at {output}/none.sqlite"),
    ],
)
def test_bad_arguments_are_one_line(
    mirror_crawl: CrawlResult,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    arguments: list[str],
    message: str,
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    filled = [argument.format(output=output) for argument in arguments]
    assert command_status(["reextract", "--output", str(output), *filled]) == 2
    assert message.format(output=output) in capsys.readouterr().err


def test_a_crawl_holding_the_state_stops_it_with_one_line(
    mirror_crawl: CrawlResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    held = CrawlState(output / "state.sqlite")
    try:
        assert command_status(["reextract", "--output", str(output)]) == 2
    finally:
        held.close()
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "cnis-crawler reextract: error:" in error


def test_a_killed_crawls_part_file_is_read(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    [archive] = archive_files(output / "warc")
    archive.rename(archive.with_name(archive.name + ".part"))
    accounting = reextract(output)
    assert (accounting.read, accounting.unchanged, accounting.not_archived) == (
        MIRROR_ARTICLES,
        MIRROR_ARTICLES,
        0,
    )


def test_a_record_of_a_later_fetch_than_the_archive_holds_is_not_taken_back(
    mirror_url: str, tmp_path: Path
) -> None:
    """A crawl with the archive off fetched a changed page: the archive holds only the page
    before it, which would take the record back to what it no longer says."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    page = site / "en.cnis.ac.cn/zdxw/202109/t20210903_48120.shtml"
    first = run_crawl_of(site, tmp_path / "crawl")
    page.write_text(
        page.read_text(encoding="utf-8").replace("experts of", "NEW TEXT experts of", 1), encoding="utf-8"
    )
    time.sleep(3)  # the next fetch is dated 3 s after the first at least
    # Both crawls within two minutes: a record made a moment after its response is still the same fetch.
    with mock.patch.object(reextract_module, "SAME_FETCH", timedelta(seconds=2)):
        second = run_crawl_of(site, tmp_path / "crawl", "-a", "full=1", "-s", "CNIS_WARC_ENABLED=False")
        assert [record["change"] for record in second.records] == ["changed"]
        accounting = reextract(first.workdir / "output")
    assert (accounting.stale, accounting.reextracted) == (1, 0)
    assert "NEW TEXT" in latest(first.workdir / "output")["en.cnis.ac.cn/48120"]["body"]


def run_crawl_of(site: Path, workdir: Path, *arguments: str) -> CrawlResult:
    with running_mirror(site) as url:
        return run_crawl(workdir, "-a", f"mirror={url}", *arguments)


def test_a_response_the_archive_cannot_give_back_is_a_counted_failure(
    mirror_crawl: CrawlResult, tmp_path: Path
) -> None:
    output = crawl_copy(mirror_crawl, tmp_path)
    url = "https://en.cnis.ac.cn/zdxw/202109/t20210903_48120.shtml"
    # Another tool's capture, newer, its body declared brotli and none: warcio raises reading it.
    with (output / "warc" / "other-tool.warc.gz").open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "br")], protocol="HTTP/1.1"
        )
        body = b"<html>not brotli</html>"
        writer.write_record(
            writer.create_warc_record(
                url, "response", payload=BytesIO(body), length=len(body), http_headers=headers
            )
        )
    before = latest(output)
    accounting = reextract(output)
    assert accounting.failed == {"ArchiveUnreadable": 1}
    assert accounting.unchanged == MIRROR_ARTICLES - 1
    assert latest(output) == before
