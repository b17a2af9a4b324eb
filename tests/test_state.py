"""The crawl state on its own: SQLite, no Scrapy."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.memory.state import (
    SCHEMA_VERSION,
    CrawlState,
    Failed,
    Link,
    Seen,
    StateInUseError,
    Validators,
    Written,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

URL = "https://en.cnis.ac.cn/kycg/202001/t20200115_40001.shtml"
OLD_HOST_URL = "http://en.cnis.gov.cn/xwdt/bydt/202001/t20200115_23001.shtml"
AT = "2026-11-24T05:00:00Z"


def written(version: int = 1, content_hash: str = "h1", urls: tuple[str, ...] = (URL,)) -> Written:
    return Written(
        key="en.cnis.ac.cn/40001",
        url=URL,
        lang="en",
        date="2020-01-15",
        title="Report released",
        content_hash=content_hash,
        version=version,
        at=AT,
        urls=urls,
        validators=Validators(last_modified="Wed, 15 Jan 2020 08:00:00 GMT", etag='"abc-12"'),
    )


@pytest.fixture
def state(tmp_path: Path) -> Iterator[CrawlState]:
    opened = CrawlState(tmp_path / "output" / "state.sqlite")
    yield opened
    opened.close()


def test_a_written_record_makes_its_page_known(state: CrawlState) -> None:
    assert not state.is_settled(URL)
    state.settle([written()], run_id="run-1")
    assert state.is_settled(URL)
    assert state.page(URL)[0] == "en.cnis.ac.cn/40001"
    assert state.article("en.cnis.ac.cn/40001").version == 1  # type: ignore[union-attr]
    assert state.article_with_content("en", "2020-01-15", "h1").url == URL  # type: ignore[union-attr]
    assert state.article_with_content("zh", "2020-01-15", "h1") is None
    assert list(state.article_urls()) == [(URL, Validators("Wed, 15 Jan 2020 08:00:00 GMT", '"abc-12"'))]


def test_a_new_version_replaces_the_current_one_and_keeps_the_history(state: CrawlState) -> None:
    state.settle([written()], run_id="run-1")
    state.settle([written(version=2, content_hash="h2")], run_id="run-2")
    article = state.article("en.cnis.ac.cn/40001")
    assert (article.version, article.content_hash) == (2, "h2")  # type: ignore[union-attr]
    history = state.db.execute("SELECT version, content_hash, run_id FROM versions ORDER BY version")
    assert history.fetchall() == [(1, "h1", "run-1"), (2, "h2", "run-2")]


def test_an_alias_is_a_second_url_of_the_same_key(state: CrawlState) -> None:
    state.settle([written()], run_id="run-1")
    state.settle([Seen("en.cnis.ac.cn/40001", (OLD_HOST_URL,), AT, Validators())], run_id="run-1")
    assert state.page(OLD_HOST_URL)[0] == "en.cnis.ac.cn/40001"
    assert [url for url, _ in state.article_urls()] == [URL], "an alias is not revalidated on its own"


def test_only_permanent_failures_are_settled(state: CrawlState) -> None:
    gone, flaky = URL, URL.replace("40001", "40002")
    state.settle(
        [Failed(gone, "Gone", "HTTP 404", True, AT), Failed(flaky, "FetchFailed", "HTTP 503", False, AT)],
        run_id="run-1",
    )
    assert state.is_settled(gone)
    assert not state.is_settled(flaky)


LISTING = "https://en.cnis.ac.cn/kycg/index_1.shtml"
NEXT = "https://en.cnis.ac.cn/kycg/index_2.shtml"
LATER = "2026-11-25T05:00:00Z"
# The tables schema 1 (cnis-crawler before the job directory went) had otherwise than now.
SCHEMA_1 = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    content_hash TEXT,
    last_modified TEXT,
    etag TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS failures (
    url TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    permanent INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    url TEXT PRIMARY KEY,
    section TEXT,
    title TEXT,
    listing TEXT NOT NULL,
    last_listed TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    finish_reason TEXT,
    accounting TEXT
);
"""
SECTION = "en.cnis.ac.cn/kycg"


def test_a_walk_goes_on_from_the_page_it_queued_and_its_links_wait_until_settled(
    state: CrawlState,
) -> None:
    listed = '{"text": "Report released", "title": "", "date": "2026-02-02", "on_listing": true}'
    state.listing_read(
        LISTING, SECTION, [Link(URL, SECTION, "Report released", listed)], AT, False, NEXT, "run-1"
    )
    assert state.unfinished("run-1") == [], "a run does not redo its own work"
    assert state.unfinished("run-2") == [(NEXT, "listing")]
    assert state.pending_links() == [Link(URL, SECTION, "Report released", listed)]
    assert state.link(URL) == Link(URL, SECTION, "Report released", listed)
    state.settle([written()], run_id="run-2")
    assert state.pending_links() == []
    state.listing_read(NEXT, SECTION, [], AT, True, None, "run-2")
    assert state.unfinished("run-3") == [], "read: the walk ends there"


