"""Incremental crawls: when an article becomes known, what a record's version is, and crawls of a
mirror that changes between them."""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.extensions.feedexport import ItemFilter
from scrapy.utils.test import get_crawler

from cnis_crawler.drops import Alias, Drop, DuplicateUrl, FetchFailed, Gone, Unchanged
from cnis_crawler.incremental import IncrementalCrawl, Job
from cnis_crawler.items import Article, FetchedPage, content_hash
from cnis_crawler.mirror import running_mirror
from cnis_crawler.spiders.cnis import CnisSpider
from cnis_crawler.state import CrawlState
from tests.conftest import (
    SITE,
    article_pages,
    assert_one_record_per_article,
    expected_record,
    identity,
    live_url,
    part_pages,
)
from tests.crawling import run_crawl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    Build = Callable[..., IncrementalCrawl]

URL = "https://en.cnis.ac.cn/xwdt/bydt/201801/t20180126_36026.shtml"
OLD_HOST_URL = "http://en.cnis.gov.cn/xwdt/bydt/201801/t20180126_23388.shtml"
FEED = "output/%(name)s-%(run_id)s-%(batch_id)03d.jsonl"


def article(url: str = URL, body: str = "The report maps 120 national standards.") -> Article:
    site = url.split("/")[2]
    return Article(
        url=url,
        site=site,
        lang="en",
        section="News",
        title="Report released",
        subtitle=None,
        date="2018-01-26",
        date_source="date-label",
        url_date="2018-01-26",
        source="CNIS",
        body=body,
        attachments=[],
        doc_id=int(url.rsplit("_", 1)[1].split(".")[0]),
        fetched_at="2026-11-24T05:00:00Z",
        content_hash=content_hash("Report released", body),
        extracted_by={},
    )


@dataclass
class Slot:
    """What the crawl state reads of a Scrapy feed slot."""

    uri_template: str
    batch_id: int = 1
    uri: str = ""
    storage: Any = field(default_factory=lambda: SimpleNamespace(stored=True))


@dataclass
class Exporter:
    """What the crawl state reads of Scrapy's FeedExporter: its feeds, each taking Articles."""

    templates: list[str]
    batch_item_count: int = 0

    @property
    def feeds(self) -> dict[str, dict[str, Any]]:
        return {template: {"batch_item_count": self.batch_item_count} for template in self.templates}

    @property
    def filters(self) -> dict[str, ItemFilter]:
        return {template: ItemFilter({"item_classes": [Article]}) for template in self.templates}


@pytest.fixture
def incremental_crawl() -> Iterator[Callable[..., IncrementalCrawl]]:
    """Builds the extension as Scrapy would, on a state in a given folder; closes them all after."""
    built: list[IncrementalCrawl] = []

    def build(folder: Path, *templates: str, batch_item_count: int = 0) -> IncrementalCrawl:
        settings = {"CNIS_STATE_PATH": str(folder / "state.sqlite"), "CNIS_JOBS_DIR": ""}
        crawler = get_crawler(CnisSpider, settings_dict=settings)
        crawler.stats.open_spider()
        incremental = IncrementalCrawl.from_crawler(crawler)
        exporter = Exporter(list(templates), batch_item_count) if templates else None
        incremental.exporter = exporter  # type: ignore[assignment]
        built.append(incremental)
        return incremental

    yield build
    for incremental in built:
        incremental.state.close()


def scrape(incremental: IncrementalCrawl, item: Article) -> Article:
    accepted = incremental.accept(item)
    incremental.item_scraped(accepted)
    return accepted


def store(
    incremental: IncrementalCrawl, template: str = FEED, batch_id: int = 1, stored: bool = True
) -> None:
    slot = Slot(template, batch_id, storage=SimpleNamespace(stored=stored))
    incremental.feed_slot_closed(slot)  # type: ignore[arg-type]


