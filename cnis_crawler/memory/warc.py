"""The archive read back: the WARC files a crawl wrote (:mod:`cnis_crawler.crawling.archive`),
indexed by live URL, and any response in them read again. No Scrapy: re-extraction and replay
read archives without a crawl.

An index holds where each URL's newest response record is (file and offset), not the pages: a
10,000-article archive is indexed in a few MB, and each page is read when it is wanted. Files are
read in name order, which is the order of the runs that wrote them (``cnis-<run id>-<n>``), so
the newest capture of a URL is the last one met.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

logger = logging.getLogger(__name__)

WARC_SUFFIX = ".warc.gz"
PART_SUFFIX = ".part"
WARC_FILES = f"*{WARC_SUFFIX}"
"""The archive's complete files."""
PART_FILES = f"*{WARC_SUFFIX}{PART_SUFFIX}"
"""Files being written, or left by a killed crawl (the next crawl keeps their whole records)."""
CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class Capture:
    """Where a response for a live URL is kept: its record's file and offset."""

    path: Path
    offset: int
    status: int
    date: str
    """``WARC-Date``: when it was fetched."""


@dataclass(frozen=True)
class Archived:
    """A response as the archive keeps it."""

    url: str
    date: str
    """``WARC-Date``: when it was fetched, ``2026-12-06T06:00:00Z``."""
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), "")


@dataclass
class ArchiveIndex:
    captures: dict[str, Capture] = field(default_factory=dict)
    """The newest response of each live URL (of those asked for)."""
    responses: int = 0
    """Response records read, every capture of every URL."""
    damaged: list[str] = field(default_factory=list)
    """Files that could not be read to their end: ``name (why)``; what came before is indexed."""


def archive_files(folder: Path) -> list[Path]:
    """The archive's files under ``folder``, oldest run first: the complete ones, and what a
    killed crawl left in a ``.part`` (read up to its last whole record)."""
    found = [*folder.glob(WARC_FILES), *folder.glob(PART_FILES)]
    return sorted(found, key=lambda path: path.name.removesuffix(PART_SUFFIX))


def index_archive(
    files: Iterable[Path], wanted: Callable[[str, int], bool] = lambda url, status: True
) -> ArchiveIndex:
    """The newest response record of each URL for which ``wanted(url, status)`` holds, in the
    files in the order given. A 304 is kept as a revisit record, not a response: the response
    before it is the page it confirmed. A file damaged (cut short, overwritten) is indexed up to
    its last whole record and named in :attr:`ArchiveIndex.damaged`."""
    index = ArchiveIndex()
    for path in files:
        before = dict(index.captures)
        last_offset, last_url, read = None, None, 0
        try:
            with path.open("rb") as stream:
                records = ArchiveIterator(stream)
                for record in records:
                    last_offset, last_url = records.get_record_offset(), None
                    if record.rec_type != "response" or record.http_headers is None:
                        continue
                    read += 1
                    url = record.rec_headers.get_header("WARC-Target-URI")
                    status = int(record.http_headers.get_statuscode() or 0)
                    if wanted(url, status):
                        date = record.rec_headers.get_header("WARC-Date") or ""
                        index.captures[url] = Capture(path, last_offset, status, date)
                        last_url = url
        except (OSError, EOFError, ValueError, zlib.error, ArchiveLoadFailed) as error:
            index.damaged.append(f"{path.name}: unreadable after {read} responses ({type(error).__name__})")
        else:
            last_cut = last_offset is not None and not member_whole(path, last_offset)
            if last_cut and last_url is not None:
                # The last record is cut short: the URL keeps the capture it had before it.
                read -= 1
                index.captures.pop(last_url)
                if (earlier := before.get(last_url)) is not None:
                    index.captures[last_url] = earlier
            # Or bytes after the last whole record that are none: what is left of a record cut.
            trailing = (
                last_offset is not None and last_offset + records.get_record_length() < path.stat().st_size
            )
            if last_cut or trailing:
                index.damaged.append(f"{path.name}: cut short after {read} responses")
        index.responses += read
    for damage in index.damaged:
        logger.warning("Archive file damaged, %s: its records before the damage are read", damage)
    return index


def member_whole(path: Path, offset: int) -> bool:
    """Whether the gzip member at ``offset`` (one WARC record) ends whole: warcio reads a member
    cut short as a shorter record. A record not gzipped (an uncompressed WARC) is taken as read."""
    with path.open("rb") as stream:
        stream.seek(offset)
        last = stream.read()  # the last record, and whatever follows it
    return not last.startswith(GZIP_MAGIC) or next(whole_members(last), None) is not None


def whole_members(data: bytes) -> Iterator[int]:
    """The end offsets of the gzip members of ``data`` that are whole; a member cut short ends it.
    Each WARC record is one member, written at once."""
    offset = 0
    while offset < len(data):
        member = zlib.decompressobj(wbits=31)
        position = offset
        try:
            while not member.eof and position < len(data):
                member.decompress(data[position : position + CHUNK], 0)
                position = min(position + CHUNK, len(data))
        except zlib.error:
            return
        if not member.eof:
            return
        offset = position - len(member.unused_data)
        yield offset


def read_capture(capture: Capture) -> Archived:
    """The response record at ``capture``, as it was kept."""
    with capture.path.open("rb") as stream:
        stream.seek(capture.offset)
        record = next(iter(ArchiveIterator(stream)))
        assert record.http_headers is not None  # an indexed response record has them
        return Archived(
            url=record.rec_headers.get_header("WARC-Target-URI"),
            date=record.rec_headers.get_header("WARC-Date"),
            status=int(record.http_headers.get_statuscode() or 0),
            headers=list(record.http_headers.headers),
            body=record.content_stream().read(),
        )
