"""One dataset from the per-run files: ``cnis-crawler export`` (or ``python -m cnis_crawler.export``).

Incremental crawls leave one set of files per run under ``output/``, each record a new article
or a new version of one. The export reads them all and writes, atomically, one file for
analysis: one row per article (its latest version) with ``first_seen``, ``last_changed``,
``versions`` and ``aliases`` (the article's other URLs, from the crawl state), or with
``--history`` every version. Beside it, ``manifest.json``: counts per site, section and year,
the date range, the sha256 of each file, the crawler's version and the run files read.

Formats: JSON lines (default), CSV (UTF-8, ``--excel`` for a spreadsheet) and Parquet (needs
pyarrow: ``pip install 'cnis-crawler[parquet]'``). On a terminal the export shows its progress
and ends with a one-screen summary.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import logging
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group
from rich.progress import DownloadColumn, Progress
from rich.table import Table

from cnis_crawler.extraction.article import RUNGS
from cnis_crawler.feedstorage import RUN_FILES, write_atomically
from cnis_crawler.items import Article

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    import pyarrow as pa

logger = logging.getLogger(__name__)

EXPORT_FIELDS = ("first_seen", "last_changed", "versions", "aliases")
COLUMNS = tuple(item.name for item in fields(Article)) + EXPORT_FIELDS
DATES = ("date", "url_date")
TIMES = ("fetched_at", "first_seen", "last_changed")
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


def run_files(output_dir: Path) -> list[Path]:
    """The run files under ``output_dir``, oldest run first."""
    return sorted(output_dir.glob(RUN_FILES))


RunFiles = dict[str, tuple[list[dict[str, Any]], int]]
"""Run file name → its records and the number of its lines skipped."""


def read_run_files(output_dir: Path, advance: Callable[[int], object] = lambda _: None) -> RunFiles:
    """Each run file by name, oldest run first: its records, and how many lines were skipped.

    ``advance`` is told the bytes of each file read. A line that is not one of this crawler's
    records (an older format, or not JSON: a file someone else put there) is skipped, counted
    and logged with its place, so a bad file costs its bad lines and nothing else.
    """
    read: RunFiles = {}
    for path in run_files(output_dir):
        data = path.read_bytes()
        records, skipped = [], 0
        for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                record, reason = None, f"not JSON ({error.msg})"
            else:
                reason = "not a record of this crawler (no key and version)"
            if isinstance(record, dict) and "key" in record and "version" in record:
                records.append(record)
            else:
                skipped += 1
                logger.warning("Skipped line %d of %s: %s", number, path, reason)
        read[path.name] = (records, skipped)
        advance(len(data))
    return read


def read_records(
    output_dir: Path, files_read: RunFiles | None = None, advance: Callable[[int], object] = lambda _: None
) -> tuple[list[dict[str, Any]], list[str], int]:
    """Every record of every run file, oldest run first; and the files, and the lines skipped.
    ``files_read``: what :func:`read_run_files` returned, when the caller has read them already."""
    read = read_run_files(output_dir, advance) if files_read is None else files_read
    records = [record for file_records, _ in read.values() for record in file_records]
    return records, list(read), sum(skipped for _, skipped in read.values())


def connect_read_only(state_path: Path) -> sqlite3.Connection:
    """The crawl state, opened so that reading it can never change it (nor create it)."""
    return sqlite3.connect(f"{state_path.resolve().as_uri()}?mode=ro", uri=True)


def aliases_by_key(state_path: Path) -> dict[str, list[str]]:
    """The URLs of each article other than its record's, from the crawl state (read only)."""
    if not state_path.is_file():
        return {}
    db = connect_read_only(state_path)
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


def build(
    output_dir: Path,
    filters: Filters,
    history: bool = False,
    advance: Callable[[int], object] = lambda _: None,
    files_read: RunFiles | None = None,
) -> Dataset:
    """The dataset of the run files in ``output_dir`` (or ``files_read``, read already)."""
    records, files, skipped = read_records(output_dir, files_read, advance)
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
    counts = {name: Counter(str(row[name]) for row in rows) for name in ("site", "lang", "section")} | {
        "year": Counter(row["date"][:4] for row in rows)
    }
    return Dataset(rows, files, skipped, counts)


