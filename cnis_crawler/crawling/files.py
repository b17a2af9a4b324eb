"""The files of the records a crawl writes, on request (``-a files=1`` or ``CNIS_FILES = True``):
attachments and pictures downloaded by Scrapy's :class:`~scrapy.pipelines.files.FilesPipeline`
into ``FILES_STORE`` (``output/files/``), each entry of the record given its ``path`` there and
the file's MD5 ``checksum``.

Scrapy's way throughout: the downloads go through the crawl's downloader (its delays, its
robots.txt, its retries); a file already stored and younger than ``FILES_EXPIRES`` days is not
fetched again, by this run or a later one; the stored name is the SHA1 of the file's live URL, so
a mirror at another port stores nothing twice. Pictures are kept as the site serves them (not
Scrapy's ``ImagesPipeline``, which re-encodes every picture as JPEG: its checksum would be no
checksum of the site's file).

A file that cannot be had is a named drop of that file, never of its article: one WARNING line,
``file_dropped_reasons_count/<reason>`` in the stats, and ``path`` and ``checksum`` null in the
record. Reasons: ``FileGone`` (404, 410), ``FileHttpError`` (another status), ``FileEmpty``,
``FileServedAsHtml`` (a web page where a file was linked: a lost file's error page, a login),
``FileNotAPicture`` (a picture's URL answering something else), ``FileNotFetched`` (no answer:
the network, robots.txt, an off-site host), ``FileNotStored`` (the disk refused it). A stored
file is written beside its name and renamed into place: a killed run or a full disk leaves no
half of one that a later run would take for the file.
"""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FSFilesStore

from cnis_crawler.crawling.drops import failure_name
from cnis_crawler.crawling.items import Article
from cnis_crawler.memory.files import ensure_writable

if TYPE_CHECKING:
    from io import BytesIO
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.pipelines.files import FilesStoreProtocol
    from scrapy.pipelines.media import FileInfo, FileInfoOrError, MediaPipeline
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

FILES_SETTING = "CNIS_FILES"
LIVE_URL_META = "cnis_live_url"
ARTICLE_META = "cnis_file_of"
PICTURE_META = "cnis_picture"
HTML_EXTENSIONS = (".html", ".htm", ".shtml")
# What the first bytes of a picture file are, whatever its name says.
PICTURE_SIGNATURES = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
)
# How a web page starts (after a byte-order mark and blanks), whatever its Content-Type says.
HTML_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<!--", b"<meta", b"<script", b"<title")
NO_FILE = ""
"""The ``path`` and ``checksum`` of a dropped file's result: see :meth:`ArticleFilesPipeline.drop`."""


