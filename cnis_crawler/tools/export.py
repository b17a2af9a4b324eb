"""One dataset from the per-run files: ``cnis-crawler export`` (or ``python -m cnis_crawler.tools.export``).

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
import os
import re
import sys
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich import box
from rich.console import Console, Group
from rich.progress import DownloadColumn, Progress
from rich.table import Table

from cnis_crawler.crawling.items import RECORD_FIELDS
from cnis_crawler.extraction.article import RUNGS
from cnis_crawler.extraction.standards import committees_in, named_in, standards_in
from cnis_crawler.memory.files import (
    ensure_writable,
    parse_record,
    run_files,
    staged,
    sync_directory,
    write_atomically,
)
from cnis_crawler.memory.reader import StateReader, StateUnreadableError
from cnis_crawler.memory.state import moved_aside
from cnis_crawler.tools.cli import crawler_version, fail, plain
from cnis_crawler.tools.datapackage import DATAPACKAGE, datapackage
from cnis_crawler.urls import section_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pyarrow as pa

logger = logging.getLogger(__name__)

EXPORT_FIELDS = ("first_seen", "last_changed", "versions", "aliases")
COLUMNS = RECORD_FIELDS + EXPORT_FIELDS
DEFAULT_STATE = Path("output/state.sqlite")
DATES = ("date", "url_date")
TIMES = ("fetched_at", "first_seen", "last_changed")
# Lists and mappings have no CSV cell of their own: they go in as JSON.
JSON_CELLS = ("attachments", "images", "standards", "committees", "extracted_by", "aliases")


PERIOD_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def period(text: str) -> str:
    """A year, month or day (``2024``, ``2024-03``, ``2024-03-31``): an argparse type, so that
    ``--until 2024/03`` or ``--since yesterday`` is an error, not an empty or a partial dataset."""
    if PERIOD_RE.match(text):
        with suppress(ValueError):
            date.fromisoformat(f"{text}-01-01"[:10] if len(text) < 10 else text)
            if len(text) != 7 or 1 <= int(text[5:]) <= 12:
                return text
    raise argparse.ArgumentTypeError(f"{text!r} is no date: YYYY, YYYY-MM or YYYY-MM-DD")


@dataclass(frozen=True)
class Filters:
    since: str | None = None
    """First year, month or day included."""
    until: str | None = None
    """Last year, month or day included: ``2024`` takes all of 2024."""
    sites: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    """Section trails (``News``, ``News > CNIS news``: whole crumbs) or keys (``en.cnis.ac.cn/kycg``)."""
    standards: tuple[str, ...] = ()
    """Standards, normalised: ``GB/T 19001`` takes every edition (``GB/T 19001-2016`` …)."""
    committees: tuple[str, ...] = ()
    """Committees, normalised: ``ISO/TC 268`` takes its subcommittees (``ISO/TC 268/SC 1``) too."""

    def accept(self, record: dict[str, Any]) -> bool:
        day = record["date"]
        return (
            (self.since is None or day >= self.since)
            and (self.until is None or day[: len(self.until)] <= self.until)
            and (not self.sites or record["site"] in self.sites)
            and (not self.langs or record["lang"] in self.langs)
            and (not self.sections or any(in_section(record, name) for name in self.sections))
            and (not self.standards or names_any(record["standards"], self.standards, "-:"))
            and (not self.committees or names_any(record["committees"], self.committees, "/"))
        )


def names_any(named: list[str], wanted: tuple[str, ...], continued_by: str) -> bool:
    """Whether ``named`` holds one of ``wanted`` or a longer name of it (continued by one of
    ``continued_by``: an edition's year or part, a subcommittee)."""
    return any(
        name == want or (name.startswith(want) and name[len(want)] in continued_by)
        for name in named
        for want in wanted
    )


FILE_LISTS = ("attachments", "images")
DOWNLOAD_FIELDS = ("path", "checksum")


def about(record: dict[str, Any]) -> dict[str, Any]:
    """A record with every field of today's: one written before the crawler named standards and
    committees gets them from its own title, subtitle and body, as the crawler reads them now;
    one written before it kept pictures has none (its page was not kept to read them from).
    Every attachment and picture has a ``path`` and ``checksum``, null where no file was
    downloaded, so that each format of the export has one shape."""
    files = {
        name: [
            entry | {key: None for key in DOWNLOAD_FIELDS if key not in entry}
            for entry in record.get(name) or ()
        ]
        for name in FILE_LISTS
    }
    record = {**record, **files}
    if record.get("standards") is not None and record.get("committees") is not None:
        return record
    standards, committees = named_in(record.get("title"), record.get("subtitle"), record.get("body"))
    return {**record, "standards": standards, "committees": committees}


def named_once(value: str, find: Callable[[str], list[str]], what: str) -> str:
    """``--standard``/``--committee``: the one name ``value`` holds, normalised; an argparse type."""
    found = find(value.upper())  # as typed: "gb/t 10000" is GB/T 10000
    if not found:
        raise argparse.ArgumentTypeError(f"{value!r} names no {what}")
    if len(found) > 1:
        raise argparse.ArgumentTypeError(f"{value!r} names more than one {what}: {', '.join(found)}")
    return found[0]


def in_section(record: dict[str, Any], name: str) -> bool:
    trail = record["section"]
    section = section_of(record["url"])
    return trail == name or trail.startswith(f"{name} > ") or (section is not None and section.key == name)


@dataclass
class Dataset:
    rows: list[dict[str, Any]]
    run_files: list[str]
    skipped_lines: int = 0
    """Lines of the run files that are no record of this crawler (an older format)."""
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    duplicates: int = 0
    """Records found twice (the same key and version in two run files)."""
    missing: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    """The run files the state counts that are gone or changed since stored: ``name (how)``."""
    """Articles whose latest version the crawl state counts as written and no run file holds."""


RunFiles = dict[str, tuple[list[dict[str, Any]], int]]
"""Run file name → its records and the number of its lines skipped."""


def read_run_files(output_dir: Path, advance: Callable[[int], object] = lambda _: None) -> RunFiles:
    """Each run file by name, oldest run first: its records, and how many lines were skipped.

    ``advance`` is told the bytes of each file read. A line that is not one of this crawler's
    records (an older format, not UTF-8 or not JSON: a file someone else put there) is skipped,
    counted and logged with its place, so a bad file costs its bad lines and nothing else.
    """
    read: RunFiles = {}
    for path in run_files(output_dir):
        data = path.read_bytes()
        records, skipped = [], 0
        for number, line in enumerate(data.splitlines(), 1):
            record, reason = parse_record(line)
            if record is None:
                skipped += 1
                logger.warning("Skipped line %d of %s: %s", number, path, reason)
            else:
                records.append(record)
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


def configured_state() -> Path:
    """Where the crawl keeps its state: ``CNIS_STATE_PATH`` of the project's settings (those
    ``scrapy.cfg`` or ``SCRAPY_SETTINGS_MODULE`` name), as ``scrapy crawl`` reads it."""
    from scrapy.utils.project import get_project_settings  # only for the tools' defaults

    return Path(get_project_settings().get("CNIS_STATE_PATH") or DEFAULT_STATE)


def crawl_paths(output: Path | None, state: Path | None) -> tuple[Path, StateReader]:
    """The crawl's output folder and its state, from ``--output`` and ``--state``: by default
    the configured state and its folder (where the run files are), or the state of that name
    in the ``--output`` folder."""
    configured = configured_state()
    folder = output or configured.parent
    return folder, StateReader(state or (configured if output is None else folder / configured.name))


def build(
    output_dir: Path,
    filters: Filters,
    history: bool = False,
    advance: Callable[[int], object] = lambda _: None,
    files_read: RunFiles | None = None,
    state: StateReader | None = None,
) -> Dataset:
    """The dataset of the run files in ``output_dir`` (or ``files_read``, read already): rows with
    exactly :data:`COLUMNS`, whatever version of the crawler wrote the records."""
    state = state or crawl_paths(output_dir, None)[1]
    # The state before the files: a record it counts is in a file stored before it was counted.
    known = state.article_versions()
    records, files, skipped = read_records(output_dir, files_read, advance)
    aliases = state.aliases_by_key()
    by_key: dict[str, dict[int, dict[str, Any]]] = {}
    duplicates, unknown = 0, Counter[str]()
    for record in records:
        versions = by_key.setdefault(record["key"], {})
        if (earlier := versions.get(record["version"])) is not None:
            duplicates += 1
            if earlier.get("content_hash") != record.get("content_hash"):
                logger.warning("Two different records of %s version %s: the first one kept", *(
                    record["key"], record["version"]))  # fmt: skip
            continue
        versions[record["version"]] = record = about(record)
        unknown.update(name for name in record if name not in COLUMNS)
    if unknown:
        logger.warning("Fields that are no column of the dataset left out: %s", dict(unknown))
    rows: list[dict[str, Any]] = []
    for key, numbered in by_key.items():
        ordered = [numbered[number] for number in sorted(numbered)]
        history_fields = {
            "first_seen": ordered[0]["fetched_at"],
            "last_changed": ordered[-1]["fetched_at"],
            "versions": ordered[-1]["version"],
            "aliases": aliases.get(key, []),
        }
        for record in ordered if history else ordered[-1:]:
            if filters.accept(record):
                rows.append({name: record.get(name) for name in COLUMNS} | history_fields)
    rows.sort(key=lambda row: (row["date"], row["key"], row["version"]))
    counts = {name: Counter(str(row[name]) for row in rows) for name in ("site", "lang", "section")} | {
        "year": Counter(row["date"][:4] for row in rows)
    }
    missing = sorted(key for key, version in known.items() if version not in by_key.get(key, {}))
    changed = [f"{path.name} ({how})" for path, how in state.changed_files()]
    return Dataset(rows, files, skipped, counts, duplicates, missing, changed)


def write_jsonl(rows: list[dict[str, Any]], file: IO[bytes], excel: bool = False) -> None:
    for row in rows:
        file.write(json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n")


def write_csv(rows: list[dict[str, Any]], file: IO[bytes], excel: bool = False) -> None:
    """UTF-8 CSV, the header also without rows; ``excel`` puts the byte order mark first,
    without which a spreadsheet reads the Chinese text as another encoding."""
    text = io.TextIOWrapper(file, encoding="utf-8-sig" if excel else "utf-8", newline="")
    writer = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: json.dumps(value, ensure_ascii=False) if name in JSON_CELLS else value
                         for name, value in row.items()})  # fmt: skip
    text.flush()
    text.detach()  # the file is the caller's to close