def test_a_record_is_known_once_its_feed_file_is_stored(tmp_path: Path, incremental_crawl: Build) -> None:
    incremental = incremental_crawl(tmp_path, FEED)
    record = scrape(incremental, article())
    assert (record.key, record.version, record.change) == ("en.cnis.ac.cn/36026", 1, "new")
    assert not incremental.state.is_settled(URL), "scraped, but not yet on disk"
    store(incremental)
    assert incremental.state.is_settled(URL)


def test_a_record_whose_store_failed_stays_unknown(tmp_path: Path, incremental_crawl: Build) -> None:
    incremental = incremental_crawl(tmp_path, FEED)
    scrape(incremental, article())
    store(incremental, stored=False)
    assert not incremental.state.is_settled(URL)


def test_a_store_that_failed_in_another_storage_is_counted_by_scrapy(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path, "s3://bucket/news.jsonl")
    scrape(incremental, article())
    incremental.stats.inc_value("feedexport/failed_count/S3FeedStorage")
    slot = Slot("s3://bucket/news.jsonl", storage=type("S3FeedStorage", (), {})())
    incremental.feed_slot_closed(slot)  # type: ignore[arg-type]
    assert not incremental.state.is_settled(URL)


def test_every_feed_that_takes_a_record_must_store_it(tmp_path: Path, incremental_crawl: Build) -> None:
    incremental = incremental_crawl(tmp_path, FEED, "export.jsonl")
    scrape(incremental, article())
    store(incremental, FEED)
    assert not incremental.state.is_settled(URL)
    store(incremental, "export.jsonl")
    assert incremental.state.is_settled(URL)


def test_a_record_no_feed_takes_is_never_known(tmp_path: Path, incremental_crawl: Build) -> None:
    incremental = incremental_crawl(tmp_path)
    scrape(incremental, article())
    incremental.spider_closed(SimpleNamespace(), "finished")  # type: ignore[arg-type]
    assert incremental.crawler.stats.get_value("incremental/not_stored") == 1
    with closing(CrawlState(tmp_path / "state.sqlite")) as state:
        assert not state.is_settled(URL)


def test_a_batch_makes_its_own_records_known_whatever_the_order(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path, FEED, batch_item_count=2)
    urls = [URL.replace("36026", str(36026 + number)) for number in range(3)]
    for number, url in enumerate(urls):
        scrape(incremental, article(url, body=f"Paragraph {number}."))
    store(incremental, batch_id=2)  # a storage in threads may finish the later batch first
    assert [incremental.state.is_settled(url) for url in urls] == [False, False, True]
    store(incremental, batch_id=1)
    assert [incremental.state.is_settled(url) for url in urls] == [True, True, True]


def test_the_copy_on_the_old_host_is_an_alias_stored_with_its_article(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path, FEED)
    scrape(incremental, article())
    copy = article(OLD_HOST_URL)
    with pytest.raises(Alias, match=f"same title, date and body as {re.escape(URL)}") as alias:
        incremental.accept(copy)
    incremental.item_dropped(copy, alias.value)
    assert incremental.state.page(OLD_HOST_URL)[0] is None, "not before the article it is a copy of"
    store(incremental)
    assert incremental.state.page(OLD_HOST_URL)[0] == incremental.state.page(URL)[0] == "en.cnis.ac.cn/36026"


def next_run(previous: IncrementalCrawl, tmp_path: Path, incremental_crawl: Build) -> IncrementalCrawl:
    previous.state.close()
    return incremental_crawl(tmp_path, FEED)


