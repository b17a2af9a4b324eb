"""Scrapy's ``JOBDIR``, safe to leave switched on for every run.

Scrapy resumes a job only after a clean pause: the list of non-empty disk queues
(``requests.queue/active.json``) is written when the scheduler closes, so after a kill the queued
requests are on disk but nobody opens them. And a job that *finished* keeps its seen-requests
file, which would filter every request of the next run. Before each run this module therefore

- deletes the job directory of a finished job (:func:`finish_job` renames it away at the end),
- moves a damaged one aside (``<jobdir>.damaged-<time>``), so the run starts afresh,
- rebuilds ``active.json`` from the queue files present, so a killed job resumes.

The scheduler must use the flat :class:`scrapy.pqueues.ScrapyPriorityQueue` (one file per
priority, named by it) for the rebuild to be possible, and :class:`WalSQLiteQueue`, Scrapy's
SQLite disk queue in WAL mode; the project's settings choose both.
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path
from typing import Any

from scrapy.squeues import PickleFifoSQLiteQueue

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
    every push and pop (3 ms a request, a crawl 1.7 times slower on loopback); a WAL commit that
    does not sync still survives a killed process, which is what a job directory is for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")


def prepare_job(jobdir: Path) -> str:
    """Make ``jobdir`` safe for Scrapy to open; returns what was found: ``new``, ``resumable``,
    or ``damaged`` (moved aside)."""
    for leftover in jobdir.parent.glob(f".{jobdir.name}.finished-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    if not jobdir.exists():
        return "new"
    if problem := damage(jobdir):
        aside = jobdir.with_name(f"{jobdir.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
        jobdir.rename(aside)
        logger.warning(
            "Job directory %s is damaged (%s); moved to %s, starting afresh", jobdir, problem, aside
        )
        return "damaged"
    queue = jobdir / QUEUE_DIR
    if queue.is_dir():
        priorities = sorted(queue_priorities(queue))
        (queue / ACTIVE_FILE).write_text(json.dumps(priorities), encoding="utf-8")
    return "resumable"


def finish_job(jobdir: Path) -> None:
    """The job ran to its end: nothing to resume, and its seen requests must not filter the next
    run. Renamed first, so a kill during the deletion still leaves no job behind."""
    if jobdir.exists():
        finished = jobdir.with_name(f".{jobdir.name}.finished-{os.getpid()}")
        jobdir.rename(finished)
        shutil.rmtree(finished, ignore_errors=True)


def queue_priorities(queue: Path) -> set[int]:
    return {
        int(match["priority"])
        for path in queue.iterdir()
        if path.is_file() and (match := QUEUE_FILE_RE.match(path.name))
    }


def damage(jobdir: Path) -> str | None:
    """Why Scrapy could not open this job directory, or None."""
    queue = jobdir / QUEUE_DIR
    if queue.is_dir():
        for path in sorted(queue.iterdir()):
            if path.name == ACTIVE_FILE or SQLITE_SIDE_FILE_RE.search(path.name):
                continue
            if not QUEUE_FILE_RE.match(path.name) or not path.is_file():
                return f"unexpected {path.name} in {QUEUE_DIR} (a queue class other than SQLite?)"
            if problem := sqlite_queue_problem(path):
                return f"{QUEUE_DIR}/{path.name}: {problem}"
    seen = jobdir / SEEN_FILE
    if seen.exists():
        try:
            seen.read_bytes().decode("ascii")
        except UnicodeDecodeError:
            return f"{SEEN_FILE} is not a list of fingerprints"
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