def parquet_schema(typed: bool = True) -> pa.Schema:
    """Every column typed, so that every export (an empty one too) has the same schema: nested
    values stay nested rather than JSON text, and dates and times are dates and UTC times, which
    pandas, R's arrow and DuckDB read as such. ``typed=False``: those as the records' ISO text."""
    import pyarrow as pa

    text = pa.string()
    downloaded = [("path", text), ("checksum", text)]  # null where the crawl downloaded no files
    types = {
        "doc_id": pa.int64(),
        "version": pa.int64(),
        "versions": pa.int64(),
        "attachments": pa.list_(pa.struct([("name", text), ("url", text), *downloaded])),
        "images": pa.list_(pa.struct([("url", text), ("caption", text), ("alt", text), *downloaded])),
        "standards": pa.list_(text),
        "committees": pa.list_(text),
        "extracted_by": pa.struct([(name, text) for name in RUNGS]),
        "aliases": pa.list_(text),
    }
    if typed:
        types |= dict.fromkeys(DATES, pa.date32()) | dict.fromkeys(TIMES, pa.timestamp("s", tz="UTC"))
    return pa.schema([(name, types.get(name, text)) for name in COLUMNS])


PARQUET_ROW_GROUP = 2000
"""Rows converted and written at a time: the Arrow copy of the data never exceeds one group."""


