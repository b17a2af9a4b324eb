"""Job directories before Scrapy opens them: resumable after a kill, never blocking once finished."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from typing import TYPE_CHECKING

import pytest
from scrapy import Request, Spider
from scrapy.utils.test import get_crawler

from cnis_crawler.extraction import Listed
from cnis_crawler.jobdir import FlushingDupeFilter, WalSQLiteQueue, finish_job, prepare_job, queued_requests
from cnis_crawler.spiders.cnis import CnisSpider

if TYPE_CHECKING:
    from pathlib import Path


def killed_job(jobdir: Path) -> Path:
    """A job directory as a SIGKILL leaves it: SQLite queues with requests, no active.json, the
    seen requests as Scrapy writes them (more than the queued ones)."""
    queue = jobdir / "requests.queue"
    crawler = get_crawler(Spider)
    for name, page in (("-10", 1), ("0s", 2)):
        pushed = WalSQLiteQueue.from_crawler(crawler, str(queue / name))
        pushed.push(Request(f"https://en.cnis.ac.cn/kycg/index_{page}.shtml"))
        pushed.close()
    seen = FlushingDupeFilter(str(jobdir))
    for page in range(300):
        seen.request_seen(Request(f"https://en.cnis.ac.cn/kycg/index_{page}.shtml"))
    seen.close("shutdown")
    return queue


def test_a_missing_job_directory_is_new(tmp_path: Path) -> None:
    assert prepare_job(tmp_path / "jobs" / "cnis").found == "new"


def test_a_killed_job_gets_its_queue_list_back(tmp_path: Path) -> None:
    queue = killed_job(tmp_path / "cnis")
    assert prepare_job(tmp_path / "cnis").found == "resumable"
    # Scrapy reopens exactly the priorities listed in active.json; "0s" is priority 0's start queue.
    assert json.loads((queue / "active.json").read_text(encoding="utf-8")) == [-10, 0]


def test_an_empty_queue_file_from_a_kill_at_its_creation_is_no_damage(tmp_path: Path) -> None:
    queue = killed_job(tmp_path / "cnis")
    (queue / "-11").write_bytes(b"")
    assert prepare_job(tmp_path / "cnis").found == "resumable"


@pytest.mark.parametrize(
    ("path", "damage"),
    [
        pytest.param("requests.queue/-10", b"\x00garbage, not a database" * 100, id="queue"),
        pytest.param("spider.state", b"\x80\x05not a pickle", id="spider-state"),
    ],
)
def test_a_damaged_job_is_moved_aside(tmp_path: Path, path: str, damage: bytes) -> None:
    killed_job(tmp_path / "cnis")
    (tmp_path / "cnis" / path).write_bytes(damage)
    assert prepare_job(tmp_path / "cnis").found == "damaged"
    assert not (tmp_path / "cnis" / path).exists()
    [aside] = tmp_path.glob("cnis.damaged-*")
    assert (aside / path).read_bytes() == damage, "kept for inspection"


def test_a_resumed_job_has_seen_only_what_waits_in_its_queue(tmp_path: Path) -> None:
    """A request seen and not queued (killed between the two, or popped and not yet begun)
    must not be filtered when the resumed run meets it again."""
    killed_job(tmp_path / "cnis")
    seen = tmp_path / "cnis" / "requests.seen"
    seen.write_bytes(seen.read_bytes()[:-7])  # cut short by the kill: no damage
    assert prepare_job(tmp_path / "cnis").found == "resumable"
    resumed = FlushingDupeFilter(str(tmp_path / "cnis"))
    queued = [Request(f"https://en.cnis.ac.cn/kycg/index_{page}.shtml") for page in (1, 2)]
    assert all(resumed.request_seen(request) for request in queued)
    assert not resumed.request_seen(Request("https://en.cnis.ac.cn/kycg/index_3.shtml"))
    resumed.close("finished")


def test_every_seen_request_reaches_the_file_at_once(tmp_path: Path) -> None:
    seen = FlushingDupeFilter(str(tmp_path))
    request = Request("https://en.cnis.ac.cn/kycg/index.shtml")
    seen.request_seen(request)
    size = (tmp_path / "requests.seen").stat().st_size
    seen.close("finished")
    assert size == 2 + len(seen.fingerprinter.fingerprint(request)), "not waiting in a buffer"


def test_a_finished_job_leaves_nothing_to_filter_the_next_run(tmp_path: Path) -> None:
    killed_job(tmp_path / "cnis")
    (tmp_path / "cnis" / "notes.txt").write_text("a folder given as -s JOBDIR= may hold more")
    finish_job(tmp_path / "cnis")
    assert [path.name for path in (tmp_path / "cnis").iterdir()] == ["notes.txt"]
    assert prepare_job(tmp_path / "cnis").found == "new"


def test_leftovers_of_a_deletion_cut_short_are_removed(tmp_path: Path) -> None:
    killed_job(tmp_path / "cnis" / ".requests.queue.finished-4242")
    assert prepare_job(tmp_path / "cnis").found == "new"
    assert list((tmp_path / "cnis").iterdir()) == []


def test_the_disk_queue_keeps_requests_in_wal_mode(tmp_path: Path) -> None:
    crawler = get_crawler(Spider)
    queue = WalSQLiteQueue.from_crawler(crawler, str(tmp_path / "requests.queue" / "-10"))
    queue.push(Request("https://en.cnis.ac.cn/kycg/index.shtml"))
    assert queue._db.execute("PRAGMA journal_mode").fetchone()[0] == b"wal"
    assert queue.pop().url == "https://en.cnis.ac.cn/kycg/index.shtml"  # type: ignore[union-attr]
    queue.close()


def test_the_disk_queue_counts_its_requests_across_reopening(tmp_path: Path) -> None:
    """The queue keeps its length itself instead of counting rows at every len(): the count must
    agree with the file's rows through pushes, pops, an empty pop and a reopening (a resume)."""
    crawler = get_crawler(Spider)
    path = str(tmp_path / "requests.queue" / "-10")
    queue = WalSQLiteQueue.from_crawler(crawler, path)
    for page in range(5):
        queue.push(Request(f"https://en.cnis.ac.cn/kycg/index_{page}.shtml"))
    queue.pop()
    assert len(queue) == 4
    queue.close()
    reopened = WalSQLiteQueue.from_crawler(crawler, path)
    assert len(reopened) == reopened._db.execute("SELECT COUNT(*) FROM queue").fetchone()[0] == 4
    while reopened.pop() is not None:
        pass
    assert reopened.pop() is None
    assert len(reopened) == reopened._db.execute("SELECT COUNT(*) FROM queue").fetchone()[0] == 0
    reopened.close()


