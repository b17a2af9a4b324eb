"""Feed files that appear whole or not at all.

Scrapy's ``FileFeedStorage`` writes straight into the target file, so a run killed mid-crawl
leaves a file that ends in half a record. This storage writes a hidden temporary file beside the
target and renames it into place (atomic on one filesystem) only once the feed is complete;
``-o`` (append) copies the existing file into the temporary one first. ``FEEDS``, ``-o`` and
``-O`` work as before: the storage is registered for local paths through ``FEED_STORAGES``.

A killed run leaves only its hidden ``.<name>.<pid>.part`` file, which the next run deletes.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import IO, TYPE_CHECKING

from scrapy.extensions.feedexport import FileFeedStorage

if TYPE_CHECKING:
    from scrapy import Spider

TEMPORARY_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.part$")


class AtomicFileFeedStorage(FileFeedStorage):
    def open(self, spider: Spider) -> IO[bytes]:
        target = Path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_abandoned_parts(target.parent)
        self.temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
        if self.write_mode == "ab" and target.exists():
            shutil.copyfile(target, self.temporary)
        return self.temporary.open("ab")

    def store(self, file: IO[bytes]) -> None:
        file.flush()
        os.fsync(file.fileno())
        file.close()
        os.replace(self.temporary, self.path)


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