def write_parquet(rows: list[dict[str, Any]], file: IO[bytes], excel: bool = False) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    text_schema, schema = parquet_schema(typed=False), parquet_schema()
    with pq.ParquetWriter(file, schema, compression="zstd") as writer:
        for start in range(0, len(rows), PARQUET_ROW_GROUP):
            # Arrow parses ISO dates and times itself when casting text; an empty one is no date.
            group = [{**row, **{name: row[name] or None for name in DATES + TIMES}}
                     for row in rows[start : start + PARQUET_ROW_GROUP]]  # fmt: skip
            writer.write_table(pa.Table.from_pylist(group, schema=text_schema).cast(schema))


# ``excel`` matters only to CSV; the writers share one signature.
WRITERS: dict[str, Callable[[list[dict[str, Any]], IO[bytes], bool], None]] = {
    "jsonl": write_jsonl,
    "csv": write_csv,
    "parquet": write_parquet,
}
EXPORT_NAME_RE = re.compile(r"^cnis-(articles|history)\.(jsonl|csv|parquet)$")
"""Files of an earlier export, removed by the next one unless it writes them again."""


def export(
    output_dir: Path,
    out_dir: Path,
    formats: Sequence[str],
    filters: Filters,
    history: bool = False,
    excel: bool = False,
    advance: Callable[[int], object] = lambda _: None,
    state: StateReader | None = None,
) -> dict[str, Any]:
    """Write the dataset in each format, then its manifest, into ``out_dir``; returns the manifest.

    The manifest goes first and comes back last: while it is absent, the folder is being
    written (or an export was killed), and once it is there, it names every file of the export
    and each is complete. Files of an earlier export that this one does not write are removed,
    so the folder never holds one export's CSV beside another's Parquet.
    ``advance`` is told the bytes of each run file read (for a progress bar).
    """
    if "parquet" in formats and find_spec("pyarrow") is None:
        raise ExportError("Parquet needs pyarrow: pip install 'cnis-crawler[parquet]'")
    dataset = build(output_dir, filters, history, advance, state=state)
    # Nothing of an earlier export is touched before the new one can be written whole.
    if dataset.missing:
        raise ExportError(
            f"{len(dataset.missing)} articles the crawl state counts as written are in no run file of"
            f" {output_dir} (first: {', '.join(dataset.missing[:3])}): {damaged_files(dataset)}, and the"
            " next crawl fetches them again; the export in"
            f" {out_dir} is left as it was"
        )
    for changed in dataset.changed_files:  # with no record lost: an edit, read as it is now
        logger.warning("Run file %s since the crawl stored it: its records are read as they are now", changed)
    if not dataset.rows:
        chosen = {key: value for key, value in vars(filters).items() if value}
        what = (
            f"no article matches the filters {json.dumps(chosen, ensure_ascii=False)}"
            if chosen
            else "no article"
        )
        raise ExportError(
            f"{what} in the run files of {output_dir}: the export in {out_dir} is left as it was"
        )
    check_writable(out_dir)
    parts = write_parts(out_dir, dataset.rows, formats, history, excel)
    # Every file is complete: only now is the earlier export replaced.
    (out_dir / "manifest.json").unlink(missing_ok=True)
    files = {}
    for name, part in parts.items():
        os.replace(part, out_dir / name)
        files[name] = {"rows": len(dataset.rows)} | file_facts(out_dir / name)
    sync_directory(out_dir)
    for stale in out_dir.iterdir():
        if EXPORT_NAME_RE.match(stale.name) and stale.name not in files:
            stale.unlink()
    describe_csv(out_dir, files, excel, history)
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
        # The pages the records were read from, as fetched: the crawl's archive, as listed.
        "warc_files": [
            {"path": path, "bytes": size, "responses": responses}
            for path, size, responses in (state or crawl_paths(output_dir, None)[1]).archives()
        ],
        "skipped_lines": dataset.skipped_lines,
        "duplicate_records": dataset.duplicates,
    }
    write_beside(out_dir, "manifest.json", manifest)
    return manifest