def test_a_pass_cut_short_is_finished_by_the_next_run_in_its_mode(state: CrawlState) -> None:
    state.start_run("run-1", AT, "full")
    state.settle([written()], run_id="run-1")  # killed after this
    assert state.interrupted_pass("run-2", "") is None, "an incremental run finishes no pass"
    assert state.interrupted_pass("run-2", "revalidate") is None
    assert state.interrupted_pass("run-2", "full") == "run-1"
    state.start_run("run-2", LATER, "full", pass_run="run-1")
    assert state.settled_in_pass("run-1") == {URL}
    state.finish_run("run-2", LATER, "finished", {}, completed=True)
    assert state.interrupted_pass("run-3", "full") is None


def test_a_state_of_the_first_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_1)
    old.execute("INSERT INTO links VALUES (?, ?, ?, ?, ?)", (URL, SECTION, "Report released", LISTING, AT))
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    with closing(CrawlState(path)) as state:
        assert state.link(URL) == Link(URL, SECTION, "Report released", None)
        assert state.pending_links() == [Link(URL, SECTION, "Report released", None)]
        assert state.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_section_is_walked_when_read_to_the_end_and_all_it_linked_is_settled(state: CrawlState) -> None:
    other = URL.replace("40001", "40002")
    state.listing_read(LISTING, SECTION, [Link(URL, SECTION, None), Link(other, SECTION, None)], AT, True)
    state.settle([written()], run_id="run-1")
    assert state.update_walks(AT) == set(), "one linked article was lost with a killed run"
    state.settle([Failed(other, "FetchFailed", "HTTP 503", False, AT)], run_id="run-1")
    assert state.update_walks(AT) == {SECTION}
    assert state.walked_sections() == {SECTION}
    state.forget_walk(SECTION)  # a listing page failed: what follows it is unknown
    assert state.walked_sections() == set()
    assert state.update_walks(AT) == set(), "until the listing is read to the end again"


def test_settling_is_all_or_nothing(state: CrawlState) -> None:
    class Broken(Written):
        pass

    broken = Broken(**{**written().__dict__, "key": None})  # NOT NULL violated
    with pytest.raises(Exception, match="NOT NULL"):
        state.settle([written(), broken], run_id="run-1")
    assert not state.is_settled(URL)


def test_the_file_is_a_wal_database_that_passes_its_integrity_check(
    state: CrawlState, tmp_path: Path
) -> None:
    state.settle([written()], run_id="run-1")
    assert state.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    state.close()
    reopened = CrawlState(tmp_path / "output" / "state.sqlite")
    assert reopened.integrity_check() == "ok"
    assert reopened.is_settled(URL)
    reopened.close()


def test_without_a_path_the_state_lives_in_memory() -> None:
    state = CrawlState(None)
    state.settle([written()], run_id="run-1")
    assert state.path == ":memory:"
    assert state.is_settled(URL)


def test_one_state_serves_one_crawl_at_a_time(state: CrawlState, tmp_path: Path) -> None:
    with pytest.raises(StateInUseError, match="in use by another crawl"):
        CrawlState(tmp_path / "output" / "state.sqlite")
    state.close()
    CrawlState(tmp_path / "output" / "state.sqlite").close()


def test_a_feed_file_stored_by_a_killed_run_is_adopted_once(state: CrawlState, tmp_path: Path) -> None:
    state.settle([written()], run_id="run-1")
    record = {
        "key": "en.cnis.ac.cn/40002",
        "url": URL.replace("40001", "40002"),
        "lang": "en",
        "date": "2020-01-16",
        "title": "Second report",
        "content_hash": "h2",
        "version": 1,
        "fetched_at": AT,
    }
    known = {**record, "key": "en.cnis.ac.cn/40001", "url": URL, "content_hash": "h1"}
    feed = tmp_path / "output" / "cnis-run-2-001.jsonl"
    feed.write_text(
        "\n".join([json.dumps(known), json.dumps(record), '{"url": "an older record format"}']) + "\n",
        encoding="utf-8",
    )
    assert not state.file_known(feed)
    assert state.adopt(feed, run_id="run-3", at=AT) == (1, 1)
    assert state.is_settled(record["url"])
    assert state.file_known(feed)
    assert state.adopt(feed, run_id="run-3", at=AT) == (0, 1), "reading it again changes nothing"
