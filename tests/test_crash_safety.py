"""A crawl killed with SIGKILL at several moments loses nothing and duplicates nothing.

Each test holds a real crawl still at one moment (``tests/tooling/crash_points.py``), kills it,
checks what the kill left behind, then runs one normal crawl, which resumes from the crawl state
alone (there is no job directory) what the killed one left undone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from cnis_crawler import settings
from cnis_crawler.memory.state import CrawlState
from tests.conftest import ROOT, SITE, assert_one_record_per_article
from tests.crawling import output_files, run_crawl
from tests.tooling.fault_mirror import running_mirror

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HOLD_DEADLINE_SECONDS = 60
SMALL_BATCHES = {
    "output/%(name)s-%(run_id)s-%(batch_id)03d.jsonl": {
        "format": "jsonlines",
        "item_classes": ["cnis_crawler.crawling.items.Article"],
        "batch_item_count": 10,
    }
}


@contextmanager
def held_crawl(workdir: Path, mirror_url: str, moment: str, *arguments: str) -> Iterator[None]:
    """Run the crawl until it reaches ``moment`` and holds still there; SIGKILL it on leaving."""
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / "held"
    extensions = {**settings.EXTENSIONS, "tests.tooling.crash_points.CrashPoint": 100}
    command = [
        *(sys.executable, "-m", "scrapy", "crawl", "cnis", "-a", f"mirror={mirror_url}"),
        *("-s", f"EXTENSIONS={json.dumps(extensions)}", "-s", f"FEEDS={json.dumps(SMALL_BATCHES)}"),
        *("-s", f"CRASH_POINT={moment}", "-s", f"CRASH_POINT_MARKER={marker}"),
        *("-s", "DUPEFILTER_CLASS=tests.tooling.crash_points.HoldingDupeFilter"),
        # Every observation committed at once: what a pass had done when killed is all known.
        *("-s", "CNIS_STATE_COMMIT_EVERY=1"),
        *("-s", f"LOG_FILE={workdir / 'killed.log'}"),
        # One request at a time: what the kill interrupts waits in the queue, not in flight.
        *("-s", "CONCURRENT_REQUESTS=1"),
        *arguments,
    ]
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings", "PYTHONPATH": str(ROOT)}
    crawl = subprocess.Popen(command, cwd=workdir, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + HOLD_DEADLINE_SECONDS
        while not marker.exists() and crawl.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), f"the crawl never reached {moment!r}"
        yield
    finally:
        crawl.send_signal(signal.SIGKILL)
        crawl.wait()


def killed_crawl(workdir: Path, mirror_url: str, moment: str, *arguments: str) -> None:
    with held_crawl(workdir, mirror_url, moment, *arguments):
        pass


RESUME_LINE = "Resuming what earlier runs left: "


def left_undone(workdir: Path) -> tuple[int, int]:
    """The listing pages queued and not read, and the linked articles nothing settled."""
    state = CrawlState(workdir / "output" / "state.sqlite")
    try:
        return len(state.unfinished("no run")), len(state.pending_links())
    finally:
        state.close()


def all_records(workdir: Path) -> list[dict[str, Any]]:
    records = []
    for path in output_files(workdir):
        data = path.read_bytes()
        assert data.endswith(b"\n"), f"{path.name} ends in half a line"
        records += [json.loads(line) for line in data.splitlines()]
    return records


def assert_kill_left_nothing_broken(workdir: Path) -> None:
    all_records(workdir)  # every visible file is whole
    assert not [path for path in (workdir / "output").iterdir() if path.suffix == ".part"]
    state = CrawlState(workdir / "output" / "state.sqlite")
    assert state.integrity_check() == "ok"
    state.close()


@pytest.mark.parametrize("moment", ["listings", "listed", "seen", "articles", "stored", "closing"])
def test_a_kill_then_one_normal_run_writes_every_article_once(
    moment: str, mirror_url: str, tmp_path: Path
) -> None:
    killed_crawl(tmp_path, mirror_url, moment)
    assert_kill_left_nothing_broken(tmp_path)
    listings, articles = left_undone(tmp_path)

    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    records = all_records(tmp_path)
    assert Counter((record["key"], record["version"]) for record in records).most_common(1)[0][1] == 1
    assert_one_record_per_article(records)
    sections = resumed.summary["sections"]
    assert {section: row["unaccounted"] for section, row in sections.items() if row["unaccounted"]} == {}
    if moment in ("listings", "listed", "seen"):
        assert listings, "the kill left listing pages unread"
    if moment in ("listings", "listed", "seen", "articles"):
        assert articles, "the kill left linked articles unfetched"
        assert f"{RESUME_LINE}{listings} listing pages to read, {articles} articles" in resumed.log
    assert not (tmp_path / "output" / "jobs").exists()
    if moment == "stored":
        assert "records adopted" in resumed.log, "the batch stored before the kill was read back"


def test_a_run_resumed_on_a_mirror_at_another_port_fetches_what_was_left_there(
    mirror_url: str, tmp_path: Path
) -> None:
    killed_crawl(tmp_path, mirror_url, "articles")
    assert left_undone(tmp_path)[1] > 0
    with running_mirror(SITE) as elsewhere:
        resumed = run_crawl(tmp_path, "-a", f"mirror={elsewhere}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert "FetchFailed" not in resumed.log
    assert_one_record_per_article(all_records(tmp_path))
    sections = resumed.summary["sections"]
    assert {section: row["unaccounted"] for section, row in sections.items() if row["unaccounted"]} == {}


@pytest.mark.parametrize("mode", ["full", "revalidate"])
def test_a_killed_pass_is_finished_by_the_next_run_in_the_same_mode(
    mode: str, mirror_url: str, tmp_path: Path
) -> None:
    run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    # Every article is known and unchanged: the pass drops each page (unchanged, an alias, gone);
    # held at the 25th drop, so 24 were committed (CNIS_STATE_COMMIT_EVERY=1).
    killed_crawl(tmp_path, mirror_url, "dropped", "-a", f"{mode}=1")
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-a", f"{mode}=1")
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert f"Finishing the {mode} pass begun " in resumed.log
    # That pass is complete: the next one in the same mode starts afresh and takes everything.
    again = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-a", f"{mode}=1")
    assert again.log.count("Finishing the") == 1, "only the resumed run's line (the log is appended to)"
    whole_pass = again.stats["incremental/unchanged"]
    # Of the 24 pages done before the kill, at most 3 were no unchanged article (2 aliases, 1 gone).
    assert 0 < resumed.stats["incremental/unchanged"] <= whole_pass - 21, "done pages not done again"
    assert_one_record_per_article(all_records(tmp_path))


def test_a_job_directory_is_refused_with_one_line(mirror_url: str, tmp_path: Path) -> None:
    refused = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-s", f"JOBDIR={tmp_path / 'job'}")
    assert refused.returncode == 2
    assert "error: JOBDIR is not used by cnis-crawler" in refused.stderr
    assert "Traceback" not in refused.stderr + refused.log
    assert not (tmp_path / "job").exists()
    assert not (tmp_path / "output").exists()


def test_a_kill_leaves_a_feed_appended_with_dash_o_as_it_was(mirror_url: str, tmp_path: Path) -> None:
    extra = tmp_path / "news.jsonl"
    extra.write_bytes(b'{"url": "from an earlier run"}\n')
    killed_crawl(tmp_path, mirror_url, "articles", "-o", str(extra))
    assert extra.read_bytes() == b'{"url": "from an earlier run"}\n'
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == [
        "held",
        "killed.log",
        "news.jsonl",
    ]
    # The batches stored before the kill made their records known, though the -o feed (a
    # user's own, not what the export reads) never got them: written once. (A batch whose file
    # was renamed into place while the crawl was held, its state not yet told, is adopted from
    # the run file: on a loaded machine the hold can fall between the two.)
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert resumed.returncode == 0, resumed.log[-3000:]
    assert f"Feed file {extra} was not known" not in resumed.log
    assert_one_record_per_article(all_records(tmp_path))


def test_a_second_crawl_fails_and_leaves_the_running_one_alone(mirror_url: str, tmp_path: Path) -> None:
    with held_crawl(tmp_path, mirror_url, "articles"):
        before = sorted(path.name for path in (tmp_path / "output").iterdir())
        second = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
        assert second.returncode != 0
        assert "output/state.sqlite is in use by another crawl" in second.log
        assert sorted(path.name for path in (tmp_path / "output").iterdir()) == before
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert RESUME_LINE in resumed.log
    assert_one_record_per_article(all_records(tmp_path))


def test_a_crawl_stopped_early_is_resumed_by_the_next(mirror_url: str, tmp_path: Path) -> None:
    stopped = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-s", "CLOSESPIDER_ITEMCOUNT=5")
    assert stopped.summary["finish_reason"] == "closespider_itemcount"
    resumed = run_crawl(tmp_path, "-a", f"mirror={mirror_url}")
    assert RESUME_LINE in resumed.log
    assert_one_record_per_article(all_records(tmp_path))


def test_a_forced_shutdown_is_no_success(tmp_path: Path) -> None:
    """Ctrl-C twice: Scrapy stops without closing the spider, as if killed. The crawl exits 130
    (not 0, which cron and systemd take for a good night) and the next run takes up the rest.
    A listing page that answers after 20 s keeps the first Ctrl-C's closing waiting."""
    slow = "/www.cnis.ac.cn/tzgg/index.html"
    log = tmp_path / "crawl.log"
    with running_mirror(SITE, faults={slow: {"kind": "timeout", "seconds": 20, "times": 1}}) as url:
        command = [
            *(
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "cnis",
                "-a",
                f"mirror={url}",
                "-s",
                f"LOG_FILE={log}",
            ),
        ]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings", "PYTHONPATH": str(ROOT)}
        crawl = subprocess.Popen(command, cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + HOLD_DEADLINE_SECONDS
        while (
            "Spider opened" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        time.sleep(1.0)
        crawl.send_signal(signal.SIGINT)
        time.sleep(1.0)
        crawl.send_signal(signal.SIGINT)
        _, stderr = crawl.communicate(timeout=60)
        assert crawl.returncode == 130, log.read_text()[-3000:]
        assert "crawl: error: The crawl stopped without closing (a forced shutdown" in stderr
        resumed = run_crawl(tmp_path, "-a", f"mirror={url}")
    assert resumed.returncode == 0
    assert_one_record_per_article(all_records(tmp_path))


def test_a_run_of_other_sites_resumes_none_of_what_it_leaves_alone(mirror_url: str, tmp_path: Path) -> None:
    """Killed with articles of one host linked and not fetched: a run of another host neither
    fetches them nor says it resumes them; they wait for a run of theirs."""
    killed_crawl(tmp_path, mirror_url, "listed")
    left = state_links(tmp_path)
    hosts = {urlsplit(url).hostname for url in left}
    assert left
    elsewhere = next(host for host in ("www.cnis.ac.cn", "en.cnis.ac.cn") if host not in hosts)
    other = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-a", f"sites={elsewhere}")
    assert other.returncode == 0, other.log[-3000:]
    assert "incremental/resumed_articles" not in other.stats
    assert RESUME_LINE not in other.log
    assert state_links(tmp_path) == left


def state_links(workdir: Path) -> list[str]:
    state = CrawlState(workdir / "output" / "state.sqlite")
    try:
        return [link.url for link in state.pending_links()]
    finally:
        state.close()
