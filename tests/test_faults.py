"""The mirror's faults (tests.tooling.faults): each faulted path fails on the wire exactly as told."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from cnis_crawler.extraction import extract_listing
from tests.conftest import SITE, get_testdata, live_url, page_text
from tests.tooling.fault_mirror import running_mirror
from tests.tooling.faults import PDF, FaultError, declare_pages, load_faults, requests_seen, reset_requests

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

EN_LISTING = "/en.cnis.ac.cn/kycg/index.shtml"
EN_ARTICLE = "/en.cnis.ac.cn/kycg/202105/t20210525_46830.shtml"
EN_ARTICLE_2 = "/en.cnis.ac.cn/kycg/202011/t20201124_44856.shtml"
EN_ARTICLE_3 = "/en.cnis.ac.cn/kycg/202202/t20220222_49610.shtml"
EN_ARTICLE_4 = "/en.cnis.ac.cn/kycg/202306/t20230620_55560.shtml"
OLD_ARTICLE = "/en.cnis.gov.cn/xwdt/bydt/201703/t20170315_22237.shtml"
ZH_ARTICLE = "/www.cnis.ac.cn/bydt/zhxw/201111/t20111106_43272.html"
ZH_ARTICLE_2 = "/www.cnis.ac.cn/bydt/zhxw/202209/t20220908_53204.html"
ZH_LISTING = "/www.cnis.ac.cn/tzgg/index.html"
MISSING = "/en.cnis.ac.cn/kycg/202001/t20200115_41950.shtml"  # listed, absent from the mirror

FAULTS: dict[str, dict[str, Any]] = {
    EN_LISTING: {"kind": "status", "statuses": [503, 502], "then": "serve", "headers": {"Retry-After": "1"}},
    MISSING: {"kind": "status", "statuses": [404]},
    EN_ARTICLE: {"kind": "reset", "after_bytes": 2000},
    EN_ARTICLE_2: {"kind": "truncate", "fraction": 0.5},
    EN_ARTICLE_3: {"kind": "huge", "megabytes": 10},
    EN_ARTICLE_4: {"kind": "timeout"},
    "/en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml": {"kind": "timeout", "seconds": 0.5},
    "/en.cnis.ac.cn/xwdt/bydt/202312/t20231218_56506.shtml": {"kind": "timeout", "after_bytes": 1000},
    "/en.cnis.ac.cn/xwdt/bydt/202302/t20230215_54290.shtml": {"kind": "soft404", "lang": "en"},
    "/en.cnis.ac.cn/xwdt/bydt/202211/t20221128_53416.shtml": {"kind": "soft404", "lang": "zh"},
    ZH_ARTICLE_2: {"kind": "soft404"},
    "/en.cnis.ac.cn/xwdt/bydt/202209/t20220928_52600.shtml": {"kind": "soft404", "times": 1},
    OLD_ARTICLE: {"kind": "redirect", "to": "/en.cnis.ac.cn/xwdt/bydt/201801/t20180126_36026.shtml"},
    "/en.cnis.gov.cn/xwdt/bydt/201707/t20170720_22690.shtml": {
        "kind": "redirect",
        "to": "https://en.cnis.gov.cn/xwdt/bydt/201707/t20170720_22690.shtml",
        "status": 301,
    },
    "/en.cnis.ac.cn/xwdt/bzhdt/202401/t20240110_56810.shtml": {"kind": "redirect_loop"},
    "/en.cnis.ac.cn/xwdt/bzhdt/202310/t20231025_56240.shtml": {
        "kind": "redirect_loop",
        "via": "/en.cnis.ac.cn/xwdt/bzhdt/202304/t20230426_55034.shtml",
    },
    "/en.cnis.ac.cn/zdxw/202309/t20230912_56020.shtml": {"kind": "empty"},
    "/www.cnis.ac.cn/tzgg/202503/t20250314_60512.html": {"kind": "pdf"},
    ZH_ARTICLE: {"kind": "encoding", "actual": "gb18030", "declared": "utf-8"},
    ZH_LISTING: {"kind": "pager", "declare": 5},
}


@pytest.fixture(scope="module")
def faulty_mirror() -> Iterator[str]:
    with running_mirror(SITE, faults=FAULTS) as url:
        yield url


@pytest.fixture
def faulty_url(faulty_mirror: str) -> str:
    """The mirror with FAULTS, its status sequences and ``times`` started again for each test."""
    reset_requests(faulty_mirror)
    return faulty_mirror


def mirror_file(path: str) -> bytes:
    return get_testdata(*path.lstrip("/").split("/"))


@contextmanager
def get(url: str, path: str, timeout: float = 10) -> Iterator[http.client.HTTPResponse]:
    """The response to one GET on a connection of its own, body not yet read, redirects not
    followed; closed afterwards, whatever the fault did."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        connection.request("GET", path)
        with connection.getresponse() as response:
            yield response
    finally:
        connection.close()