def test_next_run_same_content_is_unchanged_new_content_a_new_version(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    first = incremental_crawl(tmp_path, FEED)
    scrape(first, article())
    store(first)
    second = next_run(first, tmp_path, incremental_crawl)
    with pytest.raises(Unchanged):
        second.accept(article())
    edited = next_run(second, tmp_path, incremental_crawl).accept(article(body="It maps 121 standards."))
    assert (edited.key, edited.version, edited.change) == ("en.cnis.ac.cn/36026", 2, "changed")


def after_an_edit_on_the_new_host(
    tmp_path: Path, incremental_crawl: Build, old_host_copy_seen: bool
) -> IncrementalCrawl:
    """The run after two: one writes the article (and meets its old host's copy, or not), the
    next writes its edited text, met on the new host only."""
    first = incremental_crawl(tmp_path, FEED)
    scrape(first, article())
    if old_host_copy_seen:
        copy = article(OLD_HOST_URL)
        with pytest.raises(Alias) as alias:
            first.accept(copy)
        first.item_dropped(copy, alias.value)
    store(first)
    second = next_run(first, tmp_path, incremental_crawl)
    scrape(second, article(body="It maps 121 standards."))
    store(second)
    return next_run(second, tmp_path, incremental_crawl)


def test_an_alias_is_compared_with_its_own_last_content(tmp_path: Path, incremental_crawl: Build) -> None:
    """Fetched again, the old host's copy still holds the first text: no version of it."""
    third = after_an_edit_on_the_new_host(tmp_path, incremental_crawl, old_host_copy_seen=True)
    with pytest.raises(Unchanged):
        third.accept(article(OLD_HOST_URL))


def test_a_copy_of_an_earlier_version_is_an_alias(tmp_path: Path, incremental_crawl: Build) -> None:
    third = after_an_edit_on_the_new_host(tmp_path, incremental_crawl, old_host_copy_seen=False)
    with pytest.raises(Alias):
        third.accept(article(OLD_HOST_URL))  # first met now, with the text of version 1


def test_the_same_page_twice_in_one_run_is_a_duplicate_settled_with_the_first(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path, FEED)
    incremental.begin("article", URL)
    scrape(incremental, article())
    second = article(body="Another body.")
    with pytest.raises(DuplicateUrl) as duplicate:
        incremental.accept(second)
    incremental.item_dropped(second, duplicate.value)
    assert incremental.state.unfinished("next run") == [(URL, "article")], "begun until the record is stored"
    store(incremental)
    assert incremental.state.unfinished("next run") == []


@pytest.mark.parametrize(
    ("drop", "settled", "retried"),
    [
        pytest.param(Gone(f"HTTP 404: {URL}"), True, [], id="gone-is-not-fetched-again"),
        pytest.param(FetchFailed(f"HTTP 503: {URL}"), False, [URL], id="a-passing-fault-is-tried-again"),
    ],
)
def test_a_dropped_page_is_remembered_by_its_reason(
    drop: Drop, settled: bool, retried: list[str], tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path)
    incremental.item_dropped(FetchedPage(url=URL, fetched_at="2026-11-24T05:00:00Z"), drop)
    assert incremental.state.is_settled(URL) == settled
    assert incremental.retryable() == retried


def test_a_batch_closed_before_its_last_record_is_reported(tmp_path: Path, incremental_crawl: Build) -> None:
    """Under a reactor other than asyncio's Scrapy stores the batch a record completes first."""
    incremental = incremental_crawl(tmp_path, FEED, batch_item_count=1)
    store(incremental, batch_id=1)
    scrape(incremental, article())
    assert incremental.state.is_settled(URL)


def test_a_page_begun_by_a_killed_run_is_redone_unless_its_request_is_queued_again(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path)
    retried = URL.replace("36026", "36027")
    for url in (URL, retried):
        incremental.state.begin(url, "article", "killed-run", "2026-11-24T05:00:00Z")
    incremental.job = Job(tmp_path / "jobs" / "cnis", None, queued={retried})  # e.g. a retry after a 503
    assert incremental.unfinished() == [(URL, "article")]


# End to end ----------------------------------------------------------------------------------

NEW_ARTICLE_SECTIONS = ("en.cnis.ac.cn/kycg", "en.cnis.ac.cn/xwdt/bydt", "en.cnis.ac.cn/zdxw")
LISTED_ARTICLE_RE = re.compile(
    r'<li>.*?href="\./(?P<month>\d{6})/t(?P<day>\d{8})_(?P<id>\d+)\.shtml".*?</li>\n', re.DOTALL
)


def add_article(site: Path, section: str, doc_id: int, listing_page: str = "index.shtml") -> str:
    """A new article on top of a listing page of a section, made from the one it pushes down."""
    listing = site / section / listing_page
    html = listing.read_text(encoding="utf-8")
    top = LISTED_ARTICLE_RE.search(html)
    assert top, listing
    template = listing.parent / top["month"] / f"t{top['day']}_{top['id']}.shtml"
    old_title, new_title = (
        expected_record(SITE / template.relative_to(site))["title"],
        f"New article {doc_id}",
    )
    page = site / section / "202611" / f"t20261120_{doc_id}.shtml"
    page.parent.mkdir(exist_ok=True)
    page.write_text(template.read_text(encoding="utf-8").replace(old_title, new_title), encoding="utf-8")
    item = top[0].replace(f"./{top['month']}/t{top['day']}_{top['id']}", f"./202611/t20261120_{doc_id}")
    listing.write_text(html.replace(top[0], item.replace(old_title, new_title) + top[0], 1), encoding="utf-8")
    return live_url(page, site)


def editable_pages(site: Path, count: int) -> list[Path]:
    """English articles of one page, no copy on another host, whose first paragraph is plain text
    in the HTML, so that it can be edited by a string replacement."""
    identities = Counter(identity(expected_record(page)) for page in article_pages())
    chosen = []
    for page in article_pages():
        record = expected_record(page)
        opening = record["body"].split("\n")[0][:40]
        if (
            record["lang"] == "en"
            and identities[identity(record)] == 1
            and not part_pages(page)
            and opening in page.read_text(encoding="utf-8", errors="replace")
        ):
            chosen.append(site / page.relative_to(SITE))
    return chosen[:count]


def edit(page: Path, site: Path) -> str:
    record = expected_record(SITE / page.relative_to(site))
    opening = record["body"].split("\n")[0][:40]
    page.write_text(
        page.read_text(encoding="utf-8").replace(opening, f"Corrected: {opening}", 1), encoding="utf-8"
    )
    # A later mtime, as an edit on the server gives, whatever the clock resolution here.
    stat = page.stat()
    os.utime(page, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))
    return record["url"]


