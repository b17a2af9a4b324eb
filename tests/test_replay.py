"""Replay: a crawl's archive served as a mirror (``cnis-crawler mirror --warc``) yields, crawled,
the records the archived crawl made, record for record, and the same drops."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest

from cnis_crawler.memory.warc import archive_files, index_archive, read_capture
from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import MIRROR_ARTICLES, SITE
from tests.crawling import command_status, run_crawl
from tests.tooling.fault_mirror import running_mirror as running_fault_mirror

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

EN, OLD = "/en.cnis.ac.cn", "/en.cnis.gov.cn"
# Faults whose answer is the same at every request: the archive holds that answer.
FAULTS = {
    f"{OLD}/xwdt/bydt/201801/t20180126_23388.shtml": {
        "kind": "redirect", "to": f"{EN}/xwdt/bydt/201801/t20180126_36026.shtml", "status": 301},
    f"{EN}/xwdt/bzhdt/201810/t20181012_37345.shtml": {"kind": "status", "statuses": [404]},
    f"{EN}/xwdt/bzhdt/202001/t20200109_41876.shtml": {"kind": "soft404", "lang": "en"},
    f"{EN}/zdxw/201908/t20190820_40012.shtml": {"kind": "pdf"},
    "/www.cnis.ac.cn/bydt/kydt/201603/t20160310_33918.html": {"kind": "encoding", "actual": "gb18030"},
}  # fmt: skip


def by_key(crawl: CrawlResult) -> dict[str, dict[str, Any]]:
    """The records, without when each was fetched (the replay fetched it again)."""
    return {record["key"]: {**record, "fetched_at": None} for record in crawl.records}


def drops(crawl: CrawlResult) -> dict[str, int]:
    prefix = "item_dropped_reasons_count/"
    return {name: n for name, n in crawl.stats.items() if name.startswith(prefix)}


def replay(archived: CrawlResult, workdir: Path, *arguments: str) -> CrawlResult:
    with running_mirror(None, warc=archived.workdir / "output" / "warc") as url:
        return run_crawl(workdir, "-a", f"mirror={url}", *arguments)


def test_a_replayed_archive_yields_the_records_of_the_crawl_that_made_it(
    mirror_crawl: CrawlResult, tmp_path: Path
) -> None:
    replayed = replay(mirror_crawl, tmp_path)
    assert replayed.returncode == 0, replayed.log[-3000:]
    assert len(replayed.records) == len(mirror_crawl.records) == MIRROR_ARTICLES
    assert by_key(replayed) == by_key(mirror_crawl)
    assert drops(replayed) == drops(mirror_crawl)
    # Asked again, the archive answers a page's tag with 304, as the site does.
    again = replay(mirror_crawl, tmp_path, "-a", "revalidate=1")
    assert again.records == []
    assert again.stats["incremental/unchanged"] == MIRROR_ARTICLES
    assert again.stats["downloader/response_status_count/304"] >= MIRROR_ARTICLES


def test_redirects_error_pages_and_files_replay_as_they_were_fetched(tmp_path: Path) -> None:
    with running_fault_mirror(SITE, faults=FAULTS) as url:
        original = run_crawl(tmp_path / "site", "-a", f"mirror={url}")
    assert {"Alias", "Gone", "NotFoundPage", "NotHtml"} <= {
        name.rsplit("/", 1)[1] for name in drops(original)
    }
    # The redirect is kept with its target's live URL: the mirror it named is gone by now.
    index = index_archive(archive_files(tmp_path / "site" / "output" / "warc"))
    moved = read_capture(index.captures[f"http:/{OLD}/xwdt/bydt/201801/t20180126_23388.shtml"])
    assert (moved.status, moved.header("Location")) == (
        301,
        f"https:/{EN}/xwdt/bydt/201801/t20180126_36026.shtml",
    )
    replayed = replay(original, tmp_path / "replay")
    assert by_key(replayed) == by_key(original)
    assert drops(replayed) == drops(original)


def test_a_folders_url_answers_with_its_index_page(mirror_crawl: CrawlResult) -> None:
    with running_mirror(None, warc=mirror_crawl.workdir / "output" / "warc") as url:
        assert fetched(f"{url}/en.cnis.ac.cn/xwdt/bydt/") == fetched(
            f"{url}/en.cnis.ac.cn/xwdt/bydt/index.shtml"
        )
        with pytest.raises(HTTPError) as missing:
            fetched(f"{url}/en.cnis.ac.cn/xwdt/nowhere/")
    missing.value.close()
    assert missing.value.code == 404


def fetched(url: str) -> bytes:
    with urlopen(url) as response:
        body: bytes = response.read()
    return body


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "give a mirror directory or --warc FOLDER (one of them)"),
        (["{site}", "--warc", "{empty}"], "give a mirror directory or --warc FOLDER (one of them)"),
        (["--warc", "{empty}"], "no archive file (*.warc.gz) in {empty}"),
        (["--warc", "{empty}/nowhere"], "not a directory: {empty}/nowhere"),
    ],
)
def test_what_to_serve_is_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    names = {"site": SITE, "empty": tmp_path}
    assert command_status(["mirror", *(argument.format(**names) for argument in arguments)]) == 2
    assert message.format(**names) in capsys.readouterr().err