@pytest.mark.parametrize("row", [b"", b"junk"], ids=["empty-row", "unreadable-row"])
def test_a_queued_request_that_cannot_be_read_back_leaves_the_count_true(tmp_path: Path, row: bytes) -> None:
    """Its row is deleted when popped: counted as still there, the queue would never be empty and
    the crawl never idle (a killed job resumed after a callback was renamed)."""
    crawler = get_crawler(Spider)
    queue = WalSQLiteQueue.from_crawler(crawler, str(tmp_path / "requests.queue" / "-10"))
    queue.push(Request("https://en.cnis.ac.cn/kycg/index.shtml"))
    queue.push(Request("https://en.cnis.ac.cn/kycg/index_1.shtml"))
    with queue._db:
        queue._db.execute("UPDATE queue SET item = ? WHERE id = (SELECT MIN(id) FROM queue)", (row,))
    with contextlib.suppress(Exception):
        queue.pop()
    assert len(queue) == 1
    assert queue.pop().url == "https://en.cnis.ac.cn/kycg/index_1.shtml"  # type: ignore[union-attr]
    assert len(queue) == 0
    queue.push(Request("https://en.cnis.ac.cn/kycg/index_2.shtml"))
    queue.clear()
    assert len(queue) == 0
    queue.close()


def test_the_requests_a_killed_job_left_in_its_queue_can_be_read(tmp_path: Path) -> None:
    crawler = get_crawler(Spider)
    queue = WalSQLiteQueue.from_crawler(crawler, str(tmp_path / "requests.queue" / "-10"))
    queue.push(Request("https://en.cnis.ac.cn/kycg/index.shtml", meta={"cnis_work": ("listing", "x")}))
    queue.close()
    [request] = queued_requests(tmp_path)
    assert (request["url"], request["meta"]["cnis_work"]) == (
        "https://en.cnis.ac.cn/kycg/index.shtml",
        ("listing", "x"),
    )


def test_a_queued_request_that_cannot_be_read_is_damage(tmp_path: Path) -> None:
    queue = killed_job(tmp_path / "cnis")
    db = sqlite3.connect(queue / "-10")
    db.execute("INSERT INTO queue (item) VALUES (?)", (b"\x80\x05half a pickle",))
    db.commit()
    db.close()
    assert prepare_job(tmp_path / "cnis").found == "damaged"


def test_a_queued_article_request_keeps_what_its_listing_showed(tmp_path: Path) -> None:
    """An article request waits in the disk queue with the Listed its listing gave (cb_kwargs),
    and comes back from it (as in a resumed job) with the same callback and the same Listed."""
    crawler = get_crawler(CnisSpider)
    crawler.spider = spider = CnisSpider.from_crawler(crawler)
    listed = Listed(
        "Sixth ISSCC Plenary Meeting held in Ha...",
        "Sixth ISSCC Plenary Meeting held in Hangzhou",
        "2022-11-28",
    )
    url = "https://en.cnis.ac.cn/xwdt/bydt/202211/t20221128_53416.shtml"
    path = str(tmp_path / "cnis" / "requests.queue" / "10")
    queue = WalSQLiteQueue.from_crawler(crawler, path)
    queue.push(spider.article_request(url, listed))
    queue.push(spider.article_request(url.replace("53416", "53417"), Listed(title="From the crawl state")))
    queue.close()
    assert prepare_job(tmp_path / "cnis").found == "resumable"
    assert [request["cb_kwargs"]["listed"] for request in queued_requests(tmp_path / "cnis")] == [
        listed,
        Listed(title="From the crawl state"),
    ]
    resumed = WalSQLiteQueue.from_crawler(crawler, path)
    request = resumed.pop()
    resumed.close()
    assert request is not None
    assert (request.callback, request.cb_kwargs) == (
        spider.parse_article,
        {"live_url": url, "listed": listed},
    )
