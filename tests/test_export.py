"""The export: one dataset from the per-run files of a real crawl of the mirror."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing, suppress
from datetime import date, datetime
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

from cnis_crawler.memory.files import RUN_FILE_RE
from cnis_crawler.tools.cli import main as cli
from cnis_crawler.tools.export import (
    COLUMNS,
    DATES,
    EXPORT_FIELDS,
    JSON_CELLS,
    WRITERS,
    ExportError,
    Filters,
    build,
    crawl_paths,
    export,
)
from cnis_crawler.tools.report import gather, render
from tests.conftest import MIRROR_ARTICLES
from tests.crawling import command_status

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

OLD_HOST_COPIES = {
    "https://en.cnis.ac.cn/xwdt/bydt/201801/t20180126_36026.shtml": [
        "http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml"
    ],
    "https://en.cnis.ac.cn/xwdt/bydt/201805/t20180522_36388.shtml": [
        "http://en.cnis.gov.cn/xwdt/bydt/201805/t20180522_23801.shtml"
    ],
}


def output_of(crawl: CrawlResult) -> Path:
    return crawl.workdir / "output"


NOT_DOWNLOADED = {"path": None, "checksum": None}
"""What the export adds to each attachment and picture of a crawl made without ``-a files=1``."""


def test_one_row_per_article_with_its_record_and_aliases(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    manifest = export(output_of(mirror_crawl), tmp_path, ["jsonl"], Filters())
    lines = (tmp_path / "cnis-articles.jsonl").read_bytes().decode("utf-8").splitlines()
    rows = {row["url"]: row for row in map(json.loads, lines)}
    assert len(rows) == len(mirror_crawl.records) == MIRROR_ARTICLES
    for record in mirror_crawl.records:
        row = rows[record["url"]]
        files = {
            name: [entry | NOT_DOWNLOADED for entry in record[name]] for name in ("attachments", "images")
        }
        assert {name: row[name] for name in record} == record | files
        assert (row["first_seen"], row["last_changed"], row["versions"]) == (
            record["fetched_at"],
            record["fetched_at"],
            1,
        )
        assert row["aliases"] == OLD_HOST_COPIES.get(record["url"], [])
    assert manifest["counts"]["site"] == {"en.cnis.ac.cn": 40, "en.cnis.gov.cn": 6, "www.cnis.ac.cn": 30}
    assert sum(manifest["counts"]["year"].values()) == MIRROR_ARTICLES
    assert manifest["date_range"] == [
        min(row["date"] for row in rows.values()),
        max(r["date"] for r in rows.values()),
    ]
    [run_file] = manifest["run_files"]
    assert run_file.startswith("cnis-")
    assert run_file.endswith("-001.jsonl")


def test_the_manifest_names_each_file_by_its_sha256(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    manifest = export(output_of(mirror_crawl), tmp_path, ["csv"], Filters())
    written = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert written == manifest
    [(name, facts)] = manifest["files"].items()
    data = (tmp_path / name).read_bytes()
    assert facts == {"rows": MIRROR_ARTICLES, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.parametrize("excel", [False, True])
def test_csv_is_utf8_with_nested_values_as_json(
    mirror_crawl: CrawlResult, tmp_path: Path, excel: bool
) -> None:
    export(output_of(mirror_crawl), tmp_path, ["csv"], Filters(), excel=excel)
    path = tmp_path / "cnis-articles.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") == excel, "the BOM only for a spreadsheet"
    rows = csv_rows(path)
    assert len(rows) == MIRROR_ARTICLES
    assert set(EXPORT_FIELDS) <= set(rows[0])
    by_url = {row["url"]: row for row in rows}
    record = next(record for record in mirror_crawl.records if record["attachments"])
    assert json.loads(by_url[record["url"]]["attachments"]) == [
        a | NOT_DOWNLOADED for a in record["attachments"]
    ]
    assert any("标准" in row["title"] for row in rows)


def in_years(first: str, last: str) -> Any:
    return lambda record: first <= record["date"][:4] <= last


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        pytest.param(Filters(sites=("www.cnis.ac.cn",)), lambda r: r["site"] == "www.cnis.ac.cn", id="site"),
        pytest.param(Filters(langs=("en",)), lambda r: r["lang"] == "en", id="lang"),
        pytest.param(Filters(since="2020-01-01", until="2022-12-31"), in_years("2020", "2022"), id="dates"),
        pytest.param(
            Filters(sections=("News > Global vision",)),
            lambda r: r["section"] == "News > Global vision",
            id="section",
        ),
    ],
)
def test_filters(mirror_crawl: CrawlResult, filters: Filters, expected: Any) -> None:
    rows = build(output_of(mirror_crawl), filters).rows
    assert sorted(row["url"] for row in rows) == sorted(r["url"] for r in mirror_crawl.records if expected(r))
    assert rows


def record(version: int, fetched_at: str, body: str) -> dict[str, Any]:
    return {
        "url": "https://en.cnis.ac.cn/kycg/202001/t20200115_40001.shtml",
        "site": "en.cnis.ac.cn",
        "lang": "en",
        "section": "Research",
        "title": "Report released",
        "date": "2020-01-15",
        "body": body,
        "fetched_at": fetched_at,
        "key": "en.cnis.ac.cn/40001",
        "version": version,
        "change": "new" if version == 1 else "changed",
    }


def run_file(output: Path, day: int, *lines: str | bytes, batch: int = 1) -> Path:
    """A run file named as the crawl names them, holding ``lines``."""
    path = output / f"cnis-2026-11-{day:02d}T03-00-00.000001-{batch:03d}.jsonl"
    output.mkdir(exist_ok=True)
    path.write_bytes(b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines))
    return path


def test_the_latest_version_or_with_history_every_version(tmp_path: Path) -> None:
    output = tmp_path / "output"
    run_file(output, 1, json.dumps(record(1, "2026-11-01T03:00:00Z", "First text.")))
    run_file(output, 8, json.dumps(record(2, "2026-11-08T03:00:00Z", "Second text.")))
    latest = build(output, Filters())
    assert [
        (row["body"], row["versions"], row["first_seen"], row["last_changed"]) for row in latest.rows
    ] == [("Second text.", 2, "2026-11-01T03:00:00Z", "2026-11-08T03:00:00Z")]
    assert [row["body"] for row in build(output, Filters(), history=True).rows] == [
        "First text.",
        "Second text.",
    ]


def test_only_run_files_are_read_and_a_record_found_twice_is_one(tmp_path: Path) -> None:
    output = tmp_path / "output"
    first = json.dumps(record(1, "2026-11-01T03:00:00Z", "Text.") | {"content_hash": "a"})
    run_file(output, 1, first)
    run_file(output, 2, first)  # as after a feed copied by hand
    for name in ("cnis-articles.jsonl", "cnis-all.jsonl", "cnis-2026-11-23T07-50-00.jsonl"):
        (output / name).write_text(first + "\n", encoding="utf-8")  # an export, an -o feed, no batch
    dataset = build(output, Filters(), history=True)
    assert len(dataset.rows) == 1
    assert dataset.duplicates == 1
    assert [name[:15] for name in dataset.run_files] == ["cnis-2026-11-01", "cnis-2026-11-02"]


def test_batches_are_read_in_their_order_past_999(tmp_path: Path) -> None:
    for batch in (1000, 101, 2):
        run_file(tmp_path, 1, json.dumps(record(1, "2026-11-01T03:00:00Z", "Text.")), batch=batch)
    names = build(tmp_path, Filters()).run_files
    assert [int(RUN_FILE_RE.match(name)["batch"]) for name in names] == [2, 101, 1000]  # type: ignore[index]


def test_rows_have_the_columns_of_the_dataset_whatever_wrote_the_record(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "output"
    older = record(1, "2026-11-01T03:00:00Z", "Text.")  # no extracted_by, subtitle …
    run_file(output, 1, json.dumps(older | {"word_count": 1}))
    [row] = build(output, Filters()).rows
    assert list(row) == list(COLUMNS)
    assert (row["extracted_by"], row["body"]) == (None, "Text.")
    assert caplog.messages == ["Fields that are no column of the dataset left out: {'word_count': 1}"]


@pytest.mark.parametrize(
    ("filters", "dates"),
    [
        pytest.param(Filters(until="2024"), ["2023-12-31", "2024-12-31"], id="until-a-year"),
        pytest.param(Filters(since="2024-12", until="2025-01"), ["2024-12-31", "2025-01-01"], id="months"),
        pytest.param(Filters(since="2024-12-31", until="2024-12-31"), ["2024-12-31"], id="a-day"),
        pytest.param(Filters(sections=("News",)), ["2023-12-31", "2024-12-31"], id="whole-crumbs"),
        pytest.param(Filters(sections=("en.cnis.ac.cn/kycg",)), ["2025-01-01"], id="section-key"),
    ],
)
def test_periods_and_sections(tmp_path: Path, filters: Filters, dates: list[str]) -> None:
    dated = [
        ("2023-12-31", "News > CNIS news", "https://en.cnis.ac.cn/xwdt/bydt/202312/t20231231_1.shtml"),
        ("2024-12-31", "News > CNIS news", "https://en.cnis.ac.cn/xwdt/bydt/202412/t20241231_2.shtml"),
        ("2025-01-01", "Newsletter", "https://en.cnis.ac.cn/kycg/202501/t20250101_3.shtml"),
    ]
    base = record(1, "2026-11-01T03:00:00Z", "Text.")
    run_file(tmp_path, 1, *(
        json.dumps(base | {"key": url, "date": day, "section": section, "url": url})
        for day, section, url in dated
    ))  # fmt: skip
    assert [row["date"] for row in build(tmp_path, filters).rows] == dates


@pytest.mark.parametrize("value", ["2024/01/01", "yesterday", "2024-13", "2024-02-30", "24"])
def test_a_date_that_is_none_is_an_error(
    mirror_crawl: CrawlResult, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli(["export", "--output", str(output_of(mirror_crawl)), "--since", value])
    assert exit_.value.code == 2
    assert f"{value!r} is no date: YYYY, YYYY-MM or YYYY-MM-DD" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (["--section", "Nope"], 'no article matches the filters {"sections": ["Nope"]} in the run files of'),
        (["--since", "2100"], 'no article matches the filters {"since": "2100"}'),
        (
            ["--since", "2024", "--until", "2020"],
            "--since 2024 is after --until 2020: no day is in that period",
        ),
        (["--out", "/proc/cnis-export"], "cannot write into /proc/cnis-export"),
    ],
    ids=["no-section", "no-date", "reversed-period", "unwritable-out"],
)
def test_an_export_that_cannot_be_whole_leaves_the_previous_one_as_it_was(
    mirror_crawl: CrawlResult,
    tmp_path: Path,
    arguments: list[str],
    line: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    output = str(output_of(mirror_crawl))
    assert cli(["export", "--output", output, "--out", str(tmp_path), "--format", "csv"]) == 0
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    capsys.readouterr()
    assert (
        command_status(["export", "--output", output, "--out", str(tmp_path), "--format", "csv", *arguments])
        == 2
    )
    error = capsys.readouterr().err
    assert line in error
    assert "Traceback" not in error
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


def test_an_export_replaces_the_previous_one_whole(
    mirror_crawl: CrawlResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export(output_of(mirror_crawl), tmp_path, ["csv", "parquet"], Filters(langs=("en",)))
    manifest = export(output_of(mirror_crawl), tmp_path, ["jsonl"], Filters())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cnis-articles.jsonl", "manifest.json"]
    assert manifest["files"]["cnis-articles.jsonl"]["rows"] == MIRROR_ARTICLES

    def fail(rows: list[dict[str, Any]], file: IO[bytes], excel: bool = False) -> None:
        file.write(b"half")
        raise OSError("disk full")

    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    monkeypatch.setitem(WRITERS, "csv", fail)
    with pytest.raises(ExportError, match=f"cannot write the export into {tmp_path}: disk full; the export"):
        export(output_of(mirror_crawl), tmp_path, ["jsonl", "csv"], Filters(langs=("zh",)))
    # A disk that fills up leaves the previous export whole, manifest and all, and no part file.
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--out", "{output}"], "--out must not be the crawl's output folder"),
        (["--out", "{output}/state.sqlite"], "is a file, not a folder"),
        (["--excel"], "--excel is for --format csv"),
    ],
)
def test_arguments_that_cannot_work_are_errors(
    mirror_crawl: CrawlResult, arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    output = str(output_of(mirror_crawl))
    with pytest.raises(SystemExit) as exit_:
        cli(["export", "--output", output, *(argument.format(output=output) for argument in arguments)])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_a_state_that_is_no_database_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "output"
    run_file(output, 1, json.dumps(record(1, "2026-11-01T03:00:00Z", "Text.")))
    (output / "state.sqlite").write_bytes(b"not a database, " * 100)
    assert command_status(["export", "--output", str(output)]) == 2
    assert (
        f"cannot read the crawl state {output / 'state.sqlite'}: file is not a database; it is damaged:"
        " the next crawl moves it aside (state.sqlite.damaged-<time>) and reads the run files back"
        " into a new one\n"
    ) in capsys.readouterr().err


def test_a_state_of_another_schema_is_refused_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "output"
    run_file(output, 1, json.dumps(record(1, "2026-11-01T03:00:00Z", "Text.")))
    with closing(sqlite3.connect(output / "state.sqlite")) as db:
        db.execute("PRAGMA user_version = 99")
    assert command_status(["export", "--output", str(output)]) == 2
    assert (
        "written by another version of cnis-crawler (schema 99; this one reads [1, 2, 3])"
        in capsys.readouterr().err
    )


def test_the_state_is_found_where_the_crawl_keeps_it(
    mirror_crawl: CrawlResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Run files in one folder, the state elsewhere (-s CNIS_STATE_PATH=… for the crawl): --state,
    or the project's setting, finds it; its aliases reach the export."""
    output, elsewhere = tmp_path / "output", tmp_path / "kept" / "crawl.sqlite"
    shutil.copytree(output_of(mirror_crawl), output, ignore=shutil.ignore_patterns("state.sqlite*", "export"))
    elsewhere.parent.mkdir()
    shutil.copy(output_of(mirror_crawl) / "state.sqlite", elsewhere)

    def aliases(*arguments: str) -> int:
        cli(["export", "--output", str(output), "--out", str(tmp_path / "export"), *arguments])
        rows = (tmp_path / "export" / "cnis-articles.jsonl").read_text(encoding="utf-8").splitlines()
        return sum(len(json.loads(row)["aliases"]) for row in rows)

    assert aliases() == 0, "no state beside the run files: no aliases known"
    assert f"No crawl state at {output / 'state.sqlite'}" in caplog.text
    with pytest.raises(SystemExit):
        aliases("--state", str(tmp_path / "nowhere.sqlite"))
    assert f"error: no crawl state at {tmp_path / 'nowhere.sqlite'}" in capsys.readouterr().err
    assert aliases("--state", str(elsewhere)) == 2
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "tests.tooling.state_elsewhere")
    monkeypatch.setenv("CNIS_TEST_STATE_PATH", str(elsewhere))
    folder, state = crawl_paths(None, None)
    assert (folder, state.path) == (elsewhere.parent, elsewhere)


