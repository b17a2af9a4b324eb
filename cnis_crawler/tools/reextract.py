"""Rebuild the records of every archived article with the current extractor, offline.

    cnis-crawler reextract                       # the configured crawl (output/, output/warc/)
    cnis-crawler reextract --output other/ --workers 1

Each article's newest page in the archive (``output/warc/``, see ``CNIS_WARC_DIR``), with its
further pages, is read again as a crawl reads a fetched page; where the record it makes differs
from the article's latest record (any field but ``fetched_at``, ``version`` and ``change``),
the new record is written as the next ``version`` with ``change: "reextracted"``, into run files
of its own beside the crawl's (``cnis-<run id>-<n>.jsonl``), which the crawl state learns as it
learns a crawl's. A page that now makes a record where it made none (dropped before) gets its
first version so. A page that now fails keeps its record; the failure is counted by reason.
Nothing is fetched. Run it while no crawl runs: it holds the crawl state as a crawl does.

The accounting (pages read, unchanged, re-extracted, new, aliases, failed by reason, records with
no archived page) is printed, and kept in the state as the run's. Exit status: 0, or 2 for an
error in the arguments or a crawl state or archive that cannot be used.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import Progress

from cnis_crawler.crawling.drops import Drop, MissingPart, NotHtml
from cnis_crawler.crawling.items import RECORD_FIELDS, FetchedPage, record_of
from cnis_crawler.crawling.memory import listed_from_json
from cnis_crawler.crawling.pipelines import ExtractArticlePipeline, article_of, fields_read, validate
from cnis_crawler.extraction.encoding import decode_html, not_html_page
from cnis_crawler.extraction.reading import read_article, read_article_page
from cnis_crawler.memory.files import RUN_FILES, new_run_id, parse_record, run_files, write_atomically
from cnis_crawler.memory.state import (
    REEXTRACT_FAILED,
    REEXTRACT_MODE,
    REEXTRACTED,
    STATE_MOVED_ASIDE,
    CrawlState,
    StateInUseError,
    utc_now,
)
from cnis_crawler.memory.warc import Capture, archive_files, index_archive, read_capture
from cnis_crawler.tools.cli import fail, plain
from cnis_crawler.urls import first_page_url, parse_article_url

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from cnis_crawler.extraction import Listed
    from cnis_crawler.memory.warc import Archived

logger = logging.getLogger(__name__)

BATCH = 1000
"""Records per run file: a re-extraction stopped half-way keeps what it wrote, and the next one
finds those articles unchanged."""
BOOKKEEPING = frozenset(("key", "version", "change", "fetched_at"))
"""What a record holds about its writing, not about the page: no change of the page."""
STORED_FILE_FIELDS = ("path", "checksum")
"""What the files pipeline adds to an attachment or picture; re-extraction fetches nothing."""
CHUNK = 16
"""Pages handed to a worker at a time."""
SAME_FETCH = timedelta(minutes=2)
"""How long after its response a page's record may be made (a crawl's backlog): a record fetched
later than that after the archived page is of another fetch."""


@dataclass(frozen=True)
class Task:
    """One archived article for a worker: its newest page, and the archive's pages of its URL
    stem (its further pages, ``t…_<id>_1`` …)."""

    url: str
    page: Capture
    parts: dict[str, Capture]
    listed: Listed | None


@dataclass(frozen=True)
class Outcome:
    url: str
    record: dict[str, Any] | None
    """The record the page makes now (``key``, ``version``, ``change`` still to be given)."""
    reason: str = ""
    """Why it makes none: a drop's name, as a crawl counts it."""
    detail: str = ""
    traceback: str = ""
    """Where extraction raised, for ``ExtractionFailed``."""


@dataclass
class Accounting:
    read: int = 0
    """Archived article pages read."""
    unchanged: int = 0
    reextracted: int = 0
    """Known articles whose record changed: written as their next version."""
    new: int = 0
    """Pages that make a record where the crawl has none (dropped before): their first version."""
    aliases: int = 0
    """Pages of an article whose record has another URL (its copy on the old host, a redirect)."""
    not_archived: int = 0
    """Articles whose record's page is not in the archive (fetched before it was kept)."""
    stale: int = 0
    """Articles whose record is of a later fetch than the page the archive holds."""
    failed: Counter[str] = field(default_factory=Counter)
    damaged_files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        counts = {
            "pages_read": self.read,
            "unchanged": self.unchanged,
            "reextracted": self.reextracted,
            "new": self.new,
            "aliases": self.aliases,
            "not_archived": self.not_archived,
            "stale": self.stale,
        }
        return counts | {f"{REEXTRACT_FAILED}{reason}": n for reason, n in sorted(self.failed.items())}


