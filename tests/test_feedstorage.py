"""Feed files appear whole or not at all, also when the crawl is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from cnis_crawler.feedstorage import AtomicFileFeedStorage, remove_abandoned_parts
from tests.conftest import article_pages, run_crawl

if TYPE_CHECKING:
    from pathlib import Path

# Slow enough to be killed mid-articles (about 80 requests), and the kill is bounded in time.
SLOW_CRAWL = (
    "-s",
    "DOWNLOAD_DELAY=0.1",
    "-s",
    "RANDOMIZE_DOWNLOAD_DELAY=False",
    "-s",
    "CONCURRENT_REQUESTS=1",
)
KILL_DEADLINE_SECONDS = 60


def test_append_is_invisible_until_stored(tmp_path: Path) -> None:
    target = tmp_path / "out" / "feed.jsonl"
    target.parent.mkdir()
    target.write_bytes(b'{"a": 1}\n')
    storage = AtomicFileFeedStorage(str(target), feed_options={"overwrite": False})
    file = storage.open(spider=None)  # type: ignore[arg-type]
    file.write(b'{"b": 2}\n{"c":')
    assert target.read_bytes() == b'{"a": 1}\n', "the target is untouched while the feed is written"
    file.write(b" 3}\n")
    storage.store(file)
    assert target.read_bytes() == b'{"a": 1}\n{"b": 2}\n{"c": 3}\n'
    assert sorted(path.name for path in target.parent.iterdir()) == ["feed.jsonl"]


def test_overwrite_replaces_only_when_stored(tmp_path: Path) -> None:
    target = tmp_path / "feed.jsonl"
    target.write_bytes(b"old\n")
    storage = AtomicFileFeedStorage(str(target), feed_options={"overwrite": True})
    file = storage.open(spider=None)  # type: ignore[arg-type]
    file.write(b"new\n")
    assert target.read_bytes() == b"old\n"
    storage.store(file)
    assert target.read_bytes() == b"new\n"


def test_only_abandoned_parts_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    abandoned = tmp_path / f".feed.jsonl.{dead.pid}.part"
    own = tmp_path / f".other.jsonl.{os.getpid()}.part"
    for path in (abandoned, own):
        path.write_bytes(b'{"half":')
    assert remove_abandoned_parts(tmp_path) == [abandoned]
    assert own.exists()


def test_a_killed_crawl_leaves_no_partial_output(mirror_url: str, tmp_path: Path) -> None:
    output = tmp_path / "output"
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings"}
    command = [sys.executable, "-m", "scrapy", "crawl", "cnis", "-a", f"mirror={mirror_url}", *SLOW_CRAWL]
    crawl = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + KILL_DEADLINE_SECONDS
    while time.monotonic() < deadline and crawl.poll() is None:
        parts = list(output.glob(".*.part")) if output.exists() else []
        if parts and parts[0].read_bytes().count(b"\n") >= 3:  # killed mid-articles
            break
        time.sleep(0.05)
    assert crawl.poll() is None, "the crawl ended before it could be killed mid-articles"
    crawl.send_signal(signal.SIGKILL)
    crawl.wait()
    assert not list(output.glob("*.jsonl")), "no feed file is visible after a kill"
    assert list(output.glob(".*.part"))

    result = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert result.returncode == 0
    assert not list(output.glob(".*.part")), "the next run removes the abandoned part"
    [feed] = output.glob("*.jsonl")
    lines = feed.read_bytes().split(b"\n")
    assert lines[-1] == b""
    assert len([json.loads(line) for line in lines[:-1]]) == len(article_pages())