def jsonl_bytes(rows: Iterable[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def csv_bytes(rows: list[dict[str, Any]], excel: bool = False) -> bytes:
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


def parquet_schema(typed: bool = True) -> pa.Schema:
    """Every column typed, so that every export (an empty one too) has the same schema: nested
    values stay nested rather than JSON text, and dates and times are dates and UTC times, which
    pandas, R's arrow and DuckDB read as such. ``typed=False``: those as the records' ISO text."""
    import pyarrow as pa

    text = pa.string()
    types = {
        "doc_id": pa.int64(),
        "version": pa.int64(),
        "versions": pa.int64(),
        "attachments": pa.list_(pa.struct([("name", text), ("url", text)])),
        "extracted_by": pa.struct([(name, text) for name in RUNGS]),
        "aliases": pa.list_(text),
    }
    if typed:
        types |= dict.fromkeys(DATES, pa.date32()) | dict.fromkeys(TIMES, pa.timestamp("s", tz="UTC"))
    return pa.schema([(name, types.get(name, text)) for name in COLUMNS])


def parquet_bytes(rows: list[dict[str, Any]], excel: bool = False) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as error:
        raise SystemExit("Parquet needs pyarrow: pip install 'cnis-crawler[parquet]'") from error
    # Arrow parses ISO dates and times itself when casting text; an empty one is no date.
    blank_as_null = [{**row, **{name: row.get(name) or None for name in DATES + TIMES}} for row in rows]
    table = pa.Table.from_pylist(blank_as_null, schema=parquet_schema(typed=False))
    buffer = io.BytesIO()
    pq.write_table(table.cast(parquet_schema()), buffer, compression="zstd")
    return buffer.getvalue()


# ``excel`` matters only to CSV; the writers share one signature.
WRITERS: dict[str, Callable[[list[dict[str, Any]], bool], bytes]] = {
    "jsonl": lambda rows, excel: jsonl_bytes(rows),
    "csv": csv_bytes,
    "parquet": parquet_bytes,
}


def crawler_version() -> str:
    try:
        return version("cnis-crawler")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def export(
    output_dir: Path,
    out_dir: Path,
    formats: Sequence[str],
    filters: Filters,
    history: bool = False,
    excel: bool = False,
    advance: Callable[[int], object] = lambda _: None,
) -> dict[str, Any]:
    """Write the dataset in each format, then its manifest, into ``out_dir``; returns the manifest.

    ``advance`` is told the bytes of each run file read (for a progress bar).
    """
    dataset = build(output_dir, filters, history, advance)
    files = {}
    for fmt in formats:
        name = f"cnis-{'history' if history else 'articles'}.{fmt}"
        data = WRITERS[fmt](dataset.rows, excel)
        write_atomically(out_dir / name, data)
        files[name] = {
            "rows": len(dataset.rows),
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    dates = [row["date"] for row in dataset.rows]
    manifest = {
        "crawler_version": crawler_version(),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "files": files,
        "history": history,
        "filters": {key: value for key, value in vars(filters).items() if value},
        "date_range": [min(dates), max(dates)] if dates else None,
        "counts": {name: dict(sorted(counter.items())) for name, counter in dataset.counts.items()},
        "run_files": dataset.run_files,
        "skipped_lines": dataset.skipped_lines,
    }
    # Last, so that a manifest never names a file that is not there yet.
    write_atomically(out_dir / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def counted(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


def summary(manifest: dict[str, Any], out_dir: Path, seconds: float) -> Group:
    """What was written, on one screen: the files, then the rows per site, language, year, section."""
    width = max(len(str(out_dir / name)) for name in manifest["files"])
    files = [
        f"{out_dir / name!s:{width}}  {file['bytes']:>12,} bytes  sha256 {file['sha256'][:16]}…"
        for name, file in manifest["files"].items()
    ]
    counts, dates = manifest["counts"], manifest["date_range"] or ["-", "-"]
    rows, skipped = sum(counts["site"].values()), manifest["skipped_lines"]
    sections = Table("section", box=box.SIMPLE_HEAD, padding=(0, 1))
    sections.add_column("rows", justify="right")
    for section, count in counts["section"].items():
        sections.add_row(section, str(count))
    return Group(
        f"[bold]{rows:,} {'versions' if manifest['history'] else 'articles'}[/bold], dated {dates[0]} … "
        f"{dates[-1]}, from {counted(len(manifest['run_files']), 'run file')} in {seconds:.2f} s"
        + (f" ({skipped} lines skipped: see the warnings)" if skipped else ""),
        *([f"filters: {json.dumps(manifest['filters'], ensure_ascii=False)}"] if manifest["filters"] else []),
        *files,
        *(f"{name}: " + ", ".join(f"{value} {count}" for value, count in counts[name].items())
          for name in ("site", "lang", "year")),
        sections,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnis-crawler export", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--format", action="append", choices=tuple(WRITERS), help="jsonl (default), csv, parquet; repeatable"
    )
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
    logging.basicConfig(format="%(levelname)s: %(message)s")
    filters = Filters(args.since, args.until, tuple(args.site), tuple(args.lang), tuple(args.section))
    formats = list(dict.fromkeys(args.format or ["jsonl"]))
    started = time.perf_counter()
    # The bar goes to stderr and only to a terminal: piped or logged, the output is the summary.
    console = Console(stderr=True)
    with Progress(*Progress.get_default_columns(), DownloadColumn(), console=console,
                  disable=not console.is_terminal) as bar:  # fmt: skip
        total = sum(path.stat().st_size for path in run_files(args.output))
        reading = bar.add_task("reading run files", total=total)
        manifest = export(
            args.output, args.out, formats, filters, args.history, args.excel,
            advance=lambda size: bar.advance(reading, size),
        )  # fmt: skip
    # Soft wrap: a long path stays on one line, whole, when the summary goes to a log.
    Console(soft_wrap=True).print(summary(manifest, args.out, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