# In a worker ------------------------------------------------------------------------------------


def page_html(archived: Archived, what: str) -> str:
    """The page's text, or the drop of a response that is no HTML page."""
    content_type = archived.header("Content-Type")
    if problem := not_html_page(content_type, archived.body):
        raise (NotHtml if what == "page" else MissingPart)(f"{what} {problem}: {archived.url}")
    return decode_html(archived.body, content_type)


def file_stem(url: str) -> str:
    """``t20190308_38702`` of ``…/t20190308_38702.shtml``."""
    return url.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def already_live(url: str) -> str:
    """An archived page is kept under its live URL: its links are live already."""
    return url


def continuations(task: Task, parts: tuple[str, ...]) -> list[str]:
    """The text of the article's further pages, from the archive."""
    found = []
    for part in parts:
        if (capture := task.parts.get(part)) is None:
            raise MissingPart(f"part {part} is not in the archive: {task.url}")
        found.append(page_html(read_capture(capture), "part"))
    return found


def reextract_page(task: Task) -> Outcome:
    """The record ``task``'s page makes now, or why it makes none: what a crawl's spider and
    pipelines make of the page when fetched, from the archive."""
    read = None
    try:
        archived = read_capture(task.page)
        page = FetchedPage(url=task.url, fetched_at=archived.date, listed=task.listed)
        html = page_html(archived, "page")
        article_url = ExtractArticlePipeline.article_url(page)
        if not task.parts and file_stem(task.url) not in html:
            # Neither a pager script nor a link can name a further page (<stem>_1) without the
            # page's own file stem: its links need no reading.
            read = read_article(html, task.url, task.listed)
        else:
            reading = read_article_page(html, task.url, task.url, already_live, task.listed)
            parts = reading.links.parts
            read = reading.article or read_article(html, task.url, task.listed, continuations(task, parts))
        article = article_of(page, article_url, fields_read(task.url, read))
        validate(article)
    except Drop as drop:
        failed = read.traceback if read is not None else ""
        return Outcome(task.url, None, type(drop).__name__, str(drop), failed)
    except Exception as error:  # noqa: BLE001 (one page never stops the run: counted and named)
        # A response the archive cannot give back (an encoding warcio cannot undo, a file
        # changed since it was indexed).
        return Outcome(task.url, None, "ArchiveUnreadable", f"{type(error).__name__}: {error}: {task.url}")
    return Outcome(task.url, record_of(article))


def outcomes(tasks: list[Task], workers: int) -> Iterator[Outcome]:
    """Each task's outcome, in order: in ``workers`` processes, or in this one for 1."""
    if workers <= 1:
        yield from map(reextract_page, tasks)
        return
    with multiprocessing.Pool(
        workers, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)
    ) as pool:
        yield from pool.imap(reextract_page, tasks, chunksize=CHUNK)


# In the main process ---------------------------------------------------------------------------


def latest_records(output: Path) -> dict[str, dict[str, Any]]:
    """Each article's record of the highest version in the run files."""
    latest: dict[str, dict[str, Any]] = {}
    for path in run_files(output):
        with path.open("rb") as lines:
            for line in lines:
                record, _ = parse_record(line)
                if record is not None and record["version"] > latest.get(record["key"], {}).get("version", 0):
                    latest[record["key"]] = record
    return latest


def without_stored_files(value: Any) -> Any:
    if isinstance(value, list):
        return [
            {k: v for k, v in entry.items() if k not in STORED_FILE_FIELDS}
            if isinstance(entry, dict)
            else entry
            for entry in value
        ]
    return value


