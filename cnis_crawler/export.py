"""One dataset from the per-run files: ``cnis-crawler export`` (or ``python -m cnis_crawler.export``).

Incremental crawls leave one set of files per run under ``output/``, each record a new article
or a new version of one. The export reads them all and writes, atomically, one file for
analysis: one row per article (its latest version) with ``first_seen``, ``last_changed``,
``versions`` and ``aliases`` (the article's other URLs, from the crawl state), or with
``--history`` every version. Beside it, ``manifest.json``: counts per site, section and year,
the date range, the sha256 of each file, the crawler's version and the run files read.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnis_crawler.extensions import write_atomically

if TYPE_CHECKING:
    from collections.abc import Iterable

RUN_FILES = "cnis-*.jsonl"
EXPORT_FIELDS = ("first_seen", "last_changed", "versions", "aliases")
# Lists and mappings have no CSV cell of their own: they go in as JSON.
JSON_CELLS = ("attachments", "extracted_by", "aliases")


@dataclass(frozen=True)
class Filters:
    since: str | None = None
    until: str | None = None
    sites: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()

    def accept(self, record: dict[str, Any]) -> bool:
        date = record["date"]
        return (
            (self.since is None or date >= self.since)
            and (self.until is None or date <= self.until)
            and (not self.sites or record["site"] in self.sites)
            and (not self.langs or record["lang"] in self.langs)
            and (not self.sections or any(record["section"].startswith(name) for name in self.sections))
        )


@dataclass
class Dataset:
    rows: list[dict[str, Any]]
    run_files: list[str]
    skipped_lines: int = 0
    """Lines of the run files that are no record of this crawler (an older format)."""
    counts: dict[str, Counter[str]] = field(default_factory=dict)


def read_records(output_dir: Path) -> tuple[list[dict[str, Any]], list[str], int]:
    """Every record of every run file, oldest run first; and the files, and the lines skipped."""
    records, files, skipped = [], [], 0
    for path in sorted(output_dir.glob(RUN_FILES)):
        files.append(path.name)
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            if "key" in record and "version" in record:
                records.append(record)
            else:
                skipped += 1
    return records, files, skipped


def aliases_by_key(state_path: Path) -> dict[str, list[str]]:
    """The URLs of each article other than its record's, from the crawl state (read only)."""
    if not state_path.is_file():
        return {}
    db = sqlite3.connect(f"{state_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT pages.key, pages.url FROM pages JOIN articles ON articles.key = pages.key"
            " WHERE pages.url != articles.url ORDER BY pages.url"
        ).fetchall()
    finally:
        db.close()
    aliases: dict[str, list[str]] = {}
    for key, url in rows:
        aliases.setdefault(key, []).append(url)
    return aliases


def build(output_dir: Path, filters: Filters, history: bool = False) -> Dataset:
    records, files, skipped = read_records(output_dir)
    aliases = aliases_by_key(output_dir / "state.sqlite")
    by_key: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_key.setdefault(record["key"], []).append(record)
    rows = []
    for key, versions in by_key.items():
        versions.sort(key=lambda record: record["version"])
        history_fields = {
            "first_seen": versions[0]["fetched_at"],
            "last_changed": versions[-1]["fetched_at"],
            "versions": versions[-1]["version"],
            "aliases": aliases.get(key, []),
        }
        for record in versions if history else versions[-1:]:
            if filters.accept(record):
                rows.append(record | history_fields)
    rows.sort(key=lambda row: (row["date"], row["key"], row["version"]))
    counts = {name: Counter(str(row[name]) for row in rows) for name in ("site", "section")} | {
        "year": Counter(row["date"][:4] for row in rows)
    }
    return Dataset(rows, files, skipped, counts)


def jsonl_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def csv_bytes(rows: list[dict[str, Any]], excel: bool) -> bytes:
    """UTF-8 CSV; ``excel`` puts the byte order mark first, without which a spreadsheet reads
    the Chinese text as another encoding."""
    text = io.StringIO()
    columns = list(rows[0]) if rows else []
    writer = csv.DictWriter(text, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: json.dumps(value, ensure_ascii=False) if name in JSON_CELLS else value
                         for name, value in row.items()})  # fmt: skip
    return ("\ufeff" if excel else "").encode("utf-8") + text.getvalue().encode("utf-8")


def crawler_version() -> str:
    try:
        return version("cnis-crawler")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def export(
    output_dir: Path, out_dir: Path, fmt: str, filters: Filters, history: bool = False, excel: bool = False
) -> dict[str, Any]:
    """Write the dataset and its manifest into ``out_dir``; returns the manifest."""
    dataset = build(output_dir, filters, history)
    name = f"cnis-{'history' if history else 'articles'}.{fmt}"
    data = jsonl_bytes(dataset.rows) if fmt == "jsonl" else csv_bytes(dataset.rows, excel)
    write_atomically(out_dir / name, data)
    dates = [row["date"] for row in dataset.rows]
    manifest = {
        "crawler_version": crawler_version(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "files": {
            name: {"rows": len(dataset.rows), "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
        },
        "history": history,
        "filters": {key: value for key, value in vars(filters).items() if value},
        "date_range": [min(dates), max(dates)] if dates else None,
        "counts": {name: dict(sorted(counter.items())) for name, counter in dataset.counts.items()},
        "run_files": dataset.run_files,
        "skipped_lines": dataset.skipped_lines,
    }
    write_atomically(out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnis-crawler export", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--out", type=Path, default=Path("output/export"), help="folder to write into")
    parser.add_argument("--output", type=Path, default=Path("output"), help="the crawl's output folder")
    parser.add_argument("--since", help="first article date, YYYY-MM-DD")
    parser.add_argument("--until", help="last article date, YYYY-MM-DD")
    parser.add_argument("--site", action="append", default=[], help="a host; repeat for several")
    parser.add_argument("--lang", action="append", default=[], choices=("en", "zh"))
    parser.add_argument("--section", action="append", default=[], help="a section trail prefix")
    parser.add_argument("--history", action="store_true", help="every version, not the latest")
    parser.add_argument("--excel", action="store_true", help="CSV with the BOM a spreadsheet needs")
    args = parser.parse_args(argv)
    if not args.output.is_dir():
        parser.error(f"no crawl output at {args.output}")
    filters = Filters(args.since, args.until, tuple(args.site), tuple(args.lang), tuple(args.section))
    manifest = export(args.output, args.out, args.format, filters, args.history, args.excel)
    for name, facts in manifest["files"].items():
        print(f"{facts['rows']} rows in {args.out / name} ({facts['bytes']} bytes), manifest beside it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
