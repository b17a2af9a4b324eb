"""``-a files=1``: attachments and pictures downloaded into output/files/ by Scrapy's FilesPipeline,
each record's entries given ``path`` and ``checksum``, a failed file dropped by name and never its
article; on the mirror, whose files are real PDF, DOC, RAR, JPEG and PNG bytes, a 404 and pages
served as HTML."""

from __future__ import annotations

import hashlib
import json
import shutil
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from scrapy import Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web.client import ResponseNeverReceived

from cnis_crawler.crawling.commands.crawl import START_ERRORS
from cnis_crawler.crawling.files import (
    ArticleFilesPipeline,
    AtomicFSFilesStore,
    download_problem,
    failure_text,
)
from cnis_crawler.schema import record_schema
from tests.conftest import MIRROR_ARTICLES, SITE
from tests.crawling import CrawlResult, run_crawl

if TYPE_CHECKING:
    from collections.abc import Iterator

SOURCE_FILES = Path(__file__).parent / "fixtures" / "source" / "files"


def mirror_file(live_url: str) -> Path:
    """Where the mirror keeps the file at ``live_url``."""
    host_and_path = live_url.split("://", 1)[1]
    return SITE / host_and_path


def served_as_html() -> set[str]:
    """The mirror's files that answer with an HTML page (from its _headers.json)."""
    headers = json.loads((SITE / "_headers.json").read_text("utf-8"))
    return {path for path, content_type in headers.items() if not path.endswith(("html", "shtml"))}


