"""Every response of a crawl kept as fetched: gzipped WARC records (ISO 28500, with ``warcio``)
under ``output/warc/`` (``CNIS_WARC_DIR``), on unless ``CNIS_WARC_ENABLED`` is off.

Each response is a ``request`` record (the headers sent) and a ``response`` record (status,
headers, body), or a ``revisit`` record for a 304 (profile *server-not-modified*: the page did
not change, there is no body to keep). ``WARC-Target-URI`` is the live URL, also when the crawl
reads a mirror. The body is the one the crawl read: decompressed by Scrapy's HttpCompression
middleware, so the record's HTTP headers no longer name a content or transfer encoding.

A run writes ``cnis-<run id>-<n>.warc.gz`` files, a new one after ``CNIS_WARC_MAX_BYTES``; each
is written as ``….warc.gz.part`` and renamed when complete, as the run files are. A killed run
leaves its ``.part``: the next run keeps of it the records written whole (a gzip member each)
and renames it, so no archive is ever cut short.
"""

from __future__ import annotations

import fcntl
import logging
import os
from contextlib import suppress
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cnis_crawler import __version__
from cnis_crawler.crawling.memory import CrawlMemory
from cnis_crawler.memory.files import ensure_writable, new_run_id
from cnis_crawler.memory.state import utc_now
from cnis_crawler.memory.warc import PART_FILES, PART_SUFFIX, WARC_SUFFIX, whole_members
from cnis_crawler.urls import mirrored_live_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector
    from warcio.recordloader import ArcWarcRecord

logger = logging.getLogger(__name__)

# Headers that describe bytes on the wire the crawl no longer has: the body kept is decoded.
WIRE_HEADERS = frozenset((b"content-encoding", b"transfer-encoding", b"content-length"))
NOT_MODIFIED_PROFILE = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


