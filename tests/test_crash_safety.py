"""A crawl killed with SIGKILL at several moments loses nothing and duplicates nothing.

Each test holds a real crawl still at one moment (``tests/crash_points.py``), kills it, checks
what the kill left behind, then runs one normal crawl, which resumes the killed job.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import pytest

from cnis_crawler import settings
from cnis_crawler.jobdir import QUEUE_FILE_RE, queued_requests
from cnis_crawler.mirror import running_mirror
from cnis_crawler.state import CrawlState
from tests.conftest import ROOT, SITE, assert_one_record_per_article
from tests.crawling import output_files, run_crawl

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HOLD_DEADLINE_SECONDS = 60
SMALL_BATCHES = {
    "output/%(name)s-%(run_id)s-%(batch_id)03d.jsonl": {
        "format": "jsonlines",
        "item_classes": ["cnis_crawler.items.Article"],
        "batch_item_count": 10,
    }
}


@contextmanager
def held_crawl(workdir: Path, mirror_url: str, moment: str, *arguments: str) -> Iterator[None]:
    """Run the crawl until it reaches ``moment`` and holds still there; SIGKILL it on leaving."""
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / "held"
    extensions = {**settings.EXTENSIONS, "tests.crash_points.CrashPoint": 100}
    command = [
        *(sys.executable, "-m", "scrapy", "crawl", "cnis", "-a", f"mirror={mirror_url}"),
        *("-s", f"EXTENSIONS={json.dumps(extensions)}", "-s", f"FEEDS={json.dumps(SMALL_BATCHES)}"),
        *("-s", f"CRASH_POINT={moment}", "-s", f"CRASH_POINT_MARKER={marker}"),
        *("-s", "DUPEFILTER_CLASS=tests.crash_points.HoldingDupeFilter"),
        *("-s", f"LOG_FILE={workdir / 'killed.log'}"),
        # One request at a time: what the kill interrupts waits in the queue, not in flight.
        *("-s", "CONCURRENT_REQUESTS=1"),
        *arguments,
    ]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings", "PYTHONPATH": str(ROOT)}
    crawl = subprocess.Popen(command, cwd=workdir, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + HOLD_DEADLINE_SECONDS
        while not marker.exists() and crawl.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), f"the crawl never reached {moment!r}"
        yield
    finally:
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()


def killed_crawl(workdir: Path, mirror_url: str, moment: str, *arguments: str) -> None:
    with held_crawl(workdir, mirror_url, moment, *arguments):
        pass


JOB = ("output", "jobs", "cnis")


def queue_files(workdir: Path) -> list[Path]:
    queue = workdir.joinpath(*JOB, "requests.queue")
    return [path for path in queue.iterdir() if QUEUE_FILE_RE.match(path.name) and path.stat().st_size]


def queued_count(workdir: Path) -> int:
    """Requests waiting in the job's SQLite disk queues."""
    return len(list(queued_requests(workdir.joinpath(*JOB))))


def all_records(workdir: Path) -> list[dict[str, Any]]:
    records = []
    for path in output_files(workdir):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path.name} ends in half a line"
        records += [json.loads(line) for line in data.splitlines()]
    return records


def assert_kill_left_nothing_broken(workdir: Path) -> None:
    all_records(workdir)  # every visible file is whole
    assert not [path for path in (workdir / "output").iterdir() if path.suffix == ".part"]
    state = CrawlState(workdir / "output" / "state.sqlite")
    assert state.integrity_check() == "ok"
    state.close()


@pytest.mark.parametrize("moment", ["listings", "listed", "seen", "articles", "stored", "closing"])
def test_a_kill_then_one_normal_run_writes_every_article_once(
    moment: str, mirror_url: str, tmp_path: Path
) -> None:
    killed_crawl(tmp_path, mirror_url, moment)
    assert_kill_left_nothing_broken(tmp_path)
    queued = queued_count(tmp_path)

    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    records = all_records(tmp_path)
    assert Counter((record["key"], record["version"]) for record in records).most_common(1)[0][1] == 1
    assert_one_record_per_article(records)
    sections = resumed.summary["sections"]
    assert {section: row["unaccounted"] for section, row in sections.items() if row["unaccounted"]} == {}
    if moment in ("listings", "articles"):
        assert queued, "the kill left requests in the queue"
        assert f"Resuming crawl ({queued} requests scheduled)" in resumed.log
    if moment == "stored":
        assert "records adopted" in resumed.log, "the batch stored before the kill was read back"


def test_a_job_resumed_on_a_mirror_at_another_port_fetches_its_queue_there(
    mirror_url: str, tmp_path: Path
) -> None:
    killed_crawl(tmp_path, mirror_url, "articles")
    queued = queued_count(tmp_path)
    with running_mirror(SITE) as elsewhere:
        resumed = run_crawl(tmp_path, "-a", f"mirror={elsewhere}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert resumed.stats["incremental/readdressed"] == queued > 0
    assert "FetchFailed" not in resumed.log
    assert_one_record_per_article(all_records(tmp_path))
    sections = resumed.summary["sections"]
    assert {section: row["unaccounted"] for section, row in sections.items() if row["unaccounted"]} == {}


@pytest.mark.parametrize("harm", ["damaged", "missing"])
def test_without_a_usable_queue_the_next_run_still_loses_nothing(
    harm: str, mirror_url: str, tmp_path: Path
) -> None:
    killed_crawl(tmp_path, mirror_url, "articles")
    if harm == "missing":
        shutil.rmtree(tmp_path / "output" / "jobs" / "cnis")
    else:
        queue = queue_files(tmp_path)[0]
        for side_file in queue.parent.glob(f"{queue.name}-*"):  # its WAL would still hold good pages
            side_file.unlink()
        queue.write_bytes(b"\x00 not a database " * 64)
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert ("is damaged" in resumed.log) == (harm == "damaged")
    assert_one_record_per_article(all_records(tmp_path))


def test_a_kill_leaves_a_feed_appended_with_dash_o_as_it_was(mirror_url: str, tmp_path: Path) -> None:
    extra = tmp_path / "news.jsonl"
    extra.write_bytes(b'{"url": "from an earlier run"}\n')
    killed_crawl(tmp_path, mirror_url, "articles", "-o", str(extra))
    assert extra.read_bytes() == b'{"url": "from an earlier run"}\n'
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == [
        "held",
        "killed.log",
        "news.jsonl",
    ]
    # The batches stored before the kill hold records the -o feed never got: still known, once.
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert "records adopted" in resumed.log
    assert_one_record_per_article(all_records(tmp_path))


def test_a_second_crawl_fails_and_leaves_the_running_one_alone(mirror_url: str, tmp_path: Path) -> None:
    with held_crawl(tmp_path, mirror_url, "articles"):
        queued = queued_count(tmp_path)
        second = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
        assert second.returncode != 0
        assert "output/state.sqlite is in use by another crawl" in second.log
        assert queued_count(tmp_path) == queued
        assert not list((tmp_path / "output" / "jobs").glob("*.damaged-*"))
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert f"Resuming crawl ({queued} requests scheduled)" in resumed.log
    assert_one_record_per_article(all_records(tmp_path))


def test_a_crawl_stopped_early_is_resumed_by_the_next(mirror_url: str, tmp_path: Path) -> None:
    stopped = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-s", "CLOSESPIDER_ITEMCOUNT=5")
    assert stopped.summary["finish_reason"] == "closespider_itemcount"
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert "Resuming crawl (" in resumed.log
    assert not list((tmp_path / "output" / "jobs").glob("*.damaged-*"))
    assert_one_record_per_article(all_records(tmp_path))
