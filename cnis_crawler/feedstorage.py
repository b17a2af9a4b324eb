"""Feed files that appear whole or not at all.

Scrapy's ``FileFeedStorage`` writes straight into the target file, so a run killed mid-crawl
leaves a file that ends in half a record. This storage lets the exporter write into an anonymous
temporary file (deleted by the system with the process), and only when the feed is complete
copies it beside the target and renames it into place (atomic on one filesystem); ``-o``
(append) puts the existing file's content first. ``FEEDS``, ``-o`` and ``-O`` work as before:
the storage is registered for local paths through ``FEED_STORAGES``.

So a killed run leaves nothing in the output folder, except when killed during that final copy
of milliseconds: then a hidden ``.<name>.<pid>.part`` file, which the next run deletes.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

from scrapy.extensions.feedexport import FileFeedStorage

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy import Spider

TEMPORARY_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.part$")
RUN_FILES = "cnis-*.jsonl"
"""The records of every run, as settings.FEEDS names them, in the folder of the crawl state."""
RUN_FILE_RE = re.compile(r"^cnis-(?P<run_id>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?)-(?P<batch>\d+)\.jsonl$")


class AtomicFileFeedStorage(FileFeedStorage):
    stored = False
    """True once the complete file is in place (the crawl state reads it on ``feed_slot_closed``)."""

    def open(self, spider: Spider) -> IO[bytes]:
        return tempfile.TemporaryFile()

    def store(self, file: IO[bytes]) -> None:
        target = Path(self.path)
        with replacing(target) as complete:
            if self.write_mode == "ab" and target.exists():
                with target.open("rb") as existing:
                    shutil.copyfileobj(existing, complete)
            file.seek(0)
            shutil.copyfileobj(file, complete)
        file.close()
        self.stored = True


@contextmanager
def replacing(target: Path) -> Iterator[IO[bytes]]:
    """A file to write ``target``'s new content into; it replaces ``target`` only when complete.

    The content goes into ``.<name>.<pid>.part`` beside the target, is synced, renamed over it
    and the rename synced: a reader sees the old file or the new one, never half of one. An
    exception leaves the target as it was; a kill leaves a part file that the next writer into
    the folder removes.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_parts(target.parent)
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with part.open("wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    sync_directory(target.parent)


def write_atomically(path: Path, content: str | bytes) -> None:
    with replacing(path) as file:
        file.write(content.encode("utf-8") if isinstance(content, str) else content)


def sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` survive a power cut, not only a killed process."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_abandoned_parts(directory: Path) -> list[Path]:
    """Delete the temporary feed files of processes that no longer run; return them."""
    removed = []
    for path in directory.iterdir():
        match = TEMPORARY_RE.match(path.name)
        if match and not process_alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True