def urls(records: list[dict[str, Any]]) -> list[str]:
    return sorted(record["url"] for record in records)


def test_crawls_of_a_changing_mirror_write_only_what_is_new_or_changed(tmp_path: Path) -> None:
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    with running_mirror(site) as mirror:

        def crawl(*arguments: str) -> Any:
            result = run_crawl(tmp_path / "work", "-a", f"mirror={mirror}", *arguments)
            assert result.returncode == 0, result.log[-3000:]
            return result

        first = crawl()
        assert_one_record_per_article(first.records)
        keys = {record["url"]: record["key"] for record in first.records}

        second = crawl()
        stats = second.summary["stats"]
        assert second.records == []
        assert stats["downloader/request_count"] == stats["incremental/listing_pages_read"] + 1  # robots.txt
        assert stats["incremental/listing_pages_read"] == len(NEW_ARTICLE_SECTIONS) + 5  # page 0 of each

        added = [add_article(site, section, 90001 + n) for n, section in enumerate(NEW_ARTICLE_SECTIONS)]
        edited = [edit(page, site) for page in editable_pages(site, 2)]
        third = crawl()
        assert urls(third.records) == sorted(added)
        assert {(record["version"], record["change"]) for record in third.records} == {(1, "new")}
        assert {record["title"] for record in third.records} == {f"New article {90001 + n}" for n in range(3)}
        assert third.summary["stats"]["incremental/new"] == 3

        fourth = crawl("-a", "revalidate=1")
        assert urls(fourth.records) == sorted(edited)
        for record in fourth.records:
            assert (record["key"], record["version"], record["change"]) == (keys[record["url"]], 2, "changed")
            assert record["body"].startswith("Corrected: ")
        stats = fourth.summary["stats"]
        assert stats["incremental/unchanged"] == len(first.records) + 3 - 2
        assert stats["downloader/response_status_count/304"] == len(first.records) + 3 - 2

        fifth = crawl("-a", "full=1")
        assert fifth.records == []
        stats = fifth.summary["stats"]
        assert stats["incremental/unchanged"] == len(article_pages()) + 3, "aliases are fetched again too"
        assert stats["item_dropped_reasons_count/Gone"] == 1, "a page gone is tried again by a full crawl"


