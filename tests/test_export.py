"""The export: one dataset from the per-run files of a real crawl of the mirror."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from typing import TYPE_CHECKING, Any

import pytest

from cnis_crawler.cli import main as cli
from cnis_crawler.export import EXPORT_FIELDS, Filters, build, export

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


def test_one_row_per_article_with_its_record_and_aliases(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    manifest = export(output_of(mirror_crawl), tmp_path, "jsonl", Filters())
    lines = (tmp_path / "cnis-articles.jsonl").read_bytes().decode("utf-8").splitlines()
    rows = {row["url"]: row for row in map(json.loads, lines)}
    assert len(rows) == len(mirror_crawl.records) == 60
    for record in mirror_crawl.records:
        row = rows[record["url"]]
        assert {name: row[name] for name in record} == record
        assert (row["first_seen"], row["last_changed"], row["versions"]) == (
            record["fetched_at"],
            record["fetched_at"],
            1,
        )
        assert row["aliases"] == OLD_HOST_COPIES.get(record["url"], [])
    assert manifest["counts"]["site"] == {"en.cnis.ac.cn": 31, "en.cnis.gov.cn": 6, "www.cnis.ac.cn": 23}
    assert sum(manifest["counts"]["year"].values()) == 60
    assert manifest["date_range"] == [
        min(row["date"] for row in rows.values()),
        max(r["date"] for r in rows.values()),
    ]
    [run_file] = manifest["run_files"]
    assert run_file.startswith("cnis-")
    assert run_file.endswith("-001.jsonl")


def test_the_manifest_names_each_file_by_its_sha256(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    manifest = export(output_of(mirror_crawl), tmp_path, "csv", Filters())
    written = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert written == manifest
    [(name, facts)] = manifest["files"].items()
    data = (tmp_path / name).read_bytes()
    assert facts == {"rows": 60, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.mark.parametrize("excel", [False, True])
def test_csv_is_utf8_with_nested_values_as_json(
    mirror_crawl: CrawlResult, tmp_path: Path, excel: bool
) -> None:
    export(output_of(mirror_crawl), tmp_path, "csv", Filters(), excel=excel)
    path = tmp_path / "cnis-articles.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") == excel, "the BOM only for a spreadsheet"
    rows = csv_rows(path)
    assert len(rows) == 60
    assert set(EXPORT_FIELDS) <= set(rows[0])
    by_url = {row["url"]: row for row in rows}
    record = next(record for record in mirror_crawl.records if record["attachments"])
    assert json.loads(by_url[record["url"]]["attachments"]) == record["attachments"]
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


def test_the_latest_version_or_with_history_every_version(tmp_path: Path) -> None:
    output = tmp_path / "output"
    output.mkdir()
    runs = [
        record(1, "2026-11-01T03:00:00Z", "First text."),
        record(2, "2026-11-08T03:00:00Z", "Second text."),
    ]
    for number, run in enumerate(runs, 1):
        (output / f"cnis-run{number}-001.jsonl").write_text(json.dumps(run) + "\n", encoding="utf-8")
    (output / "cnis-2026-11-23T07-50-00.jsonl").write_text('{"url": "an older format"}\n', encoding="utf-8")
    latest = build(output, Filters())
    assert [
        (row["body"], row["versions"], row["first_seen"], row["last_changed"]) for row in latest.rows
    ] == [("Second text.", 2, "2026-11-01T03:00:00Z", "2026-11-08T03:00:00Z")]
    assert latest.skipped_lines == 1
    assert [row["body"] for row in build(output, Filters(), history=True).rows] == [
        "First text.",
        "Second text.",
    ]


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
    assert f"23 rows in {tmp_path / 'cnis-articles.csv'}" in capsys.readouterr().out
    assert cli(["report"]) == 2
