"""Job directories before Scrapy opens them: resumable after a kill, never blocking once finished."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING

import pytest
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from cnis_crawler.jobdir import WalSQLiteQueue, finish_job, prepare_job

if TYPE_CHECKING:
    from pathlib import Path


def killed_job(jobdir: Path) -> Path:
    """A job directory as a SIGKILL leaves it: SQLite queues with requests, no active.json."""
    queue = jobdir / "requests.queue"
    queue.mkdir(parents=True)
    for name in ("-10", "0s"):
        db = sqlite3.connect(queue / name)
        db.execute("CREATE TABLE queue (id INTEGER PRIMARY KEY AUTOINCREMENT, item BLOB)")
        db.execute("INSERT INTO queue (item) VALUES (?)", (b"pickled request",))
        db.commit()
        db.close()
    (jobdir / "requests.seen").write_text("0f3a\n9bc1\n", encoding="ascii")
    return queue


def test_a_missing_job_directory_is_new(tmp_path: Path) -> None:
    assert prepare_job(tmp_path / "jobs" / "cnis") == "new"


def test_a_killed_job_gets_its_queue_list_back(tmp_path: Path) -> None:
    queue = killed_job(tmp_path / "cnis")
    assert prepare_job(tmp_path / "cnis") == "resumable"
    # Scrapy reopens exactly the priorities listed in active.json; "0s" is priority 0's start queue.
    assert json.loads((queue / "active.json").read_text(encoding="utf-8")) == [-10, 0]


def test_an_empty_queue_file_from_a_kill_at_its_creation_is_no_damage(tmp_path: Path) -> None:
    queue = killed_job(tmp_path / "cnis")
    (queue / "-11").write_bytes(b"")
    assert prepare_job(tmp_path / "cnis") == "resumable"


@pytest.mark.parametrize(
    ("path", "damage"),
    [
        pytest.param("requests.queue/-10", b"\x00garbage, not a database" * 100, id="queue"),
        pytest.param("requests.seen", "\u6307\u7eb9".encode("gb18030"), id="seen"),
        pytest.param("spider.state", b"\x80\x05not a pickle", id="spider-state"),
    ],
)
def test_a_damaged_job_is_moved_aside(tmp_path: Path, path: str, damage: bytes) -> None:
    killed_job(tmp_path / "cnis")
    (tmp_path / "cnis" / path).write_bytes(damage)
    assert prepare_job(tmp_path / "cnis") == "damaged"
    assert not (tmp_path / "cnis").exists()
    [aside] = tmp_path.glob("cnis.damaged-*")
    assert (aside / path).read_bytes() == damage, "kept for inspection"


def test_a_finished_job_leaves_nothing_to_filter_the_next_run(tmp_path: Path) -> None:
    killed_job(tmp_path / "cnis")
    finish_job(tmp_path / "cnis")
    assert list(tmp_path.iterdir()) == []
    assert prepare_job(tmp_path / "cnis") == "new"


def test_leftovers_of_a_deletion_cut_short_are_removed(tmp_path: Path) -> None:
    killed_job(tmp_path / ".cnis.finished-4242")
    assert prepare_job(tmp_path / "cnis") == "new"
    assert list(tmp_path.iterdir()) == []


def test_the_disk_queue_keeps_requests_in_wal_mode(tmp_path: Path) -> None:
    crawler = get_crawler(Spider)
    queue = WalSQLiteQueue.from_crawler(crawler, str(tmp_path / "requests.queue" / "-10"))
    queue.push(Request("https://en.cnis.ac.cn/kycg/index.shtml"))
    assert queue._db.execute("PRAGMA journal_mode").fetchone()[0] == b"wal"
    assert queue.pop().url == "https://en.cnis.ac.cn/kycg/index.shtml"  # type: ignore[union-attr]
    queue.close()
