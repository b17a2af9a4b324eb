"""A crawl that cannot start says why in one line, with what is accepted, and no traceback; a
damaged crawl state is moved aside and rebuilt from the run files."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
from collections import Counter
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.memory.reader import StateReader
from cnis_crawler.tools.cli import main as cli
from cnis_crawler.tools.report import gather, render
from tests.conftest import MIRROR_ARTICLES, assert_one_record_per_article
from tests.crawling import command_status, output_files, run_crawl

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.mark.parametrize(
    ("arguments", "line"),
    [
        (("-a", "site=en.cnis.ac.cn"), "unknown spider argument site; accepted: -a sites=, -a mirror="),
        (("-a", "sites=foo.com"), "unknown site(s) ['foo.com']; known sites: en.cnis.ac.cn"),
        (("-a", "full=maybe"), "-a full= takes 1 or 0 (true/false, yes/no), got 'maybe'"),
        (("-s", "CNIS_RECHECK_PAGES=abc"), "CNIS_RECHECK_PAGES must be a whole number, 1 or more; got 'abc'"),
        (("-s", "CNIS_READING_TIMEOUT=0"), "CNIS_READING_TIMEOUT must be a number, more than 0.0; got '0'"),
        (
            ("-s", "CNIS_MAX_DROP_SHARE=lots"),
            "CNIS_MAX_DROP_SHARE must be a number, from 0.0 to 1.0; got 'lots'",
        ),
        (("-s", "CNIS_MAX_DROP_SHARE=2"), "CNIS_MAX_DROP_SHARE must be a number, from 0.0 to 1.0; got '2'"),
        (("-a", "sites="), "-a sites= names no site; known sites: en.cnis.ac.cn"),
        (("-a", "sections="), "-a sections= takes all or known (leave it out for all), got ''"),
        (("-a", "sections=some"), "-a sections= takes all or known (leave it out for all), got 'some'"),
        (("-s", "CNIS_MAX_FOLDERS=-1"), "CNIS_MAX_FOLDERS must be a whole number, 0 or more; got '-1'"),
        (
            ("-s", "CNIS_FOLDER_RECHECK_DAYS=3000000"),
            "CNIS_FOLDER_RECHECK_DAYS must be a number, from 0.0 to 36500.0; got '3000000'",
        ),
    ],
    ids=[
        "unknown-argument",
        "unknown-site",
        "bad-flag",
        "bad-int-setting",
        "zero-timeout",
        "bad-share",
        "share-above-1",
        "no-site",
        "no-sections",
        "bad-sections",
        "bad-max-folders",
        "recheck-days-beyond-dates",
    ],
)
def test_a_crawl_that_cannot_start_says_why_in_one_line(
    arguments: tuple[str, ...], line: str, mirror_url: str, tmp_path: Path
) -> None:
    refused = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", *arguments)
    assert refused.returncode == 2
    [error] = [text for text in refused.stderr.splitlines() if "error" in text.lower()]
    assert error.startswith("crawl: error: "), refused.stderr
    assert line in error
    assert "Traceback" not in refused.stderr + refused.log
    assert f"ERROR: The crawl cannot start: {error.removeprefix('crawl: error: ')}" in refused.log
    assert output_files(tmp_path) == []


def test_a_bad_mirror_address_is_refused_in_one_line(tmp_path: Path) -> None:
    refused = run_crawl(tmp_path, "-a", "mirror=notaurl")
    assert refused.returncode == 2
    assert "crawl: error: mirror must be an http(s) base URL, got 'notaurl'" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.log


def test_a_damaged_state_is_moved_aside_and_rebuilt_from_the_run_files(
    mirror_url: str, tmp_path: Path
) -> None:
    first = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    state = tmp_path / "output" / "state.sqlite"
    for side in state.parent.glob("state.sqlite-*"):
        side.unlink()
    state.write_bytes(b"not a database, " * 100)
    second = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert second.returncode == 0, second.log[-3000:]
    [aside] = state.parent.glob("state.sqlite.damaged-*")
    assert f"The crawl state output/state.sqlite was damaged: moved to output/{aside.name}" in second.log
    assert second.stats["incremental/adopted"] == len(first.records) == MIRROR_ARTICLES
    assert second.stats["incremental/skipped_known"] == MIRROR_ARTICLES, (
        "nothing the run files hold is fetched again"
    )
    assert second.records == []
    records = [json.loads(line) for path in output_files(tmp_path) for line in path.read_text().splitlines()]
    assert Counter((record["key"], record["version"]) for record in records).most_common(1)[0][1] == 1
    assert_one_record_per_article(records)


@pytest.fixture
def silent_address() -> Iterator[str]:
    """A server that accepts connections and never answers: a blackholed network, as a request
    sees it (its timeout)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []

    def accept() -> None:
        with contextlib.suppress(OSError):  # closed at the end of the test
            while True:
                accepted.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    for connection in accepted:
        connection.close()