def same_record(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether two records say the same of the page. A field an older crawler did not write is
    the same as an empty one."""
    return all(
        without_stored_files(new[name]) == without_stored_files(old[name]) if name in old else not new[name]
        for name in RECORD_FIELDS
        if name not in BOOKKEEPING
    )


def keep_stored_files(new: dict[str, Any], old: dict[str, Any]) -> None:
    """The files a crawl stored for the old record (``path``, ``checksum``) stay on the new one."""
    for name in ("attachments", "images"):
        stored = {entry["url"]: entry for entry in old.get(name) or [] if isinstance(entry, dict)}
        for entry in new[name]:
            if (was := stored.get(entry["url"])) is not None:
                entry.update({k: was[k] for k in STORED_FILE_FIELDS if k in was})


class Reextraction:
    """One re-extraction run over a crawl's state, run files and archive."""

    def __init__(self, state: CrawlState, output: Path, warc: Path) -> None:
        self.state = state
        self.output = output
        self.warc = warc
        self.run_id = new_run_id()
        self.accounting = Accounting()
        self.records: dict[str, dict[str, Any]] = {}
        """Each article's latest record in the run files, by key."""
        self.written: dict[str, dict[str, Any]] = {}
        """This run's records by key, not yet in a run file."""
        self.files_written = 0
        self.done_keys: set[str] = set()
        self.keys: dict[str, str] = {}
        """The key each page URL the state knows stands for."""

    def adopt(self) -> None:
        """Run files a killed crawl or re-extraction stored without telling the state: learnt
        first, as a crawl does, so that their records are not written twice."""
        for path, new, _ in self.state.adopt_files(run_files(self.output), self.run_id, utc_now()):
            if new:
                logger.warning("Run file %s was not known to the crawl state: %d records adopted", path, new)
        self.records = latest_records(self.output)

    def tasks(self) -> list[Task]:
        """The archived article pages to read: each known article's page, and each page that
        made no record; a copy of an article under another URL is counted, not read."""
        index = index_archive(archive_files(self.warc), lambda url, status: status == 200)
        self.accounting.damaged_files = index.damaged
        parts: dict[str, dict[str, Capture]] = {}
        firsts: dict[str, Capture] = {}
        for url, capture in index.captures.items():
            if (article := parse_article_url(url)) is None:
                continue
            if article.part:
                parts.setdefault(first_page_url(url), {})[url] = capture
            else:
                firsts[url] = capture
        self.keys = self.state.page_keys()
        links = self.state.links()
        record_urls = {record["url"] for record in self.records.values()}
        self.accounting.not_archived = len(record_urls - firsts.keys())
        tasks = []
        for url in sorted(firsts):
            key = self.keys.get(url)
            if key is not None and url not in record_urls and key in self.records:
                self.accounting.aliases += 1
                continue
            if key is not None and (record := self.records.get(key)) and stale(firsts[url], record):
                # The record is of a later fetch the archive does not hold (archive off, or a
                # killed crawl's part lost): its older page would take the record back.
                self.accounting.stale += 1
                continue
            stored = links.get(url)
            listed = listed_from_json(stored.listed, stored.title) if stored else None
            tasks.append(Task(url, firsts[url], parts.get(url, {}), listed))
        return tasks

    def take(self, outcome: Outcome) -> None:
        """Count ``outcome``, and keep its record where it is new or changed."""
        self.accounting.read += 1
        if (record := outcome.record) is None:
            self.accounting.failed[outcome.reason] += 1
            logger.warning("Not re-extracted (%s, the record stays): %s", outcome.reason, outcome.detail)
            if outcome.traceback:
                logger.error("Extraction failed on %s\n%s", outcome.url, outcome.traceback.rstrip())
            return
        key = self.keys.get(outcome.url)
        if key is None:
            if same := self.state.article_with_content(
                record["lang"], record["date"], record["content_hash"]
            ):
                self.accounting.aliases += 1
                logger.info("Same title, date and body as %s: %s", same.url, outcome.url)
                return
            key = f"{record['site']}/{record['doc_id']}"
        if key in self.done_keys:
            self.accounting.aliases += 1
            return
        self.done_keys.add(key)
        old = self.records.get(key)
        if old is not None and same_record(record, old):
            self.accounting.unchanged += 1
            return
        known = self.state.article(key)
        versions = [old["version"] if old else 0, known.version if known else 0]
        if old is not None:
            keep_stored_files(record, old)
            self.accounting.reextracted += 1
        else:
            self.accounting.new += 1
        self.written[key] = record | {"key": key, "version": max(versions) + 1, "change": REEXTRACTED}
        if len(self.written) >= BATCH:
            self.store()

    def store(self) -> None:
        """Write the records kept so far into the run's next run file, and tell the state."""
        if not self.written:
            return
        self.files_written += 1
        path = self.output / RUN_FILES.replace("*", f"{self.run_id}-{self.files_written:03d}")
        lines = (json_line(self.written[key]) for key in sorted(self.written))
        write_atomically(path, "".join(lines))
        # A stop between the two: the next crawl or re-extraction adopts the file.
        self.state.adopt(path, self.run_id, utc_now())
        self.written.clear()

    def run(
        self, workers: int, progress: Callable[[int, int], object] = lambda done, total: None
    ) -> Accounting:
        """Re-extract in ``workers`` processes; ``progress`` is told (pages done, pages to do)."""
        self.state.start_run(self.run_id, utc_now(), REEXTRACT_MODE)
        reason = "failed"
        try:
            self.adopt()
            tasks = self.tasks()
            progress(0, len(tasks))
            for done, outcome in enumerate(outcomes(tasks, workers), 1):
                self.take(outcome)
                progress(done, len(tasks))
            self.store()
            reason = "finished"
        except KeyboardInterrupt:
            self.store()  # what was read is kept, and counted as it is
            reason = "interrupted"
            raise
        finally:
            self.state.finish_run(
                self.run_id, utc_now(), reason, self.accounting.as_dict(), completed=reason == "finished"
            )
        return self.accounting


def stale(capture: Capture, record: dict[str, Any]) -> bool:
    """Whether ``record`` was fetched after ``capture`` was (WARC-Date and fetched_at: UTC to the
    second, ``Z``). A record's own capture is dated a moment before it, when the response came."""
    try:
        fetched = datetime.fromisoformat(str(record.get("fetched_at")))
        archived = datetime.fromisoformat(capture.date)
    except ValueError:  # a record or capture without a time: nothing tells them apart
        return False
    return fetched - archived > SAME_FETCH


def json_line(record: dict[str, Any]) -> str:
    """A run file's line, the fields in the order a crawl's feed writes them."""
    ordered = {name: record.get(name) for name in RECORD_FIELDS}
    return json.dumps(ordered, ensure_ascii=False) + "\n"


def summary(accounting: Accounting, seconds: float) -> str:
    failed = ", ".join(f"{reason} {n}" for reason, n in sorted(accounting.failed.items())) or "none"
    rate = accounting.read / seconds if seconds else 0.0
    lines = [
        f"Re-extracted {accounting.read:,} archived article pages in {seconds:.1f} s ({rate:,.0f} a second):",
        (
            f"  unchanged {accounting.unchanged:,}, new versions {accounting.reextracted:,},"
            f" new records {accounting.new:,}, aliases {accounting.aliases:,}; failed: {failed}"
        ),
    ]
    if accounting.stale:
        lines.append(
            f"  {accounting.stale:,} records are of a later fetch than the archived page (kept as they are:"
            " the archive was off, or a killed crawl's part is lost)"
        )
    if accounting.not_archived:
        lines.append(
            f"  {accounting.not_archived:,} records have no archived page"
            " (fetched before the archive was kept, or its files deleted)"
        )
    lines.extend(f"  damaged archive file: {damage}" for damage in accounting.damaged_files)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnis-crawler reextract", description=plain(__doc__))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    from cnis_crawler.tools.export import add_crawl_arguments, crawl_paths

    add_crawl_arguments(parser)
    parser.add_argument("--warc", type=Path, help="the archive's folder (default: CNIS_WARC_DIR)")
    parser.add_argument(
        "--workers", type=worker_count, default=os.cpu_count() or 1, help="processes (default: one per core)"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    output, reader = crawl_paths(args.output, args.state)
    warc = args.warc or configured_warc(args.output)
    if not reader.exists():
        parser.error(f"no crawl state at {reader.path}: re-extraction rewrites the records a crawl wrote")
    if not warc.is_dir():
        what = "a file, not a folder" if warc.exists() else "no folder"
        parser.error(f"--warc {warc} is {what}: give the archive's folder (CNIS_WARC_DIR, output/warc)")
    if not os.access(warc, os.R_OK | os.X_OK):
        return fail(parser.prog, f"cannot read the archive's folder {warc}")
    if not archive_files(warc):
        parser.error(f"no archive file (*.warc.gz) in {warc}: crawl with CNIS_WARC_ENABLED on")
    try:
        state = CrawlState(reader.path)
    except (StateInUseError, ValueError) as error:  # a crawl holds it; another version's schema
        return fail(parser.prog, str(error))
    if state.moved_aside is not None:
        logger.warning(STATE_MOVED_ASIDE, state.path, state.moved_aside)
    started = time.perf_counter()
    console = Console(stderr=True)
    reextraction = Reextraction(state, output, warc)
    try:
        with Progress(console=console, disable=not console.is_terminal) as bar:
            task = bar.add_task("re-extracting", total=None)
            progress = partial(bar.update, task)  # (completed, total)
            accounting = reextraction.run(
                args.workers, lambda done, total: progress(completed=done, total=total)
            )
    except KeyboardInterrupt:
        done = reextraction.accounting
        print(
            f"{parser.prog}: interrupted after {done.read:,} pages;"
            f" the {reextraction.files_written} run file(s) written are kept,"
            " and the next re-extraction finds those articles unchanged",
            file=sys.stderr,
        )
        return 130
    finally:
        state.close()
    print(summary(accounting, time.perf_counter() - started))
    return 0


def configured_warc(output: Path | None) -> Path:
    """``CNIS_WARC_DIR`` of the project's settings; ``warc`` in ``--output`` when it is given."""
    from scrapy.utils.project import get_project_settings

    configured = Path(get_project_settings().get("CNIS_WARC_DIR") or "output/warc")
    return output / configured.name if output is not None else configured


def worker_count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is no number of processes: 1 or more")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
