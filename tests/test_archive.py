"""The crawl's WARC archive: every response as fetched, under the live URL, valid WARC files
that appear whole, rolled by size, a 304 as a revisit, and what a killed run left recovered."""

from __future__ import annotations

import fcntl
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warcio.archiveiterator import ArchiveIterator

from cnis_crawler.crawling.archive import recover_parts
from cnis_crawler.memory.reader import StateReader
from cnis_crawler.memory.state import CrawlState
from cnis_crawler.tools.export import Filters, export
from tests.conftest import SITE
from tests.crawling import CrawlResult, run_crawl

if TYPE_CHECKING:
    import pytest


def warc_files(crawl: CrawlResult) -> list[Path]:
    return sorted((crawl.workdir / "output" / "warc").glob("*"))


def records(path: Path) -> list[Any]:
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            found.append(
                (record.rec_type, record.rec_headers, record.http_headers, record.content_stream().read())
            )
    return found


def warcio_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    warcio = Path(sys.executable).with_name("warcio")
    return subprocess.run(
        [str(warcio), "check", *map(str, paths)], capture_output=True, text=True, check=False
    )


def test_every_response_is_archived_under_its_live_url(mirror_crawl: CrawlResult) -> None:
    [path] = warc_files(mirror_crawl)
    assert path.name.endswith("-001.warc.gz")
    assert warcio_check(path).returncode == 0
    found = records(path)
    assert found[0][0] == "warcinfo"
    responses = [record for record in found if record[0] == "response"]
    assert len(responses) == len([record for record in found if record[0] == "request"])
    assert len(responses) == mirror_crawl.stats["warc/responses"]
    # Every response but the mirror's robots.txt, which is no page of the site.
    assert len(responses) == mirror_crawl.stats["downloader/response_count"] - 1
    for _, headers, http, body in responses:
        uri = headers.get_header("WARC-Target-URI")
        assert uri.startswith(
            ("https://en.cnis.ac.cn/", "http://en.cnis.gov.cn/", "https://www.cnis.ac.cn/")
        ), uri
        served = SITE / uri.split("://", 1)[1]
        if http.get_statuscode() == "200" and served.is_file():
            assert body == served.read_bytes(), uri
    article = "https://en.cnis.ac.cn/zdxw/202109/t20210903_48120.shtml"
    assert article in {headers.get_header("WARC-Target-URI") for _, headers, _, _ in responses}


def test_archive_files_roll_by_size_and_none_is_left_open(mirror_url: str, tmp_path: Path) -> None:
    crawl = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-s", "CNIS_WARC_MAX_BYTES=60000")
    assert crawl.returncode == 0, crawl.log[-3000:]
    paths = warc_files(crawl)
    assert len(paths) >= 3
    assert [path.name[-12:] for path in paths] == [f"-{n:03d}.warc.gz" for n in range(1, len(paths) + 1)]
    assert warcio_check(*paths).returncode == 0
    assert (
        sum(len([r for r in records(path) if r[0] == "response"]) for path in paths)
        == crawl.stats["warc/responses"]
    )


def test_a_304_is_archived_as_a_revisit(mirror_url: str, tmp_path: Path) -> None:
    first = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert first.returncode == 0, first.log[-3000:]
    archived = warc_files(first)
    again = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-a", "revalidate=1")
    assert again.returncode == 0, again.log[-3000:]
    [newest] = sorted(set(warc_files(again)) - set(archived))
    revisits = [record for record in records(newest) if record[0] == "revisit"]
    assert len(revisits) == again.stats["downloader/response_status_count/304"] > 0
    assert all(
        headers.get_header("WARC-Profile") == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
        for _, headers, _, _ in revisits
    )


def test_no_archive_when_turned_off(mirror_url: str, tmp_path: Path) -> None:
    crawl = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-s", "CNIS_WARC_ENABLED=False")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert not (tmp_path / "output" / "warc").exists()