@pytest.mark.parametrize(
    ("no_answer", "failure"), [("refused", "ConnectionRefusedError"), ("silent", "TimeoutError")]
)
def test_a_site_that_cannot_be_reached_is_no_site_change(
    no_answer: str, failure: str, silent_address: str, tmp_path: Path
) -> None:
    """Nothing listens at the mirror's address (every request refused), or something listens and
    never answers (every request times out). The crawl gives up after CNIS_UNREACHABLE_AFTER
    seconds of failures, says so in one ERROR and exits 4."""
    address = silent_address if no_answer == "silent" else "http://127.0.0.1:1"
    stopped = run_crawl(
        tmp_path, "-a", f"mirror={address}", "-s", "CNIS_UNREACHABLE_AFTER=3", "-s", "DOWNLOAD_TIMEOUT=2"
    )
    assert stopped.returncode == 4, stopped.log[-3000:]
    assert stopped.summary["finish_reason"] == "site_unreachable"
    [error] = [line for line in stopped.log.splitlines() if "[cnis_crawler.crawling.health] ERROR" in line]
    assert "Crawl stopped, site_unreachable: no answer from the site for " in error
    assert failure in error
    assert "not a site change" in error
    assert "section_empty" not in stopped.log
    assert "Traceback" not in stopped.log
    assert stopped.seconds < 30
    # The log is a file: what to do is on the terminal too (what cron mails).
    assert stopped.stderr.splitlines() == [f"crawl: error: {error.split(' ERROR: Crawl stopped, ', 1)[1]}"]


