"""Feed files appear whole or not at all (kills of a real crawl: test_crash_safety.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.crawling.feedstorage import AtomicFileFeedStorage
from cnis_crawler.memory.files import remove_abandoned_parts, replacing, write_atomically

if TYPE_CHECKING:
    from pathlib import Path


def test_append_is_invisible_until_stored(tmp_path: Path) -> None:
    target = tmp_path / "out" / "feed.jsonl"
    target.parent.mkdir()
    target.write_bytes(b'{"a": 1}\n')
    storage = AtomicFileFeedStorage(str(target), feed_options={"overwrite": False})
    file = storage.open(spider=None)  # type: ignore[arg-type]
    file.write(b'{"b": 2}\n{"c":')
    assert target.read_bytes() == b'{"a": 1}\n', "the target is untouched while the feed is written"
    assert [path.name for path in target.parent.iterdir()] == ["feed.jsonl"], "and nothing is beside it"
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


def test_a_replaced_file_gets_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "export" / "manifest.json", "{}")
    finally:
        os.umask(umask)
    assert (tmp_path / "export" / "manifest.json").stat().st_mode & 0o777 == 0o644, "readable by others"


def test_a_write_that_fails_leaves_the_old_file_and_no_part(tmp_path: Path) -> None:
    target = tmp_path / "cnis-articles.jsonl"
    target.write_bytes(b"old\n")

    def write_half() -> None:
        with replacing(target) as file:
            file.write(b"new, but only half")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_half()
    assert target.read_bytes() == b"old\n"
    assert [path.name for path in tmp_path.iterdir()] == ["cnis-articles.jsonl"]
