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
the network, robots.txt, an off-site host).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.http import Request
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline

from cnis_crawler.crawling.items import Article

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.http import Response
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
NO_FILE = ""
"""The ``path`` and ``checksum`` of a download's result that stored nothing (a dropped file):
results of the media pipeline must be results, or Scrapy logs a traceback for each."""


class ArticleFilesPipeline(FilesPipeline):
    """Downloads each written record's attachments and pictures; see the module."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool(FILES_SETTING):
            raise NotConfigured  # without a message: Scrapy would log the default as a WARNING
        return super().from_crawler(crawler)

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
        problem = download_problem(response, picture=bool(request.meta.get(PICTURE_META)))
        if problem is not None:
            self.drop(request, *problem)
            return {"url": request.url, "path": NO_FILE, "checksum": NO_FILE, "status": "dropped"}
        return await super().media_downloaded(response, request, info, item=item)

    # Scrapy's FilesPipeline raises here, and the media pipeline logs a traceback for each raise.
    def media_failed(self, failure: Failure, request: Request, info: MediaPipeline.SpiderInfo) -> None:  # type: ignore[override]
        self.drop(request, "FileNotFetched", failure.getErrorMessage())

    def drop(self, request: Request, reason: str, detail: str) -> None:
        self.crawler.stats.inc_value("file_count")
        self.crawler.stats.inc_value("file_status_count/dropped")
        self.crawler.stats.inc_value(f"file_dropped_reasons_count/{reason}")
        live_url = request.meta.get(LIVE_URL_META, request.url)
        logger.warning(
            "Dropped file (%s: %s): %s, of %s", reason, detail, live_url, request.meta.get(ARTICLE_META)
        )

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


def download_problem(response: Response, *, picture: bool) -> tuple[str, str] | None:
    """Why a response is not the file that was linked, as a drop reason and its detail."""
    if response.status in (404, 410):
        return "FileGone", f"HTTP {response.status}"
    if response.status != 200:
        return "FileHttpError", f"HTTP {response.status}"
    if not response.body:
        return "FileEmpty", "no bytes"
    start = response.body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    content_type = (response.headers.get(b"Content-Type") or b"").split(b";")[0].strip().lower()
    named_html = response.url.split("?", 1)[0].lower().endswith(HTML_EXTENSIONS)
    if not named_html and (content_type == b"text/html" or start.startswith((b"<!doctype html", b"<html"))):
        return "FileServedAsHtml", f"a web page ({content_type.decode('latin-1') or 'no Content-Type'})"
    body = response.body
    if picture and not (
        body.startswith(PICTURE_SIGNATURES) or (body[:4] == b"RIFF" and body[8:12] == b"WEBP")
    ):
        return "FileNotAPicture", f"{content_type.decode('latin-1') or 'no Content-Type'}, not a picture"
    return None