@pytest.mark.parametrize("harm", ["truncated", "missing"])
def test_articles_a_damaged_run_file_held_are_fetched_again(
    harm: str, mirror_url: str, tmp_path: Path
) -> None:
    first = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    [run_file] = output_files(tmp_path)
    if harm == "missing":
        run_file.unlink()
        lost = MIRROR_ARTICLES
    else:
        data = run_file.read_bytes()
        cut = data[: len(data) // 2]
        run_file.write_bytes(cut)
        lost = MIRROR_ARTICLES - cut.count(b"\n")
    second = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert second.returncode == 0, second.log[-3000:]
    assert (
        f"Run file {run_file.relative_to(tmp_path)} is {'missing' if harm == 'missing' else 'cut short'}"
        in second.log
    )
    assert second.stats["incremental/lost_records_refetched"] == lost
    assert len(second.records) == lost
    records = [
        json.loads(line)
        for path in output_files(tmp_path)
        for line in path.read_bytes().splitlines()
        if line.endswith(b"}")
    ]
    assert_one_record_per_article([record for record in records if record["key"]])
    assert {record["key"] for record in records} == {record["key"] for record in first.records}


@pytest.mark.parametrize(
    ("arguments", "what"),
    [
        (("-o", "/proc/cnis/news.jsonl"), "1 feed file(s)"),
        (("-s", "CNIS_SUMMARY_PATH=/proc/cnis/summary.json"), "the run summary"),
    ],
    ids=["feed", "summary"],
)
def test_output_not_stored_is_a_non_zero_exit(
    arguments: tuple[str, ...], what: str, mirror_url: str, tmp_path: Path
) -> None:
    crawl = run_crawl(
        tmp_path, "-a", f"mirror={mirror_url}", *arguments, "-s", f"CNIS_NOTIFY_COMMAND={NOTIFY}"
    )
    assert crawl.returncode == 5, crawl.log[-3000:]
    assert f"ERROR: Crawl output not stored ({what}): check the disk" in crawl.log
    assert f"crawl: error: Crawl output not stored ({what}): check the disk" in crawl.stderr
    # Told with the summary, written aside to the temporary folder when the summary's own
    # place cannot be written.
    told = json.loads((tmp_path / "told.json").read_text(encoding="utf-8"))
    assert told["finish_reason"] == "output_not_stored"
    assert "CNIS_NOTIFY_COMMAND told of this output_not_stored run" in crawl.log
    [run] = StateReader(tmp_path / "output" / "state.sqlite").runs()
    assert run.finish_reason == "output_not_stored", "in the crawl state (and so the report) too"
    again = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert again.returncode == 0
    records = [json.loads(line) for path in output_files(tmp_path) for line in path.read_bytes().splitlines()]
    assert_one_record_per_article(records)


def test_the_export_names_articles_the_state_knows_and_no_run_file_holds(
    mirror_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    output = tmp_path / "output"
    assert cli(["export", "--output", str(output), "--out", str(tmp_path / "export")]) == 0
    [run_file] = output_files(tmp_path)
    data = run_file.read_bytes()
    run_file.write_bytes(data[: len(data) // 2])
    capsys.readouterr()
    assert command_status(["export", "--output", str(output), "--out", str(tmp_path / "export")]) == 2
    lost = MIRROR_ARTICLES - data[: len(data) // 2].count(b"\n")
    error = capsys.readouterr().err
    assert f"error: {lost} articles the crawl state counts as written are in no run file of" in error
    assert f": run file {run_file.name} (cut short), and the next crawl fetches them again" in error
    rows = (tmp_path / "export" / "cnis-articles.jsonl").read_bytes().count(b"\n")
    assert rows == MIRROR_ARTICLES, "the previous export is left as it was"
    report = gather(output)
    told = f"{lost} articles known to the crawl state are in no run file (run file {run_file.name}"
    told += " (cut short))"
    assert told in render(report)
    # The next crawl fetches them again; then the export is whole.
    run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert cli(["export", "--output", str(output), "--out", str(tmp_path / "export")]) == 0
    assert (tmp_path / "export" / "cnis-articles.jsonl").read_bytes().count(b"\n") == MIRROR_ARTICLES


NOTIFY = f"{sys.executable} -c \"import shutil, sys; shutil.copy(sys.argv[1], 'told.json')\""


def test_a_run_that_ends_unhealthy_is_told_by_the_notify_command(mirror_url: str, tmp_path: Path) -> None:
    healthy = run_crawl(
        tmp_path / "healthy", "-a", f"mirror={mirror_url}", "-s", f"CNIS_NOTIFY_COMMAND={NOTIFY}"
    )
    assert healthy.returncode == 0
    assert not (tmp_path / "healthy" / "told.json").exists()
    stopped = run_crawl(
        tmp_path / "down",
        *(
            "-a",
            "mirror=http://127.0.0.1:1",
            "-s",
            "CNIS_UNREACHABLE_AFTER=2",
            "-s",
            f"CNIS_NOTIFY_COMMAND={NOTIFY}",
        ),
    )
    assert stopped.returncode == 4
    told = json.loads((tmp_path / "down" / "told.json").read_text(encoding="utf-8"))
    assert told["finish_reason"] == "site_unreachable"
    assert "CNIS_NOTIFY_COMMAND told of this site_unreachable run" in stopped.log


def test_a_state_folder_that_cannot_be_made_is_one_line(mirror_url: str, tmp_path: Path) -> None:
    """The file system refuses the crawl state's folder (here: a file stands in its place; a
    read-only or full disk alike): one line, status 2, before anything is fetched."""
    (tmp_path / "output").write_text("not a folder")
    refused = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert refused.returncode == 2, refused.log[-3000:]
    assert "ERROR: The crawl cannot start: [Errno 17] File exists: 'output'" in refused.log
    assert "Traceback" not in refused.stderr + refused.log


def test_a_crawl_below_the_project_says_where_its_dataset_goes(mirror_url: str, tmp_path: Path) -> None:
    (tmp_path / "scrapy.cfg").write_text("[settings]\ndefault = cnis_crawler.settings\n")
    below = tmp_path / "notes"
    crawl = run_crawl(below, "-a", f"mirror={mirror_url}", "-a", "sites=en.cnis.gov.cn")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert (
        f"WARNING: The crawl runs in {below}, below the project's folder {tmp_path}: its crawl state and"
        f" run files are in {below / 'output'}, a dataset apart from {tmp_path / 'output'}"
    ) in crawl.log


def test_a_log_file_that_cannot_be_written_is_one_line(mirror_url: str, tmp_path: Path) -> None:
    refused = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-s", "LOG_FILE=/proc/cnis/crawl.log")
    assert refused.returncode == 2
    assert refused.stderr.splitlines() == [
        "crawl: error: LOG_FILE /proc/cnis/crawl.log cannot be written: No such file or directory"
    ]
    # A folder that is missing is made, as the crawl makes output/.
    made = run_crawl(
        tmp_path, "-a", f"mirror={mirror_url}", "-a", "sites=en.cnis.gov.cn", "-s", "LOG_FILE=logs/crawl.log"
    )
    assert made.returncode == 0
    assert "Spider closed (finished)" in (tmp_path / "logs" / "crawl.log").read_text(encoding="utf-8")