class AtomicFSFilesStore(FSFilesStore):
    """Scrapy's store of local files, each written beside its name and renamed into place."""

    def persist_file(
        self,
        path: str | os.PathLike[str],
        buf: BytesIO,
        info: MediaPipeline.SpiderInfo,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        target = Path(self.basedir, *os.fspath(path).split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        aside = target.with_name(f"{target.name}.part")
        try:
            aside.write_bytes(buf.getvalue())
            os.replace(aside, target)
        finally:
            aside.unlink(missing_ok=True)


class ArticleFilesPipeline(FilesPipeline):
    """Downloads each written record's attachments and pictures; see the module."""

    STORE_SCHEMES: ClassVar[dict[str, type[FilesStoreProtocol]]] = {
        **FilesPipeline.STORE_SCHEMES,
        "": AtomicFSFilesStore,
        "file": AtomicFSFilesStore,
    }

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        raw = crawler.settings.get(FILES_SETTING)
        try:
            wanted = crawler.settings.getbool(FILES_SETTING)
        except ValueError:
            raise ValueError(f"{FILES_SETTING} takes True or False, got {raw!r}") from None
        if not wanted:
            raise NotConfigured  # without a message: Scrapy would log one as a WARNING
        store = crawler.settings.get("FILES_STORE")
        if not store:
            raise ValueError("-a files=1 needs FILES_STORE, the folder to store the files in; it is empty")
        try:
            pipeline = super().from_crawler(crawler)
        except (NotConfigured, ImportError) as error:  # s3:// without botocore, gs:// without its library
            raise ValueError(f"-a files=1 cannot store files in {store}: {error}") from None
        if isinstance(pipeline.store, FSFilesStore):
            # A folder the files cannot go to is a crawl that cannot start, not 100 drops.
            ensure_writable(Path(pipeline.store.basedir, "full"))
        return pipeline

    def get_media_requests(self, item: Any, info: MediaPipeline.SpiderInfo) -> list[Request]:
        if not isinstance(item, Article):
            return []
        addressing = getattr(self.crawler.spider, "addressing", None)
        requests = []
        for entry, picture in entries(item):
            live_url = str(entry["url"])
            url = addressing.fetch_url(live_url) if addressing is not None else live_url
            meta = {LIVE_URL_META: live_url, ARTICLE_META: item.url, PICTURE_META: picture}
            requests.append(Request(url, callback=NO_CALLBACK, meta=meta))
        return requests

    def file_path(
        self,
        request: Request,
        response: Response | None = None,
        info: MediaPipeline.SpiderInfo | None = None,
        *,
        item: Any = None,
    ) -> str:
        # Named after the live URL: a mirror's address changes from run to run, the file does not.
        live = request.replace(url=request.meta.get(LIVE_URL_META, request.url))
        return super().file_path(live, response, info, item=item)

    async def media_downloaded(
        self, response: Response, request: Request, info: MediaPipeline.SpiderInfo, *, item: Any = None
    ) -> FileInfo:
        # FilesPipeline's own, but a response that is not the file and a disk that refuses it
        # are drops of the file: Scrapy's raises, and logs a traceback for each.
        live_url = request.meta.get(LIVE_URL_META, request.url)
        problem = download_problem(response, live_url, picture=bool(request.meta.get(PICTURE_META)))
        if problem is not None:
            return self.drop(request, *problem)
        path = self.file_path(request, response=response, info=info, item=item)
        try:
            checksum = self.file_downloaded(response, request, info, item=item)
            if inspect.isawaitable(checksum):
                checksum = await checksum
        except OSError as error:
            return self.drop(request, "FileNotStored", f"{type(error).__name__}: {error}")
        status = "cached" if "cached" in response.flags else "downloaded"
        self.inc_stats(status)
        return {"url": request.url, "path": path, "checksum": checksum, "status": status}

    # Scrapy's media pipeline logs a traceback for whatever media_failed raises, which its
    # contract asks: the failure is recorded as a drop instead, and the pipeline passes on the
    # None returned here, which item_completed takes as no file.
    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> None:  # type: ignore[override]
        self.drop(request, "FileNotFetched", failure_text(failure))

    def drop(self, request: Request, reason: str, detail: str) -> FileInfo:
        """Counts and logs the file as dropped: the result of a download that stored nothing."""
        self.crawler.stats.inc_value("file_count")
        self.crawler.stats.inc_value("file_status_count/dropped")
        self.crawler.stats.inc_value(f"file_dropped_reasons_count/{reason}")
        live_url = request.meta.get(LIVE_URL_META, request.url)
        logger.warning(
            "Dropped file (%s: %s): %s, of %s", reason, detail, live_url, request.meta.get(ARTICLE_META)
        )
        return {"url": request.url, "path": NO_FILE, "checksum": NO_FILE, "status": "dropped"}

    def item_completed(
        self, results: list[FileInfoOrError], item: Any, info: MediaPipeline.SpiderInfo
    ) -> Any:
        if isinstance(item, Article):
            for (entry, _), (ok, result) in zip(entries(item), results, strict=True):
                stored = result if ok and isinstance(result, dict) and result.get("path") else None
                entry["path"] = stored["path"] if stored else None
                entry["checksum"] = stored["checksum"] if stored else None
        return item


def entries(article: Article) -> list[tuple[dict[str, Any], bool]]:
    """The record's file entries, attachments then pictures, each with whether it is a picture."""
    return [(entry, False) for entry in article.attachments] + [(entry, True) for entry in article.images]


def failure_text(failure: Failure) -> str:
    """What went wrong, in one line: the exception's name and the first line of its message
    (a lost connection's message is a list of failures: their names)."""
    value = failure.value
    reasons = getattr(value, "reasons", None)
    if isinstance(reasons, list) and reasons:
        return f"{failure_name(failure)}: " + ", ".join(failure_name(reason) for reason in reasons)
    message = str(value).strip().splitlines()
    return f"{failure_name(failure)}: {message[0]}" if message else failure_name(failure)


def download_problem(response: Response, linked_url: str, *, picture: bool) -> tuple[str, str] | None:
    """Why a response is not the file ``linked_url`` names, as a drop reason and its detail."""
    if response.status in (404, 410):
        return "FileGone", f"HTTP {response.status}"
    if response.status != 200:
        return "FileHttpError", f"HTTP {response.status}"
    body = response.body
    if not body:
        return "FileEmpty", "no bytes"
    start = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    shown_type = content_type.decode("latin-1") or "no Content-Type"
    # Named after the link, not the address a redirect ended at (an error page of the site).
    linked_page = linked_url.split("?", 1)[0].lower().endswith(HTML_EXTENSIONS)
    if picture and is_picture(body, content_type):
        return None
    if not linked_page and (
        start.startswith(HTML_STARTS) or (content_type == b"text/html" and start.startswith(b"<"))
    ):
        return "FileServedAsHtml", f"a web page ({shown_type})"
    if picture:
        return "FileNotAPicture", f"{shown_type}, not a picture"
    return None


def is_picture(body: bytes, content_type: bytes) -> bool:
    """Bytes of a picture: by their signature, an SVG's start, or an image/* type the bytes do
    not belie (AVIF, icons)."""
    if body.startswith(PICTURE_SIGNATURES) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP"):
        return True
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if (
        b"<svg" in start
        and b"<html" not in start
        and start.startswith((b"<svg", b"<?xml", b"<!--", b"<!doctype svg"))
    ):
        return True
    return content_type.startswith(b"image/") and not start.startswith(HTML_STARTS)