class WarcArchive:
    """Writes each response the crawl receives into the run's WARC files (see the module)."""

    def __init__(self, folder: Path, max_bytes: int, run_id: str) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        self.run_id = run_id
        self.number = 0
        self.file: IO[bytes] | None = None
        self.writer: WARCWriter | None = None
        self.stored: list[Path] = []
        self.records = 0
        self.stats: StatsCollector | None = None
        self.memory: CrawlMemory | None = None
        self.crawler: Crawler | None = None
        self.in_file = 0
        self.failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("CNIS_WARC_ENABLED"):
            raise NotConfigured
        run_id = getattr(crawler.spider, "run_id", None) or new_run_id()
        archive = cls(Path(settings["CNIS_WARC_DIR"]), settings.getint("CNIS_WARC_MAX_BYTES"), run_id)
        ensure_writable(archive.folder)  # a folder it cannot write: no crawl
        crawler.signals.connect(archive.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(archive.response_received, signal=signals.response_received)
        crawler.signals.connect(archive.spider_closed, signal=signals.spider_closed)
        archive.stats = crawler.stats
        archive.crawler = crawler
        return archive

    def spider_opened(self, spider: Spider) -> None:
        # The crawl state, where the archive's files are listed (there once the extensions are).
        assert self.crawler is not None
        self.memory = self.crawler.get_extension(CrawlMemory)
        for path, responses in recover_parts(self.folder):
            self.list_file(path, responses, run_id_of(path))

    def list_file(self, path: Path, responses: int, run_id: str) -> None:
        if self.memory is not None:
            self.memory.state.archive_stored(path, responses, run_id, utc_now())

    def response_received(self, response: Response, request: Request, spider: Spider) -> None:
        if self.failed:
            return
        uri = live_url(spider, response.url)
        if uri is None:
            return  # a mirror's own file (its robots.txt): no page of the site
        try:
            self.archive(uri, response, request, spider)
        except OSError as error:
            # A disk that refuses the archive refuses it for the rest of the run: told once.
            self.failed = True
            logger.error(
                "The archive stops: %s cannot be written (%s); the crawl goes on without it",
                self.folder,
                error,
            )
            if self.stats is not None:
                self.stats.set_value("warc/failed", str(error))
            self.abandon_file()

    def archive(self, uri: str, response: Response, request: Request, spider: Spider) -> None:
        writer = self.current_writer()
        target = urlsplit(uri)
        path = (target.path or "/") + (f"?{target.query}" if target.query else "")
        sent_headers = [
            (name, live_url(spider, value) or value if name.lower() == "referer" else value)
            for name, value in header_pairs(request.headers)
        ]
        sent = StatusAndHeaders(f"{request.method} {path} HTTP/1.1", sent_headers, is_http_request=True)
        kept = [
            (name, live_location(spider, response.url, value) if name.lower() == "location" else value)
            for name, value in header_pairs(response.headers)
            if name.lower().encode() not in WIRE_HEADERS
        ]
        received = StatusAndHeaders(status_line(response.status), kept, protocol="HTTP/1.1")
        dated = {"WARC-Date": utc_now()}  # the WARC's own form: UTC to the second, Z

        def with_body(kind: str, body: bytes, headers: StatusAndHeaders) -> ArcWarcRecord:
            payload = BytesIO(body)
            return writer.create_warc_record(
                uri, kind, payload=payload, length=len(body), http_headers=headers, warc_headers_dict=dated
            )

        if response.status == 304:
            record = writer.create_warc_record(uri, "revisit", http_headers=received, warc_headers_dict=dated)
            record.rec_headers.add_header("WARC-Profile", NOT_MODIFIED_PROFILE)
        else:
            record = with_body("response", response.body, received)
        writer.write_request_response_pair(with_body("request", request.body, sent), record)
        self.records += 1
        self.in_file += 1
        if self.stats is not None:
            self.stats.inc_value("warc/responses")
        assert self.file is not None
        if self.file.tell() >= self.max_bytes:
            self.close_file()

    def current_writer(self) -> WARCWriter:
        if self.writer is None:
            self.number += 1
            path = self.folder / f"cnis-{self.run_id}-{self.number:03d}{WARC_SUFFIX}{PART_SUFFIX}"
            self.file = path.open("wb")
            # Held while the file is written: another crawl's recovery leaves it alone.
            fcntl.flock(self.file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.writer = WARCWriter(self.file, gzip=True, warc_version="1.1")
            info = {"software": f"cnis-crawler {__version__} (warcio)", "format": "WARC File Format 1.1"}
            self.writer.write_record(
                self.writer.create_warcinfo_record(path.name.removesuffix(PART_SUFFIX), info)
            )
        return self.writer

    def close_file(self) -> None:
        if self.file is None:
            return
        file, self.file, self.writer = self.file, None, None
        try:
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        part = Path(file.name)
        final = part.with_name(part.name.removesuffix(PART_SUFFIX))
        os.replace(part, final)
        self.stored.append(final)
        self.list_file(final, self.in_file, self.run_id)
        if self.stats is not None:
            self.stats.inc_value("warc/files")

    def abandon_file(self) -> None:
        """The file being written, closed as it is: the next run keeps its whole records."""
        if self.file is not None:
            file, self.file, self.writer = self.file, None, None
            with suppress(OSError):
                file.close()

    def spider_closed(self, spider: Spider) -> None:
        if self.failed:
            return
        try:
            self.close_file()
        except OSError as error:
            logger.error(
                "The archive's last file could not be completed (%s): the next run keeps its whole records",
                error,
            )
            self.abandon_file()
        if self.stored:
            size = sum(path.stat().st_size for path in self.stored)
            logger.info(
                "Archived %d responses in %d WARC file(s) under %s (%d bytes)",
                self.records,
                len(self.stored),
                self.folder,
                size,
            )


def status_line(status: int) -> str:
    """``200 OK``; a status HTTP names no phrase for, alone."""
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [(text(name), text(value)) for name, values in headers.items() for value in values]


def text(raw: bytes) -> str:
    """A header's bytes as text: UTF-8 where they are (a file name), else byte for byte."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def live_url(spider: Spider, url: str) -> str | None:
    """The live URL a fetched URL stands for: a mirror's ``<mirror>/<host>/<path>`` is
    ``<host>/<path>``, and a mirror's file of no host (its robots.txt) stands for none."""
    addressing = getattr(spider, "addressing", None)
    if addressing is None or not addressing.mirror or not url.startswith(f"{addressing.mirror}/"):
        return url
    path, _, query = url[len(addressing.mirror) :].partition("?")
    return mirrored_live_url(path.split("#", 1)[0], query)


def live_location(spider: Spider, response_url: str, location: str) -> str:
    """A redirect's target as a live URL: a mirror's redirect names the mirror, which is gone
    when the archive is replayed (the replaying crawl maps it back onto its own mirror)."""
    target = urljoin(response_url, location)
    return live_url(spider, target) or target


def run_id_of(path: Path) -> str:
    """The run id in an archive file's name (``cnis-<run id>-<n>.warc.gz``)."""
    return path.name.removeprefix("cnis-").rsplit("-", 1)[0]


def recover_parts(folder: Path) -> list[tuple[Path, int]]:
    """A killed run's ``.part`` files (none being written: those are locked): of each, the
    warcinfo record and the request and response pairs written whole are kept, and renamed;
    returns the files kept and the responses each holds."""
    kept_files = []
    for part in sorted(folder.glob(PART_FILES)):
        with part.open("rb") as source:
            try:
                fcntl.flock(source.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # another crawl is writing it
            data = source.read()
        ends = list(whole_members(data))
        whole = len(ends) - (len(ends) - 1) % 2 if ends else 0  # warcinfo, then pairs
        final = part.with_name(part.name.removesuffix(PART_SUFFIX))
        if whole:
            final.write_bytes(data[: ends[whole - 1]])
            responses = (whole - 1) // 2
            kept_files.append((final, responses))
            logger.warning(
                "Kept %d responses of the archive %s that a killed run left (%d bytes after them dropped)",
                responses,
                final,
                len(data) - ends[whole - 1],
            )
        part.unlink()
    return kept_files