def head(url: str, path: str) -> tuple[int, http.client.HTTPMessage]:
    """Status and headers of one GET (the body is read and dropped)."""
    with get(url, path) as response:
        response.read()
        return response.status, response.headers


def read_body(url: str, path: str) -> bytes:
    with get(url, path) as response:
        return response.read()


def test_status_sequence_then_the_file(faulty_url: str) -> None:
    answers = []
    for _ in range(3):
        with get(faulty_url, EN_LISTING) as response:
            answers.append((response.status, response.getheader("Retry-After"), response.read()))
    assert [(status, retry_after) for status, retry_after, _ in answers] == [
        (503, "1"),
        (502, "1"),
        (200, None),
    ]
    assert b"503 Service Unavailable" in answers[0][2]
    assert answers[2][2] == mirror_file(EN_LISTING)


def test_requests_are_counted_with_their_times_and_answers(faulty_url: str) -> None:
    started = time.time()
    for _ in range(3):
        head(faulty_url, EN_LISTING)
    head(faulty_url, "/robots.txt")
    seen = requests_seen(faulty_url)
    assert [entry["answer"] for entry in seen[EN_LISTING]] == ["503", "502", "serve"]
    times = [entry["at"] for entry in seen[EN_LISTING]]
    assert started - 1 <= times[0] <= times[1] <= times[2] <= time.time() + 1
    assert seen["/robots.txt"] == [
        {"at": pytest.approx(time.time(), abs=5), "method": "GET", "answer": "serve"}
    ]


def test_reset_starts_the_sequences_again(faulty_url: str) -> None:
    assert head(faulty_url, EN_LISTING)[0] == 503
    reset_requests(faulty_url)
    assert requests_seen(faulty_url) == {}
    assert head(faulty_url, EN_LISTING)[0] == 503


def test_a_listed_article_is_404_every_time(faulty_url: str) -> None:
    assert [head(faulty_url, MISSING)[0] for _ in range(3)] == [404, 404, 404]


def test_timeout_never_answers(faulty_url: str) -> None:
    started = time.perf_counter()
    with pytest.raises(TimeoutError), get(faulty_url, EN_ARTICLE_4, timeout=0.5):
        pass
    assert time.perf_counter() - started >= 0.5
    assert [entry["answer"] for entry in requests_seen(faulty_url)[EN_ARTICLE_4]] == ["timeout"]


def test_timeout_with_seconds_answers_late(faulty_url: str) -> None:
    path = "/en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml"
    started = time.perf_counter()
    with get(faulty_url, path) as response:
        assert (response.status, response.read()) == (200, mirror_file(path))
    assert time.perf_counter() - started >= 0.5


def test_timeout_after_part_of_the_body(faulty_url: str) -> None:
    path = "/en.cnis.ac.cn/xwdt/bydt/202312/t20231218_56506.shtml"
    page = mirror_file(path)
    with get(faulty_url, path, timeout=0.5) as response:
        assert (response.status, response.getheader("Content-Length")) == (200, str(len(page)))
        assert response.read(1000) == page[:1000]
        with pytest.raises(TimeoutError):
            response.read()


def test_reset_mid_body(faulty_url: str) -> None:
    page = mirror_file(EN_ARTICLE)
    with get(faulty_url, EN_ARTICLE) as response:
        assert (response.status, response.getheader("Content-Length")) == (200, str(len(page)))
        assert response.read(2000) == page[:2000]
        with pytest.raises(ConnectionResetError):
            response.read()


def test_reset_seen_by_urllib(faulty_url: str) -> None:
    with pytest.raises(ConnectionResetError), urllib.request.urlopen(faulty_url + EN_ARTICLE) as response:
        response.read()