def test_what_a_killed_run_left_is_kept_up_to_its_last_whole_pair(
    mirror_crawl: CrawlResult, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [whole] = warc_files(mirror_crawl)
    data = whole.read_bytes()
    pairs = len(records(whole)) // 2
    # Cut anywhere: in a record's WARC headers, its HTTP headers, its body, between records.
    for cut in range(301, len(data), len(data) // 23):
        folder = tmp_path / str(cut)
        folder.mkdir()
        part = folder / "cnis-2026-12-06T00-00-00.000000-001.warc.gz.part"
        part.write_bytes(data[:cut])
        kept = recover_parts(folder)
        assert not part.exists()
        if not kept:
            continue
        [(path, responses)] = kept
        assert path.name == part.name.removesuffix(".part")
        assert warcio_check(path).returncode == 0
        found = records(path)
        assert found[0][0] == "warcinfo"
        assert [kind for kind, *_ in found[1:]] == ["response", "request"] * responses
        for _, headers, _, _ in found:  # every record whole: its block as long as it says
            assert headers.get_header("Content-Length")
        assert (len(found) - 1) // 2 <= pairs
    assert "Kept " in caplog.text


def test_a_part_another_crawl_is_writing_is_left_alone(tmp_path: Path) -> None:
    part = tmp_path / "cnis-2026-12-06T00-00-00.000000-001.warc.gz.part"
    with part.open("wb") as writing:
        fcntl.flock(writing.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        writing.write(b"\x1f\x8b")
        writing.flush()
        assert recover_parts(tmp_path) == []
        assert part.exists()


def test_request_records_name_the_live_referer(mirror_crawl: CrawlResult, mirror_url: str) -> None:
    [path] = warc_files(mirror_crawl)
    referers = [http.get_header("Referer") for kind, _, http, _ in records(path) if kind == "request"]
    assert any(referers)
    assert not [referer for referer in referers if referer and referer.startswith(mirror_url)]


def test_the_exports_manifest_lists_the_archive(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    [path] = warc_files(mirror_crawl)
    manifest = export(mirror_crawl.workdir / "output", tmp_path, ["jsonl"], Filters())
    [listed] = manifest["warc_files"]
    assert (Path(listed["path"]).name, listed["bytes"], listed["responses"]) == (
        path.name,
        path.stat().st_size,
        mirror_crawl.stats["warc/responses"],
    )


def test_the_crawl_state_lists_the_archive(mirror_crawl: CrawlResult) -> None:
    [path] = warc_files(mirror_crawl)
    state = CrawlState(mirror_crawl.workdir / "output" / "state.sqlite")
    try:
        [(listed, size, responses, _)] = state.archives()
    finally:
        state.close()
    assert (Path(listed).name, size, responses) == (
        path.name,
        path.stat().st_size,
        mirror_crawl.stats["warc/responses"],
    )


def test_the_next_crawl_keeps_and_lists_what_a_killed_run_left(
    mirror_crawl: CrawlResult, mirror_url: str, tmp_path: Path
) -> None:
    [whole] = warc_files(mirror_crawl)
    left = tmp_path / "output" / "warc" / "cnis-2026-12-06T00-00-00.000000-001.warc.gz.part"
    left.parent.mkdir(parents=True)
    left.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    crawl = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert crawl.returncode == 0, crawl.log[-3000:]
    state = CrawlState(tmp_path / "output" / "state.sqlite")
    try:
        listed = {Path(path).name: (responses, run_id) for path, _, responses, run_id in state.archives()}
    finally:
        state.close()
    kept = left.name.removesuffix(".part")
    assert listed[kept] == (len(records(left.with_name(kept))) // 2, "2026-12-06T00-00-00.000000")
    assert not list(left.parent.glob("*.part"))


def test_a_state_older_than_the_archive_lists_none(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path)
    state.db.execute("DROP TABLE archives")
    state.close()
    assert StateReader(path).archives() == []