def test_command_line(mirror_crawl: CrawlResult, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    arguments = [
        "export",
        "--output",
        str(output_of(mirror_crawl)),
        "--out",
        str(tmp_path),
        "--format",
        "csv",
    ]
    assert cli([*arguments, "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "30 articles, dated 2008-06-20 … 2025-10-22, from 1 run file in " in out
    assert (
        f"{tmp_path / 'cnis-articles.csv'}  {(tmp_path / 'cnis-articles.csv').stat().st_size:>12,} bytes"
        in out
    )
    assert "lang: zh 30" in out
    assert "\x1b[" not in out, "no terminal codes when the output is not a terminal"
    assert cli(["inventory"]) == 2
    assert cli(["--help"]) == 0


def plain(name: str, value: Any) -> Any:
    """A value as pandas read it, in the records' own terms: lists, dicts, ISO text, None."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list):
        return [plain(name, item) for item in value]
    if isinstance(value, dict):
        return {key: plain(key, item) for key, item in value.items()}
    if isinstance(value, datetime):  # pandas' Timestamp too
        return value.strftime("%Y-%m-%d" if name in DATES else "%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


READERS = {
    "jsonl": lambda path: pd.read_json(path, lines=True),
    "csv": lambda path: pd.read_csv(path),
    "parquet": lambda path: pd.read_parquet(path),
}


@pytest.mark.parametrize("fmt", list(READERS))
def test_each_format_loads_in_pandas_in_one_line(mirror_crawl: CrawlResult, tmp_path: Path, fmt: str) -> None:
    manifest = export(output_of(mirror_crawl), tmp_path, list(READERS), Filters())
    assert list(manifest["files"]) == [f"cnis-articles.{name}" for name in READERS]
    frame = READERS[fmt](tmp_path / f"cnis-articles.{fmt}")
    assert list(frame.columns) == list(COLUMNS)
    loaded = [{name: plain(name, value) for name, value in row.items()} for row in frame.to_dict("records")]
    expected = build(output_of(mirror_crawl), Filters()).rows
    if fmt == "csv":  # a CSV cell has no None apart from "", and no list or dict apart from JSON
        loaded = [row | {name: json.loads(row[name]) for name in JSON_CELLS} for row in loaded]
        expected = [{name: None if value == "" else value for name, value in row.items()} for row in expected]
    assert len(loaded) == MIRROR_ARTICLES
    assert loaded == expected
    assert any(row["attachments"] for row in loaded)
    assert any(row["subtitle"] is None for row in loaded)


def test_parquet_types_dates(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    export(output_of(mirror_crawl), tmp_path, ["parquet"], Filters())
    frame = pd.read_parquet(tmp_path / "cnis-articles.parquet")
    assert str(frame["fetched_at"].dtype) == "datetime64[ms, UTC]"
    assert frame["date"].min() == date(2008, 6, 20)
    assert list(frame.columns) == list(COLUMNS)


def test_lines_that_are_no_record_are_skipped_counted_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = json.dumps(record(1, "2026-11-01T03:00:00Z", "Text."))
    path = run_file(tmp_path, 1, good, good[:40], "[1, 2]", good.replace("Text.", "\xff").encode("latin-1"))
    dataset = build(tmp_path, Filters())
    assert [row["body"] for row in dataset.rows] == ["Text."]
    assert dataset.skipped_lines == 3
    assert caplog.messages == [
        f"Skipped line 2 of {path}: not JSON (Unterminated string starting at)",
        f"Skipped line 3 of {path}: not a record of this crawler (no key and version)",
        f"Skipped line 4 of {path}: not UTF-8",
    ]


def test_a_terminal_sees_a_progress_bar_then_the_summary(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    leader, follower = os.openpty()
    command = [sys.executable, "-m", "cnis_crawler.tools.export", "--output", str(output_of(mirror_crawl))]
    env = os.environ | {"TERM": "xterm-256color", "COLUMNS": "120"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [*command, "--out", str(tmp_path)], stdin=follower, stdout=follower, stderr=follower, env=env
    ) as process:
        os.close(follower)
        screen = b""
        with suppress(OSError):  # EIO once the child has closed the terminal
            while chunk := os.read(leader, 65536):
                screen += chunk
        os.close(leader)
    assert process.returncode == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.decode("utf-8"))  # colours, cursor moves
    assert "reading run files" in text
    assert "100%" in text
    assert f"{MIRROR_ARTICLES} articles, dated 2008-06-20 … 2025-10-22" in text


def test_an_empty_state_file_is_told_as_damaged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "output"
    run_file(output, 1, json.dumps(record(1, "2026-11-01T03:00:00Z", "Text.")))
    (output / "state.sqlite").write_bytes(b"")
    assert command_status(["export", "--output", str(output)]) == 2
    error = capsys.readouterr().err
    assert "cannot read the crawl state" in error
    assert "output/state.sqlite: it is empty; the next crawl reads the run files back into it" in error


def test_a_state_rebuilt_after_damage_is_told_by_the_export(
    mirror_crawl: CrawlResult, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "output"
    shutil.copytree(output_of(mirror_crawl), output, ignore=shutil.ignore_patterns("export"))
    aside = output / "state.sqlite.damaged-20261206T090224"
    aside.write_bytes(b"not a database")
    aside.with_name(f"{aside.name}-wal").write_bytes(b"")
    assert command_status(["export", "--output", str(output)]) == 0
    told = [record.getMessage() for record in caplog.records if "damaged" in record.getMessage()]
    assert told == [
        (
            "The crawl state was found damaged and rebuilt from the run files; the damaged file is kept"
            f" as {aside}: delete it once you no longer need it"
        )
    ]


def test_an_edited_run_file_is_named_by_the_export_and_the_report(
    mirror_crawl: CrawlResult, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    output = tmp_path / "output"
    shutil.copytree(output_of(mirror_crawl), output, ignore=shutil.ignore_patterns("export"))
    [run_file] = sorted(output.glob("cnis-*-001.jsonl"))
    text = run_file.read_text(encoding="utf-8")
    run_file.write_text(text.replace('"title": "', '"title": "Edited: ', 1), encoding="utf-8")
    assert command_status(["export", "--output", str(output)]) == 0
    assert [record.getMessage() for record in caplog.records if "since the crawl" in record.getMessage()] == [
        f"Run file {run_file.name} (changed) since the crawl stored it: its records are read as they are now"
    ]
    page = render(gather(output), output / "report.html")
    assert f"run file {run_file.name} (changed) since the crawl stored it" in page


# As a Chinese input method types it: every character full-width, the space too.
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)} | {0x20: 0x3000}


@pytest.mark.parametrize(
    ("arguments", "doc_ids"),
    [
        (["--standard", "ISO 37101"], [53416]),
        (["--standard", "GB/T 35796"], [36026]),  # every edition; the old host's copy is an alias
        (["--standard", "GB/T 35796-2017".translate(FULL_WIDTH)], [36026]),
        (["--committee", "ISO/TC 268"], [24512, 24941, 48120, 53416]),  # with its subcommittee
        (["--committee", "ISO/TC 268/SC 1"], [24941]),
        (["--committee", "JTC 1"], [46830, 56810]),
        (["--standard", "ISO 9001", "--standard", "GB/T 10000"], [44856, 56810]),
        (["--committee", "iso/tc 268/sc 1"], [24941]),  # as typed
    ],
)
def test_the_export_filters_by_standard_and_committee(
    mirror_crawl: CrawlResult, tmp_path: Path, arguments: list[str], doc_ids: list[int]
) -> None:
    assert (
        command_status(
            ["export", "--output", str(output_of(mirror_crawl)), "--out", str(tmp_path), *arguments]
        )
        == 0
    )
    rows = [json.loads(line) for line in (tmp_path / "cnis-articles.jsonl").read_text("utf-8").splitlines()]
    assert sorted(row["doc_id"] for row in rows) == doc_ids


def test_a_filter_that_names_no_standard_is_an_error(
    mirror_crawl: CrawlResult, capsys: pytest.CaptureFixture[str]
) -> None:
    assert command_status(["export", "--output", str(output_of(mirror_crawl)), "--standard", "quality"]) == 2
    assert "argument --standard: 'quality' names no standard" in capsys.readouterr().err
    two = "GB/T 19001-2016/ISO 9001:2015"
    assert command_status(["export", "--output", str(output_of(mirror_crawl)), "--standard", two]) == 2
    assert "names more than one standard: GB/T 19001-2016, ISO 9001:2015" in capsys.readouterr().err


@pytest.mark.parametrize("written", ["absent", "null"])
def test_a_record_of_an_earlier_crawler_gets_its_standards_from_its_text(
    written: str, tmp_path: Path
) -> None:
    earlier = record(1, "2026-11-01T03:00:00Z", "The revised GB/T 19001-2016 was discussed by SAC/TC 151.")
    assert "standards" not in earlier
    if written == "null":
        earlier |= {"standards": None, "committees": None}
    run_file(tmp_path, 1, json.dumps(earlier))
    [row] = build(tmp_path, Filters(standards=("GB/T 19001",))).rows
    assert (row["standards"], row["committees"]) == (["GB/T 19001-2016"], ["SAC/TC 151"])