def test_truncated_body_is_shorter_than_its_content_length(faulty_url: str) -> None:
    page = mirror_file(EN_ARTICLE_2)
    with get(faulty_url, EN_ARTICLE_2) as response:
        assert response.getheader("Content-Length") == str(len(page))
        with pytest.raises(http.client.IncompleteRead) as incomplete:
            response.read()
    assert incomplete.value.partial == page[: len(page) // 2]
    assert incomplete.value.expected == len(page) - len(page) // 2


@pytest.mark.parametrize(
    ("path", "wording"),
    [
        (
            "/en.cnis.ac.cn/xwdt/bydt/202302/t20230215_54290.shtml",
            "Sorry, the page you visited does not exist",
        ),
        ("/en.cnis.ac.cn/xwdt/bydt/202211/t20221128_53416.shtml", "对不起，您访问的页面不存在"),
        (ZH_ARTICLE_2, "对不起，您访问的页面不存在"),  # the host's own language
    ],
)
def test_soft_404_is_a_200_not_found_page(faulty_url: str, path: str, wording: str) -> None:
    with get(faulty_url, path) as response:
        status, content_type, text = (
            response.status,
            response.getheader("Content-Type"),
            response.read().decode(),
        )
    assert (status, content_type) == (200, "text/html")
    assert wording in text
    assert "404" in text
    # In the site's frame: its navigation and footer, as a real error page of the site.
    assert ("Privacy Policy" in text) or ("版权所有" in text)
    assert text.count("<li") >= 5


def test_times_limits_a_fault_to_the_first_requests(faulty_url: str) -> None:
    path = "/en.cnis.ac.cn/xwdt/bydt/202209/t20220928_52600.shtml"
    bodies = [read_body(faulty_url, path) for _ in range(2)]
    assert b"does not exist" in bodies[0]
    assert bodies[1] == mirror_file(path)


def test_redirect_to_the_other_host(faulty_url: str) -> None:
    target = "/en.cnis.ac.cn/xwdt/bydt/201801/t20180126_36026.shtml"
    with get(faulty_url, OLD_ARTICLE) as response:
        assert (response.status, response.getheader("Location")) == (302, faulty_url + target)
    with urllib.request.urlopen(faulty_url + OLD_ARTICLE, timeout=10) as followed:
        assert (followed.url, followed.read()) == (faulty_url + target, mirror_file(target))


def test_redirect_to_https(faulty_url: str) -> None:
    path = "/en.cnis.gov.cn/xwdt/bydt/201707/t20170720_22690.shtml"
    with get(faulty_url, path) as response:
        assert (response.status, response.getheader("Location")) == (
            301,
            "https://en.cnis.gov.cn/xwdt/bydt/201707/t20170720_22690.shtml",
        )


def test_redirect_to_itself(faulty_url: str) -> None:
    path = "/en.cnis.ac.cn/xwdt/bzhdt/202401/t20240110_56810.shtml"
    with get(faulty_url, path) as response:
        assert (response.status, response.getheader("Location")) == (302, faulty_url + path)


def test_redirect_loop_through_another_page(faulty_url: str) -> None:
    first = "/en.cnis.ac.cn/xwdt/bzhdt/202310/t20231025_56240.shtml"
    second = "/en.cnis.ac.cn/xwdt/bzhdt/202304/t20230426_55034.shtml"
    assert head(faulty_url, first)[1]["Location"] == faulty_url + second
    assert head(faulty_url, second)[1]["Location"] == faulty_url + first
    with pytest.raises(urllib.error.HTTPError, match="infinite loop") as error:
        urllib.request.urlopen(faulty_url + first, timeout=10)
    error.value.close()


def test_empty_200(faulty_url: str) -> None:
    with get(faulty_url, "/en.cnis.ac.cn/zdxw/202309/t20230912_56020.shtml") as response:
        headers = (response.status, response.getheader("Content-Type"), response.getheader("Content-Length"))
        assert headers == (200, "text/html", "0")
        assert response.read() == b""


def test_pdf_where_an_article_is_expected(faulty_url: str) -> None:
    with get(faulty_url, "/www.cnis.ac.cn/tzgg/202503/t20250314_60512.html") as response:
        status, content_type, body = response.status, response.getheader("Content-Type"), response.read()
    assert (status, content_type, body) == (200, "application/pdf", PDF)
    assert body.startswith(b"%PDF-1.4\n")
    assert body.rstrip().endswith(b"%%EOF")
    # A real PDF: its cross-reference table points at each of its objects.
    xref = int(body.rsplit(b"startxref", 1)[1].split()[0])
    entries = body[xref:].split(b"trailer")[0].splitlines()[3:]
    for number, entry in enumerate(entries, 1):
        assert body[int(entry.split()[0]) :].startswith(b"%d 0 obj" % number)


def test_bytes_in_another_encoding_than_declared(faulty_url: str) -> None:
    with get(faulty_url, ZH_ARTICLE) as response:
        content_type, body = response.getheader("Content-Type"), response.read()
    assert content_type == "text/html; charset=utf-8"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("gb18030")
    assert text == mirror_file(ZH_ARTICLE).decode("utf-8")  # the meta still declares utf-8
    assert 'charset=utf-8"' in text


def test_huge_page(faulty_url: str) -> None:
    page = mirror_file(EN_ARTICLE_3)
    with urllib.request.urlopen(faulty_url + EN_ARTICLE_3, timeout=30) as response:
        length, body = response.headers["Content-Length"], response.read()
    assert len(body) == int(length) >= 10 * 2**20
    start, _, rest = body.partition(b"<!-- padding")
    tail = rest[rest.rindex(b"-->\n") + 4 :]
    assert start + tail == page
    assert tail.startswith(b"</body>")


def test_pager_declaring_more_pages_than_exist(faulty_url: str) -> None:
    with get(faulty_url, ZH_LISTING) as response:
        html = response.read().decode("utf-8")
    url = live_url(SITE / ZH_LISTING.lstrip("/"))
    assert extract_listing(html, url).declared_pages == 5
    assert extract_listing(page_text(SITE / ZH_LISTING.lstrip("/")), url).declared_pages == 2


@pytest.mark.parametrize(
    "listing",
    [
        "en.cnis.ac.cn/kycg/index.shtml",  # createPageHTML(2, 0, "index", "shtml")
        "www.cnis.ac.cn/tzgg/index.html",  # var countPage = 2;
        "www.cnis.ac.cn/bydt/zhxw/index.html",  # createPageHTML('page_div', 3, 1, 'index', 'html', 12)
        "en.cnis.gov.cn/xwdt/bydt/index.shtml",  # countPage = 2 without semicolon; a call commented out
    ],
)
def test_declare_pages_in_each_pager_shape(listing: str) -> None:
    page = SITE / listing
    declared = declare_pages(page.read_bytes(), 7)
    assert extract_listing(declared.decode("utf-8"), live_url(page)).declared_pages == 7
    commented = [line for line in page.read_bytes().splitlines() if line.lstrip().startswith(b"//")]
    assert all(line in declared.splitlines() for line in commented)


def test_faults_file_given_as_a_path(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps({EN_ARTICLE: {"kind": "empty"}}), encoding="utf-8")
    with running_mirror(SITE, faults=faults) as url:
        assert read_body(url, EN_ARTICLE) == b""
        assert json.loads(read_body(url, "/_faults")) == {EN_ARTICLE: {"kind": "empty"}}


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({EN_ARTICLE: {"kind": "explode"}}, "a fault is an object with a kind"),
        ({EN_ARTICLE: {"kind": "reset", "after": 5}}, "reset takes no after"),
        ({EN_ARTICLE: {"kind": "redirect"}}, "missing 1 required keyword-only argument: 'to'"),
        ({EN_ARTICLE: {"kind": "status", "statuses": []}}, "statuses"),
        ({EN_ARTICLE: {"kind": "encoding", "actual": "klingon"}}, "actual"),
        ({"en.cnis.ac.cn/x": {"kind": "empty"}}, "a mirror path"),
        ([], "a JSON object"),
    ],
)
def test_faults_are_checked_when_loaded(faults: Any, message: str) -> None:
    with pytest.raises(FaultError, match=message):
        load_faults(faults)


def test_a_fault_that_needs_a_missing_file_stops_the_server() -> None:
    with (
        pytest.raises(RuntimeError, match="did not start"),
        running_mirror(SITE, faults={MISSING: {"kind": "truncate"}}),
    ):
        pass


def test_without_faults_there_is_no_control_path(mirror_url: str) -> None:
    assert head(mirror_url, "/_faults/requests")[0] == 404
