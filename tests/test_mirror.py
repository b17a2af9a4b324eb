"""The mirror server answers like the live web server: index pages, content types, 404s."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.conftest import get_testdata


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