def write_beside(out_dir: Path, name: str, described: dict[str, Any]) -> None:
    """A JSON file describing the export's files, written once they are in place."""
    try:
        write_atomically(out_dir / name, json.dumps(described, ensure_ascii=False, indent=2))
    except OSError as error:
        raise ExportError(
            f"the export's files are in {out_dir} but its {name} could not be written"
            f" ({error.strerror or error}): the folder counts as an export in the making"
        ) from error


def damaged_files(dataset: Dataset) -> str:
    """The run files that lost what the state counts, as a user reads it."""
    if not dataset.changed_files:
        return "a run file is missing or damaged"
    return f"run file{'s' * (len(dataset.changed_files) > 1)} {', '.join(dataset.changed_files)}"


def write_parts(
    out_dir: Path, rows: list[dict[str, Any]], formats: Sequence[str], history: bool, excel: bool
) -> dict[str, Path]:
    """Each format written whole beside its file (see :func:`staged`), by file name; none left
    when one cannot be written (a full disk), which is an :class:`ExportError`."""
    parts: dict[str, Path] = {}
    try:
        for fmt in formats:
            name = f"cnis-{'history' if history else 'articles'}.{fmt}"
            with staged(out_dir / name) as (part, file):
                WRITERS[fmt](rows, file, excel)
            parts[name] = part
    except OSError as error:
        for part in parts.values():
            part.unlink(missing_ok=True)
        raise ExportError(
            f"cannot write the export into {out_dir}: {error.strerror or error}; the export there is left"
            " as it was"
        ) from error
    return parts


