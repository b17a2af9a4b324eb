"""The mirror server answers like the live web server: index pages, content types, 404s, 304s."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import SITE, get_testdata

if TYPE_CHECKING:
    from email.message import Message


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, "", b""


@pytest.mark.parametrize(
    ("path", "index"),
    [
        ("en.cnis.ac.cn/xwdt/bydt/", "index.shtml"),
        ("www.cnis.ac.cn/tzgg/", "index.html"),
        ("en.cnis.gov.cn/xwdt/bydt/", "index.shtml"),
    ],
)
def test_directory_url_serves_first_listing_page(mirror_url: str, path: str, index: str) -> None:
    status, content_type, body = fetch(f"{mirror_url}/{path}")
    assert (status, content_type) == (200, "text/html")
    assert body == get_testdata(*path.split("/")[:-1], index)


def test_shtml_is_html_and_missing_is_404(mirror_url: str) -> None:
    assert fetch(f"{mirror_url}/en.cnis.ac.cn/kycg/index.shtml")[:2] == (200, "text/html")
    assert fetch(f"{mirror_url}/en.cnis.ac.cn/kycg/202001/t20200115_41950.shtml")[0] == 404


def test_robots_txt_at_the_root(mirror_url: str) -> None:
    status, _, body = fetch(f"{mirror_url}/robots.txt")
    assert status == 200
    assert b"User-agent: *" in body


def test_mirror_sends_the_content_type_of_headers_json(mirror_url: str) -> None:
    path = "www.cnis.ac.cn/bydt/kydt/201807/t20180712_39105.html"
    status, content_type, _ = fetch(f"{mirror_url}/{path}")
    assert (status, content_type) == (200, "text/html; charset=utf-8")


PAGE = "en.cnis.ac.cn/kycg/index.shtml"
# A date after any fixture's mtime: without the If-None-Match rule it alone would answer 304.
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


def send(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:  # urllib raises for 304 too
        with error:
            return error.code, error.headers, error.read()


def test_etag_is_from_the_stat_and_stable(mirror_url: str) -> None:
    _, first, body = send(f"{mirror_url}/{PAGE}")
    _, second, _ = send(f"{mirror_url}/{PAGE}")
    stat = SITE.joinpath(PAGE).stat()
    assert first["ETag"] == second["ETag"] == f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
    assert first["Last-Modified"]
    assert body == get_testdata(*PAGE.split("/"))


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("if_none_match", ["{etag}", "*", "W/{etag}", '{etag}, "other"'])
def test_matching_if_none_match_is_304(mirror_url: str, method: str, if_none_match: str) -> None:
    etag = send(f"{mirror_url}/{PAGE}")[1]["ETag"]
    status, headers, body = send(
        f"{mirror_url}/{PAGE}", {"If-None-Match": if_none_match.format(etag=etag)}, method
    )
    assert (status, headers["ETag"], body) == (304, etag, b"")


def test_stale_etag_gets_the_body_whatever_if_modified_since(mirror_url: str) -> None:
    headers = {"If-None-Match": '"stale-1"', "If-Modified-Since": FUTURE}
    status, _, body = send(f"{mirror_url}/{PAGE}", headers)
    assert (status, body) == (200, get_testdata(*PAGE.split("/")))


def test_if_modified_since_alone_is_304_when_not_newer(mirror_url: str) -> None:
    last_modified = send(f"{mirror_url}/{PAGE}")[1]["Last-Modified"]
    status, _, body = send(f"{mirror_url}/{PAGE}", {"If-Modified-Since": last_modified})
    assert (status, body) == (304, b"")


def test_edited_page_gets_a_new_etag(tmp_path: Path) -> None:
    page = tmp_path / PAGE
    page.parent.mkdir(parents=True)
    page.write_bytes(get_testdata(*PAGE.split("/")))
    with running_mirror(tmp_path) as url:
        old = send(f"{url}/{PAGE}")[1]["ETag"]
        mtime = page.stat().st_mtime_ns
        page.write_bytes(b"<html>edited</html>")
        # Moved well past the first mtime so the test never depends on the clock's resolution.
        os.utime(page, ns=(mtime + 5_000_000_000, mtime + 5_000_000_000))
        status, headers, body = send(f"{url}/{PAGE}", {"If-None-Match": old})
    assert (status, body) == (200, b"<html>edited</html>")
    assert headers["ETag"] not in (None, old)


def test_cnis_crawler_mirror_serves_while_a_command_runs_and_exits_with_its_status() -> None:
    fetch = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + '/robots.txt'); sys.exit(7)"
    command = [str(Path(sys.executable).with_name("cnis-crawler")), "mirror", str(SITE)]
    completed = subprocess.run(
        [*command, "--", sys.executable, "-c", fetch, "{url}"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 7, completed.stderr
    assert completed.stdout.startswith("Mirror of ")


@pytest.mark.parametrize(
    ("port", "line"),
    [
        ("99999", "cnis-crawler mirror: error: argument --port: '99999' is no port: 0 to 65535"),
        (
            "taken",
            "cnis-crawler mirror: error: cannot listen on 127.0.0.1:{port}: [Errno 98] Address already",
        ),
    ],
)
def test_a_port_that_cannot_serve_is_one_line(port: str, line: str, mirror_url: str) -> None:
    taken = mirror_url.rsplit(":", 1)[1]
    chosen = taken if port == "taken" else port
    served = subprocess.run(
        [sys.executable, "-m", "cnis_crawler.tools.cli", "mirror", str(SITE), "--port", chosen],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert served.returncode == 2
    assert served.stderr.splitlines()[-1].startswith(line.format(port=taken))
    assert "Traceback" not in served.stderr
