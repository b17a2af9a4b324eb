"""Scrapy's ``JOBDIR``, safe to leave switched on for every run.

Scrapy resumes a job only after a clean pause: the list of non-empty disk queues
(``requests.queue/active.json``) is written when the scheduler closes, so after a kill the queued
requests are on disk but nobody opens them. And a job that *finished* keeps its seen-requests
file, which would filter every request of the next run. So:

- :func:`prepare_job`, before each run, moves a damaged job aside (``<jobdir>.damaged-<time>``)
  so the run starts afresh, rebuilds ``active.json`` from the queue files present, so a killed
  job resumes, and rebuilds the seen requests from the queued ones (below);
- :func:`finish_job`, at the end of a finished run, deletes Scrapy's files from the job
  directory (and nothing else: a ``-s JOBDIR=`` may name a folder that holds other files).

A killed job's seen requests also hold requests that are not in its queue: recorded an instant
before the push to the queue, or popped from it an instant before the crawl state noted them as
begun. Filtered in the resumed run, they would be lost, so the resumed run starts from the
queued requests alone, and the crawl state keeps it from fetching again what is known.

The scheduler must use the flat :class:`scrapy.pqueues.ScrapyPriorityQueue` (one file per
priority, named by it) for the rebuild to be possible, :class:`WalSQLiteQueue` and
:class:`FlushingDupeFilter`; the project's settings choose all three.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import shutil
import sqlite3
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter
from scrapy.squeues import PickleFifoSQLiteQueue

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from scrapy.utils.request import RequestFingerprinterProtocol

logger = logging.getLogger(__name__)

QUEUE_DIR = "requests.queue"
ACTIVE_FILE = "active.json"
SEEN_FILE = "requests.seen"
SPIDER_STATE_FILE = "spider.state"
# "<priority>" for a queue of requests, "<priority>s" for its start requests.
QUEUE_FILE_RE = re.compile(r"^(?P<priority>-?\d+)s?$")
SQLITE_SIDE_FILE_RE = re.compile(r"-(journal|wal|shm)$")


class WalSQLiteQueue(PickleFifoSQLiteQueue):
    """Scrapy's SQLite disk queue, in WAL mode. Its default rollback journal syncs the disk on
    every push and pop (a 2,000-article crawl took 15.1 s instead of 10.5 s on loopback); a WAL
    commit that does not sync still survives a killed process, which is what a job is for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # queuelib counts the rows (SELECT COUNT(*), a scan of the table) at every len(), and the
        # priority queue asks after every pop: with thousands of articles queued behind the
        # listings, that scan was 9 % of a 10,000-article crawl. This process alone writes the
        # queue (the job is locked), so counting pushes and pops keeps the same number; a pop
        # that yields no request (a row that cannot be read back, deleted all the same) counts
        # the rows again, or a length that never reaches 0 would keep the crawl from closing.
        self._size = self._count_rows()

    def _count_rows(self) -> int:
        return super().__len__()

    def push(self, request: Any) -> None:
        super().push(request)
        self._size += 1

    def pop(self) -> Any:
        try:
            request = super().pop()
        except BaseException:
            self._size = self._count_rows()
            raise
        if request is None:
            self._size = self._count_rows()
        else:
            self._size -= 1
        return request

    def clear(self) -> None:
        super().clear()
        self._size = self._count_rows()

    def __len__(self) -> int:
        return self._size

    def close(self) -> None:
        # Scrapy's priority queue closes a queue each time it runs empty and reopens it at the
        # next push, often for every request; the empty database is kept for that reopening
        # (creating it anew cost 4 ms a request), and finish_job deletes it with the job.
        self._db.close()


class FlushingDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, handing each seen fingerprint to the system at once. Buffered,
    the last few hundred are lost with a killed process, and a resumed run would fetch those
    requests a second time (once from the queue, once more when met again)."""

    def request_seen(self, request: Request) -> bool:
        seen = super().request_seen(request)
        if not seen and self.file:
            self.file.flush()
        return seen


class PreparedJob(NamedTuple):
    found: str
    """``new``, ``resumable``, or ``damaged`` (moved aside)."""
    queued: list[dict[str, Any]]
    """The requests waiting in the queue, as the dicts Scrapy pickled."""


def prepare_job(jobdir: Path, fingerprinter: RequestFingerprinterProtocol | None = None) -> PreparedJob:
    """Make ``jobdir`` safe for Scrapy to open. Its queue is read once, here: a request that
    cannot be read back is damage too."""
    for leftover in jobdir.glob(f".{QUEUE_DIR}.finished-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if not any(jobdir.joinpath(name).exists() for name in (QUEUE_DIR, SEEN_FILE, SPIDER_STATE_FILE)):
        return PreparedJob("new", [])
    queued: list[dict[str, Any]] = []
    if not (problem := damage(jobdir)):
        try:
            queued = list(queued_requests(jobdir))
        except Exception as error:  # noqa: BLE001 (any unpickling failure makes the queue unusable)
            problem = f"{QUEUE_DIR}: a request that cannot be read ({type(error).__name__})"
    if problem:
        aside = jobdir.with_name(f"{jobdir.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        aside.mkdir()
        for name in (QUEUE_DIR, SEEN_FILE, SPIDER_STATE_FILE):
            if jobdir.joinpath(name).exists():
                jobdir.joinpath(name).rename(aside / name)
        logger.warning(
            "Job directory %s is damaged (%s); moved to %s, starting afresh", jobdir, problem, aside
        )
        return PreparedJob("damaged", [])
    queue = jobdir / QUEUE_DIR
    if queue.is_dir():
        priorities = sorted(queue_priorities(queue))
        (queue / ACTIVE_FILE).write_text(json.dumps(priorities), encoding="utf-8")
    rebuild_seen(jobdir, queued, fingerprinter)
    return PreparedJob("resumable", queued)


def rebuild_seen(
    jobdir: Path, queued: list[dict[str, Any]], fingerprinter: RequestFingerprinterProtocol | None
) -> None:
    """Replace the seen requests with those of the queued requests, written by Scrapy's own
    duplicate filter (its file format is Scrapy's business)."""
    rebuilding = jobdir / ".seen.rebuilding"
    shutil.rmtree(rebuilding, ignore_errors=True)
    rebuilding.mkdir()
    seen = RFPDupeFilter(str(rebuilding), fingerprinter=fingerprinter)
    for request in queued:
        seen.request_seen(Request(request["url"], method=request["method"], body=request["body"]))
    seen.close("rebuilt")
    os.replace(rebuilding / SEEN_FILE, jobdir / SEEN_FILE)
    rebuilding.rmdir()


def finish_job(jobdir: Path) -> None:
    """The job ran to its end: nothing to resume, and its seen requests must not filter the next
    run. The seen requests go first: a kill part-way leaves at worst a queue to resume."""
    jobdir.joinpath(SEEN_FILE).unlink(missing_ok=True)
    jobdir.joinpath(SPIDER_STATE_FILE).unlink(missing_ok=True)
    queue = jobdir / QUEUE_DIR
    if queue.exists():
        finished = jobdir / f".{QUEUE_DIR}.finished-{os.getpid()}"
        queue.rename(finished)
        shutil.rmtree(finished, ignore_errors=True)


def queued_requests(jobdir: Path) -> Iterator[dict[str, Any]]:
    """The requests waiting in a job's queues, as the dicts Scrapy pickled."""
    queue = jobdir / QUEUE_DIR
    for priority in sorted(queue_priorities(queue)) if queue.is_dir() else ():
        for path in (queue / str(priority), queue / f"{priority}s"):
            if path.is_file() and path.stat().st_size:
                db = sqlite3.connect(path)
                try:
                    items = [item for (item,) in db.execute("SELECT item FROM queue")]
                finally:
                    db.close()
                yield from (pickle.loads(item) for item in items)


def queue_priorities(queue: Path) -> set[int]:
    return {
        int(match["priority"])
        for path in queue.iterdir()
        if path.is_file() and (match := QUEUE_FILE_RE.match(path.name))
    }


def damage(jobdir: Path) -> str | None:
    """Why Scrapy could not open this job directory, or None. (A seen-requests file cut short
    by a kill is no damage: Scrapy reads what is whole of it.)"""
    queue = jobdir / QUEUE_DIR
    if queue.is_dir():
        for path in sorted(queue.iterdir()):
            if path.name == ACTIVE_FILE or SQLITE_SIDE_FILE_RE.search(path.name):
                continue
            if not QUEUE_FILE_RE.match(path.name) or not path.is_file():
                return f"unexpected {path.name} in {QUEUE_DIR} (a queue class other than SQLite?)"
            if problem := sqlite_queue_problem(path):
                return f"{QUEUE_DIR}/{path.name}: {problem}"
    state = jobdir / SPIDER_STATE_FILE
    if state.exists():
        try:
            with state.open("rb") as file:
                pickle.load(file)
        except Exception as error:  # noqa: BLE001 (any unpickling failure makes it unusable)
            return f"{SPIDER_STATE_FILE}: {type(error).__name__}"
    return None


def sqlite_queue_problem(path: Path) -> str | None:
    if path.stat().st_size == 0:  # killed as the queue was created: SQLite makes a database of it
        return None
    try:
        db = sqlite3.connect(path)
        try:
            verdict = db.execute("PRAGMA quick_check").fetchone()[0]
            db.execute("SELECT COUNT(*) FROM queue").fetchone()
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        return str(error)
    return None if verdict == "ok" else verdict