def check_writable(folder: Path) -> None:
    """Raise ExportError unless files can be written into ``folder`` (made if missing)."""
    try:
        ensure_writable(folder)
    except OSError as error:
        raise ExportError(f"cannot write into {folder}: {error.strerror or error}") from None


class ExportError(Exception):
    """Input the export cannot use; the command line says it and exits 2."""


def describe_csv(out_dir: Path, files: dict[str, dict[str, Any]], excel: bool, history: bool) -> None:
    """The CSV's data package (:mod:`cnis_crawler.tools.datapackage`), or none without a CSV."""
    csv_name = next((name for name in files if name.endswith(".csv")), None)
    if csv_name is None:
        (out_dir / DATAPACKAGE).unlink(missing_ok=True)
        return
    write_beside(out_dir, DATAPACKAGE, datapackage(COLUMNS, csv_name, files[csv_name], excel, history))


def file_facts(path: Path) -> dict[str, Any]:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


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
    rows, skipped, duplicates = (
        sum(counts["site"].values()),
        manifest["skipped_lines"],
        manifest["duplicate_records"],
    )
    sections = Table("section", box=box.SIMPLE_HEAD, padding=(0, 1))
    sections.add_column("rows", justify="right")
    for section, count in counts["section"].items():
        sections.add_row(section, str(count))
    return Group(
        f"[bold]{counted(rows, 'version' if manifest['history'] else 'article')}[/bold], dated {dates[0]} … "
        f"{dates[-1]}, from {counted(len(manifest['run_files']), 'run file')} in {seconds:.2f} s"
        + (f" ({skipped} lines skipped: see the warnings)" if skipped else "")
        + (f" ({duplicates} records found twice, written once)" if duplicates else ""),
        *([f"filters: {json.dumps(manifest['filters'], ensure_ascii=False)}"] if manifest["filters"] else []),
        *files,
        *(f"{name}: " + ", ".join(f"{value} {count}" for value, count in counts[name].items())
          for name in ("site", "lang", "year")),
        sections,
    )  # fmt: skip