def file_entries(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for record in records:
        yield from record["attachments"]
        yield from record["images"]


@pytest.fixture(scope="module")
def files_crawl(mirror_url: str, tmp_path_factory: pytest.TempPathFactory) -> CrawlResult:
    return run_crawl(tmp_path_factory.mktemp("files"), "-a", f"mirror={mirror_url}", "-a", "files=1")


def test_each_file_is_stored_once_with_its_path_and_checksum(files_crawl: CrawlResult) -> None:
    assert files_crawl.returncode == 0, files_crawl.log[-3000:]
    assert len(files_crawl.records) == MIRROR_ARTICLES, "a file that fails drops no article"
    store = files_crawl.workdir / "output" / "files"
    stored = 0
    for entry in file_entries(files_crawl.records):
        source = mirror_file(entry["url"])
        if entry["path"] is None:
            continue
        data = (store / entry["path"]).read_bytes()
        assert data == source.read_bytes(), entry["url"]
        assert entry["checksum"] == hashlib.md5(data).hexdigest()
        stored += 1
    kinds = {path.suffix for path in (store / "full").iterdir()}
    assert kinds == {".pdf", ".doc", ".rar", ".jpg", ".png"}
    assert stored == files_crawl.stats["file_status_count/downloaded"] == 24
    assert len(list((store / "full").iterdir())) == 24


def test_a_missing_file_and_files_served_as_html_are_dropped_by_name(
    files_crawl: CrawlResult, mirror_crawl: CrawlResult
) -> None:
    missing = [entry["url"] for entry in file_entries(files_crawl.records) if entry["path"] is None]
    gone = [url for url in missing if not mirror_file(url).exists()]
    html = [url for url in missing if "/" + url.split("://", 1)[1] in served_as_html()]
    assert sorted(gone + html) == sorted(missing)
    assert (len(gone), len(html)) == (4, 2)
    stats = files_crawl.stats
    assert stats["file_dropped_reasons_count/FileGone"] == 4
    assert stats["file_dropped_reasons_count/FileServedAsHtml"] == 2
    item_drops = {key: value for key, value in stats.items() if key.startswith("item_dropped")}
    assert item_drops == {k: v for k, v in mirror_crawl.stats.items() if k.startswith("item_dropped")}
    for url in html:
        assert f"Dropped file (FileServedAsHtml: a web page (text/html)): {url}, of " in files_crawl.log
    assert "Traceback" not in files_crawl.log
    assert all(
        entry["checksum"] is None for entry in file_entries(files_crawl.records) if entry["url"] in missing
    )


def test_records_with_files_fit_the_schema(files_crawl: CrawlResult) -> None:
    validator = jsonschema.Draft202012Validator(
        record_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for record in files_crawl.records:
        validator.validate(record)


def test_a_file_stored_by_an_earlier_run_is_not_fetched_again(
    files_crawl: CrawlResult, mirror_url: str, tmp_path: Path
) -> None:
    # Another crawl state (every article new again), the same FILES_STORE, the mirror under
    # another address: the files are named after their live URLs.
    shutil.copytree(files_crawl.workdir / "output" / "files", tmp_path / "output" / "files")
    other_address = mirror_url.replace("127.0.0.1", "localhost")
    again = run_crawl(tmp_path, "-a", f"mirror={other_address}", "-a", "files=1")
    assert again.returncode == 0, again.log[-3000:]
    assert again.stats["file_status_count/uptodate"] == 24
    assert "file_status_count/downloaded" not in again.stats
    first = {entry["url"]: (entry["path"], entry["checksum"]) for entry in file_entries(files_crawl.records)}
    assert {
        entry["url"]: (entry["path"], entry["checksum"]) for entry in file_entries(again.records)
    } == first


def test_without_files_nothing_is_downloaded(mirror_crawl: CrawlResult) -> None:
    assert not (mirror_crawl.workdir / "output" / "files").exists()
    assert not any("file_count" in key for key in mirror_crawl.stats)
    assert all("path" not in entry for entry in file_entries(mirror_crawl.records))
    assert "ArticleFilesPipeline" not in mirror_crawl.log


def response(
    body: bytes, url: str = "https://www.cnis.ac.cn/tzgg/202412/P0.pdf", status: int = 200, **headers: str
) -> Response:
    return Response(url, status=status, body=body, headers=headers)


PDF = (SOURCE_FILES / "report.pdf").read_bytes()
PNG = (SOURCE_FILES / "chart.png").read_bytes()
LINKED_PDF = "https://www.cnis.ac.cn/tzgg/202412/P0.pdf"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"></svg>'


@pytest.mark.parametrize(
    ("answer", "picture", "problem"),
    [
        pytest.param(response(PDF, **{"Content-Type": "application/pdf"}), False, None, id="pdf"),
        pytest.param(response(PNG, "https://x/W0.png"), True, None, id="png-without-content-type"),
        pytest.param(response(SVG, "https://x/W0.svg"), True, None, id="svg"),
        pytest.param(
            response(b"<!-- Generator: Adobe Illustrator -->" + SVG, "https://x/W0.svg"),
            True,
            None,
            id="svg-comment",
        ),
        pytest.param(
            response(b"\x00\x00\x00\x1cftypavif", "https://x/W0.avif", **{"Content-Type": "image/avif"}),
            True,
            None,
            id="avif",
        ),
        pytest.param(
            response(PDF, **{"Content-Type": "text/html"}), False, None, id="a-pdf-sent-as-text-html"
        ),
        pytest.param(response(b"", status=404), False, ("FileGone", "HTTP 404"), id="404"),
        pytest.param(response(b"x", status=410), False, ("FileGone", "HTTP 410"), id="410"),
        pytest.param(response(b"busy", status=503), False, ("FileHttpError", "HTTP 503"), id="503"),
        pytest.param(response(b""), False, ("FileEmpty", "no bytes"), id="empty"),
        pytest.param(
            response(b"<html><body>Not found</body></html>", **{"Content-Type": "text/html; charset=utf-8"}),
            False,
            ("FileServedAsHtml", "a web page (text/html)"),
            id="html-page",
        ),
        pytest.param(
            response(b"<html><body>Not found</body></html>", "https://www.cnis.ac.cn/error.html"),
            False,
            ("FileServedAsHtml", "a web page (no Content-Type)"),
            id="redirected-to-an-error-page",
        ),
        pytest.param(
            response(b"\xef\xbb\xbf\n<!DOCTYPE html><html>", **{"Content-Type": "application/octet-stream"}),
            False,
            ("FileServedAsHtml", "a web page (application/octet-stream)"),
            id="html-bytes-under-another-type",
        ),
        pytest.param(
            response(PDF, "https://x/W0.jpg", **{"Content-Type": "application/pdf"}),
            True,
            ("FileNotAPicture", "application/pdf, not a picture"),
            id="a-picture-url-answering-a-pdf",
        ),
    ],
)
def test_download_problems(answer: Response, picture: bool, problem: tuple[str, str] | None) -> None:
    linked = answer.url if answer.url.startswith("https://x/") else LINKED_PDF
    assert download_problem(answer, linked, picture=picture) == problem


def test_a_failure_is_told_in_one_line() -> None:
    lost = ResponseNeverReceived([Failure(ConnectionLost("Connection to the other side was lost"))])
    assert failure_text(Failure(lost)) == "ResponseNeverReceived: ConnectionLost"
    assert (
        failure_text(Failure(IgnoreRequest("Forbidden by robots.txt")))
        == "IgnoreRequest: Forbidden by robots.txt"
    )
    assert failure_text(Failure(TimeoutError())) == "TimeoutError"


def test_a_file_is_stored_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = AtomicFSFilesStore(str(tmp_path))
    store.persist_file("full/a.pdf", BytesIO(PDF), info=None)  # type: ignore[arg-type]
    assert (tmp_path / "full" / "a.pdf").read_bytes() == PDF

    def disk_full(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        store.persist_file("full/b.pdf", BytesIO(PDF), info=None)  # type: ignore[arg-type]
    assert sorted(path.name for path in (tmp_path / "full").iterdir()) == ["a.pdf"]


def test_a_file_the_disk_refuses_is_dropped_by_name(mirror_url: str, tmp_path: Path) -> None:
    # Where one picture would be stored there is a folder: writing it fails.
    live_url = "https://en.cnis.ac.cn/zdxw/202109/W020210903048120000002.png"
    (tmp_path / "output" / "files" / "full" / f"{hashlib.sha1(live_url.encode()).hexdigest()}.png").mkdir(
        parents=True
    )
    crawl = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-a", "files=1")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert len(crawl.records) == MIRROR_ARTICLES
    assert crawl.stats["file_dropped_reasons_count/FileNotStored"] == 1
    assert "Dropped file (FileNotStored: IsADirectoryError: " in crawl.log
    assert "Traceback" not in crawl.log
    [entry] = [image for record in crawl.records for image in record["images"] if image["url"] == live_url]
    assert (entry["path"], entry["checksum"]) == (None, None)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("-a", "files=1", "-s", "FILES_STORE="),
            "-a files=1 needs FILES_STORE, the folder to store the files in",
        ),
        (("-s", "CNIS_FILES=maybe"), "CNIS_FILES takes True or False, got 'maybe'"),
        (("-a", "files=1", "-s", "FILES_STORE=blocked"), "blocked/full"),
    ],
    ids=["no-store", "not-a-flag", "store-not-a-folder"],
)
def test_files_that_cannot_be_stored_stop_the_crawl_at_once(
    mirror_url: str, tmp_path: Path, arguments: tuple[str, ...], message: str
) -> None:
    (tmp_path / "blocked").mkdir()
    (tmp_path / "blocked" / "full").write_text("a file where the folder goes")
    crawl = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", *arguments)
    assert crawl.returncode == 2, crawl.log[-3000:]
    assert "The crawl cannot start: " in crawl.log
    assert message in crawl.log
    assert crawl.records == []


@pytest.mark.parametrize("store", ["s3://bucket/files", "gs://bucket/files"])
def test_a_store_whose_library_is_missing_stops_the_crawl_at_once(store: str) -> None:
    crawler = get_crawler(Spider, {"CNIS_FILES": True, "FILES_STORE": store})
    with pytest.raises(ValueError, match=f"-a files=1 cannot store files in {store}: "):
        ArticleFilesPipeline.from_crawler(crawler)


def test_a_store_the_disk_refuses_stops_the_crawl_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(*args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied", str(tmp_path))

    monkeypatch.setattr("tempfile.NamedTemporaryFile", read_only)
    crawler = get_crawler(Spider, {"CNIS_FILES": True, "FILES_STORE": str(tmp_path)})
    with pytest.raises(PermissionError) as raised:
        ArticleFilesPipeline.from_crawler(crawler)
    assert isinstance(raised.value, START_ERRORS), "scrapy crawl tells it in one line and exits 2"
