"""Feed files that appear whole or not at all.

Scrapy's ``FileFeedStorage`` writes straight into the target file, so a run killed mid-crawl
leaves a file that ends in half a record. This storage lets the exporter write into an anonymous
temporary file (deleted by the system with the process), and only when the feed is complete
copies it beside the target and renames it into place (:func:`cnis_crawler.memory.files.replacing`);
``-o`` (append) puts the existing file's content first. ``FEEDS``, ``-o`` and ``-O`` work as
before: the storage is registered for local paths through ``FEED_STORAGES``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING

from scrapy.extensions.feedexport import FileFeedStorage

from cnis_crawler.memory.files import replacing

if TYPE_CHECKING:
    from scrapy import Spider


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