def crawl_of(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[Path, StateReader]:
    """The output folder and state the arguments name; a ``--state`` that is no file is an error,
    a missing default state a warning (the run files alone hold no aliases, no run accounting)."""
    output, state = crawl_paths(args.output, args.state)
    if output.is_dir() and not state.exists():
        if args.state is not None:
            parser.error(f"no crawl state at {state.path}")
        logger.warning("No crawl state at %s: what only the state knows is missing (--state)", state.path)
    for damaged in moved_aside(state.path):
        logger.warning(
            "The crawl state was found damaged and rebuilt from the run files; the damaged file is"
            " kept as %s: delete it once you no longer need it",
            damaged,
        )
    return output, state


def add_crawl_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", type=Path, help="the crawl's output folder (default: the folder of CNIS_STATE_PATH)"
    )
    parser.add_argument(
        "--state", type=Path, help="the crawl state (default: CNIS_STATE_PATH, or its name in --output)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnis-crawler export", description=plain(__doc__))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "--format", action="append", choices=tuple(WRITERS), help="jsonl (default), csv, parquet; repeatable"
    )
    add_crawl_arguments(parser)
    parser.add_argument("--out", type=Path, help="folder to write into (default: OUTPUT/export)")
    parser.add_argument("--since", type=period, help="first date: YYYY, YYYY-MM or YYYY-MM-DD")
    parser.add_argument("--until", type=period, help="last date, inclusive: 2024 takes all of 2024")
    parser.add_argument("--site", action="append", default=[], help="a host; repeatable")
    parser.add_argument("--lang", action="append", default=[], choices=("en", "zh"))
    parser.add_argument("--section", action="append", default=[], help="a trail (whole crumbs) or key")
    for what, find, wider in (
        ("standard", standards_in, "GB/T 19001 takes every edition"),
        ("committee", committees_in, "ISO/TC 268 takes its subcommittees"),
    ):
        parser.add_argument(
            f"--{what}",
            action="append",
            default=[],
            type=partial(named_once, find=find, what=what),
            help=f"articles naming it ({wider}); repeatable",
        )
    parser.add_argument("--history", action="store_true", help="every version, not the latest")
    parser.add_argument("--excel", action="store_true", help="CSV with the BOM a spreadsheet needs")
    args = parser.parse_args(argv)
    formats = list(dict.fromkeys(args.format or ["jsonl"]))
    logging.basicConfig(format="%(levelname)s: %(message)s")
    args.output, state = crawl_of(parser, args)
    out = args.out or args.output / "export"
    if not args.output.is_dir():
        parser.error(f"no crawl output at {args.output}")
    if out.exists() and not out.is_dir():
        parser.error(f"--out {out} is a file, not a folder")
    if out.resolve() == args.output.resolve():
        parser.error("--out must not be the crawl's output folder: the export would be read as a run")
    if args.excel and "csv" not in formats:
        parser.error("--excel is for --format csv")
    if args.since and args.until and args.since[: len(args.until)] > args.until:
        parser.error(f"--since {args.since} is after --until {args.until}: no day is in that period")
    filters = Filters(
        args.since,
        args.until,
        tuple(args.site),
        tuple(args.lang),
        tuple(args.section),
        tuple(args.standard),
        tuple(args.committee),
    )
    started = time.perf_counter()
    # The bar goes to stderr and only to a terminal: piped or logged, the output is the summary.
    console = Console(stderr=True)
    try:
        with Progress(*Progress.get_default_columns(), DownloadColumn(), console=console,
                      disable=not console.is_terminal) as bar:  # fmt: skip
            total = sum(path.stat().st_size for path in run_files(args.output))
            reading = bar.add_task("reading run files", total=total)
            manifest = export(
                args.output, out, formats, filters, args.history, args.excel,
                advance=lambda size: bar.advance(reading, size), state=state,
            )  # fmt: skip
    except (ExportError, StateUnreadableError) as error:
        return fail(parser.prog, str(error))  # no usage: the arguments were right
    # Soft wrap: a long path stays on one line, whole, when the summary goes to a log.
    Console(soft_wrap=True).print(summary(manifest, out, time.perf_counter() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