def test_a_job_directory_of_a_finished_crawl_does_not_block_the_next(mirror_url: str, tmp_path: Path) -> None:
    jobdir = tmp_path / "my-job"
    jobdir.mkdir()
    (jobdir / "notes.txt").write_text("a folder given as JOBDIR may hold other files", encoding="utf-8")
    arguments = ("-a", f"mirror={mirror_url}", "-s", f"JOBDIR={jobdir}", "-s", "CNIS_STATE_PATH=")
    first = run_crawl(tmp_path, *arguments)
    assert first.returncode == 0
    assert [path.name for path in jobdir.iterdir()] == ["notes.txt"], "Scrapy's files gone, no other"
    second = run_crawl(tmp_path, *arguments)
    assert urls(second.records) == urls(first.records), "an in-memory state: every run is a first run"


def test_an_article_that_failed_for_a_passing_reason_is_fetched_by_the_next_run(tmp_path: Path) -> None:
    """Deep in a listing the next incremental run does not read again: the state remembers it."""
    site = tmp_path / "site"
    shutil.copytree(SITE, site)
    listing = site / "en.cnis.ac.cn" / "xwdt" / "bzhdt" / "index_1.shtml"
    top = LISTED_ARTICLE_RE.search(listing.read_text(encoding="utf-8"))
    assert top
    page = listing.parent / top["month"] / f"t{top['day']}_{top['id']}.shtml"
    content = page.read_bytes()
    page.unlink()
    page.mkdir()  # the mirror answers a folder with 403, as a server with a passing fault might
    with running_mirror(site) as mirror:
        first = run_crawl(tmp_path / "work", "-a", f"mirror={mirror}")
        assert first.stats["item_dropped_reasons_count/FetchFailed"] == 1
        page.rmdir()
        page.write_bytes(content)
        second = run_crawl(tmp_path / "work", "-a", f"mirror={mirror}")
    assert urls(second.records) == [live_url(page, site)]
    assert second.stats["incremental/listing_pages_read"] == 8, "page 0 of each section, no more"


def test_a_listing_page_that_failed_is_read_again_with_all_that_follows(tmp_path: Path) -> None:
    """Even in a section read to the end before: what follows the failed page is unknown."""
    site, section = tmp_path / "site", "en.cnis.ac.cn/xwdt/bydt"
    shutil.copytree(SITE, site)
    with running_mirror(site) as mirror:
        run_crawl(tmp_path / "work", "-a", f"mirror={mirror}")
        on_top = add_article(site, section, 90001)
        further_down = add_article(site, section, 90002, listing_page="index_2.shtml")
        middle = site / section / "index_1.shtml"
        middle.rename(middle.with_suffix(".away"))  # 404
        failed = run_crawl(tmp_path / "work", "-a", f"mirror={mirror}")
        assert urls(failed.records) == [on_top]
        assert failed.summary["sections"][section]["listing_pages_failed"] == 1
        middle.with_suffix(".away").rename(middle)
        after = run_crawl(tmp_path / "work", "-a", f"mirror={mirror}")
    assert urls(after.records) == [further_down]
