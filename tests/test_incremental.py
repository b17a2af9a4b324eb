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

from cnis_crawler.crawling.drops import Alias, Drop, DuplicateUrl, FetchFailed, Gone, Unchanged
from cnis_crawler.crawling.items import Article, FetchedPage, content_hash
from cnis_crawler.crawling.memory import CrawlMemory
from cnis_crawler.crawling.spider import CnisSpider
from cnis_crawler.crawling.versions import VersionArticlePipeline
from cnis_crawler.extraction import Listed
from cnis_crawler.memory.state import CrawlState
from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import (
    SITE,
    article_pages,
    assert_one_record_per_article,
    expected_record,
    identity,
    live_url,
    mirror_news_sections,
    part_pages,
)
from tests.crawling import run_crawl

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from scrapy.crawler import Crawler

    from cnis_crawler.crawling.records import RecordKeeper

    Build = Callable[..., "Run"]

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
        images=[],
        standards=[],
        committees=[],
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


@dataclass
class Run:
    """One run's crawl state as Scrapy builds it: the memory, its record keeper, the versions."""

    crawler: Crawler
    memory: CrawlMemory
    versions: VersionArticlePipeline

    @property
    def keeper(self) -> RecordKeeper:
        assert self.memory.records is not None
        return self.memory.records

    @property
    def state(self) -> CrawlState:
        return self.memory.state

    def accept(self, item: Article) -> Article:
        return self.versions.accept(item)


@pytest.fixture
def incremental_crawl() -> Iterator[Callable[..., Run]]:
    """Builds the components as Scrapy would, on a state in a given folder; closes them all after.
    Each observation is committed at once unless ``commit_every`` says otherwise."""
    built: list[Run] = []

    def build(folder: Path, *templates: str, batch_item_count: int = 0, commit_every: int = 1) -> Run:
        settings = {"CNIS_STATE_PATH": str(folder / "state.sqlite"), "CNIS_STATE_COMMIT_EVERY": commit_every}
        crawler = get_crawler(CnisSpider, settings_dict=settings)
        crawler.stats.open_spider()
        memory = CrawlMemory.from_crawler(crawler)
        run = Run(crawler, memory, VersionArticlePipeline(memory))
        run.keeper.exporter = Exporter(list(templates), batch_item_count) if templates else None  # type: ignore[assignment]
        # As the keeper finds when the spider opens: FEED writes the run files, the others are
        # a user's own feeds.
        run.keeper.counting_feeds = {template for template in templates if template == FEED}
        built.append(run)
        return run

    yield build
    for run in built:
        run.state.close()


def scrape(incremental: Run, item: Article) -> Article:
    accepted = incremental.accept(item)
    incremental.keeper.item_scraped(accepted)
    return accepted


def store(incremental: Run, template: str = FEED, batch_id: int = 1, stored: bool = True) -> None:
    slot = Slot(template, batch_id, storage=SimpleNamespace(stored=stored))
    incremental.keeper.feed_slot_closed(slot)  # type: ignore[arg-type]


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
    incremental.crawler.stats.inc_value("feedexport/failed_count/S3FeedStorage")
    slot = Slot("s3://bucket/news.jsonl", storage=type("S3FeedStorage", (), {})())
    incremental.keeper.feed_slot_closed(slot)  # type: ignore[arg-type]
    assert not incremental.state.is_settled(URL)


def test_only_the_run_files_make_a_record_known(tmp_path: Path, incremental_crawl: Build) -> None:
    incremental = incremental_crawl(tmp_path, FEED, "export.jsonl")
    scrape(incremental, article())
    store(incremental, "export.jsonl")
    assert not incremental.state.is_settled(URL), "a user's own feed is not what the export reads"
    store(incremental, FEED)
    assert incremental.state.is_settled(URL)


def test_a_record_no_feed_takes_is_never_known(tmp_path: Path, incremental_crawl: Build) -> None:
    incremental = incremental_crawl(tmp_path)
    scrape(incremental, article())
    incremental.keeper.spider_closed(SimpleNamespace(), "finished")  # type: ignore[arg-type]
    incremental.memory.engine_stopped()
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
    incremental.keeper.item_dropped(copy, alias.value)
    assert incremental.state.page(OLD_HOST_URL)[0] is None, "not before the article it is a copy of"
    store(incremental)
    assert incremental.state.page(OLD_HOST_URL)[0] == incremental.state.page(URL)[0] == "en.cnis.ac.cn/36026"


def next_run(previous: Run, tmp_path: Path, incremental_crawl: Build) -> Run:
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


def after_an_edit_on_the_new_host(tmp_path: Path, incremental_crawl: Build, old_host_copy_seen: bool) -> Run:
    """The run after two: one writes the article (and meets its old host's copy, or not), the
    next writes its edited text, met on the new host only."""
    first = incremental_crawl(tmp_path, FEED)
    scrape(first, article())
    if old_host_copy_seen:
        copy = article(OLD_HOST_URL)
        with pytest.raises(Alias) as alias:
            first.accept(copy)
        first.keeper.item_dropped(copy, alias.value)
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


def test_the_same_page_twice_in_one_run_is_a_duplicate_and_written_once(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path, FEED)
    scrape(incremental, article())
    second = article(body="Another body.")
    with pytest.raises(DuplicateUrl) as duplicate:
        incremental.accept(second)
    incremental.keeper.item_dropped(second, duplicate.value)
    store(incremental)
    assert incremental.state.page(URL) == ("en.cnis.ac.cn/36026", article().content_hash)


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
    incremental.keeper.item_dropped(FetchedPage(url=URL, fetched_at="2026-11-24T05:00:00Z"), drop)
    assert incremental.state.is_settled(URL) == settled
    assert incremental.state.retryable() == retried


def test_observations_are_committed_together_and_never_before_what_they_wait_for(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    incremental = incremental_crawl(tmp_path, FEED, commit_every=3)
    failed = [URL.replace("36026", str(36100 + number)) for number in range(3)]
    for url in failed[:2]:
        incremental.keeper.item_dropped(
            FetchedPage(url=url, fetched_at="2026-11-24T05:00:00Z"), FetchFailed(url)
        )
    assert incremental.state.retryable() == [], "two observations wait for a third"
    scrape(incremental, article())
    copy = article(OLD_HOST_URL)
    with pytest.raises(Alias) as alias:
        incremental.accept(copy)
    incremental.keeper.item_dropped(copy, alias.value)  # the third: waits for its article's record
    incremental.keeper.item_dropped(
        FetchedPage(url=failed[2], fetched_at="2026-11-24T05:00:00Z"), FetchFailed(failed[2])
    )
    assert incremental.state.retryable() == failed, "three ready: committed"
    assert incremental.state.page(OLD_HOST_URL)[0] is None, "the alias still waits for its article"
    store(incremental)  # the record's batch: the record, then the alias, in one commit
    assert incremental.state.page(OLD_HOST_URL)[0] == incremental.state.page(URL)[0]


def test_a_batch_closed_before_its_last_record_is_reported(tmp_path: Path, incremental_crawl: Build) -> None:
    """Under a reactor other than asyncio's Scrapy stores the batch a record completes first."""
    incremental = incremental_crawl(tmp_path, FEED, batch_item_count=1)
    store(incremental, batch_id=1)
    scrape(incremental, article())
    assert incremental.state.is_settled(URL)


def test_what_a_stopped_run_left_is_taken_up_from_the_state_alone(
    tmp_path: Path, incremental_crawl: Build
) -> None:
    """A listing page read, its next page queued; of its three articles one written, one gone,
    one never fetched: the next run reads the queued page and fetches the one article."""
    stopped = incremental_crawl(tmp_path, FEED)
    listing = "https://en.cnis.ac.cn/xwdt/bydt/index.shtml"
    urls = [URL.replace("36026", str(36026 + number)) for number in range(3)]
    listed = Listed(text="Report released", title="Report released in full", date="2018-01-26")
    stopped.memory.listing_read(
        listing, "en.cnis.ac.cn/xwdt/bydt", [(url, listed) for url in urls], False, listing + "_1"
    )
    scrape(stopped, article(urls[0]))
    store(stopped)
    stopped.keeper.item_dropped(FetchedPage(url=urls[1], fetched_at="2026-11-24T05:00:00Z"), Gone(urls[1]))
    stopped.state.close()  # killed: no end of the run
    resumed = incremental_crawl(tmp_path, FEED)
    resumed.memory.spider_opened(SimpleNamespace(run_id="resumed", mode=""))  # type: ignore[arg-type]
    assert resumed.memory.left_undone() == ([listing + "_1"], [(urls[2], listed)])


# End to end ----------------------------------------------------------------------------------

# Three of site.py's sections and one found on the site: a found section is crawled incrementally too.
NEW_ARTICLE_SECTIONS = (
    "en.cnis.ac.cn/kycg",
    "en.cnis.ac.cn/xwdt/bydt",
    "en.cnis.ac.cn/zdxw",
    "en.cnis.ac.cn/xwdt/gjhz",
)
ADDED = len(NEW_ARTICLE_SECTIONS)
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
        # robots.txt, page 0 of each news section (found ones too), the pages read to find them.
        assert stats["downloader/request_count"] == (
            1 + stats["incremental/listing_pages_read"] + stats["discovery/requests_beyond_listings"]
        )
        assert stats["incremental/listing_pages_read"] == len(mirror_news_sections())
        # The home pages, and the profiles (a section found and skipped): the folders found no
        # listing rest for CNIS_FOLDER_RECHECK_DAYS.
        assert stats["discovery/requests_beyond_listings"] == 3 + 1

        added = [add_article(site, section, 90001 + n) for n, section in enumerate(NEW_ARTICLE_SECTIONS)]
        edited = [edit(page, site) for page in editable_pages(site, 2)]
        third = crawl()
        assert urls(third.records) == sorted(added)
        assert {(record["version"], record["change"]) for record in third.records} == {(1, "new")}
        assert {record["title"] for record in third.records} == {
            f"New article {90001 + n}" for n in range(ADDED)
        }
        assert third.summary["stats"]["incremental/new"] == ADDED

        fourth = crawl("-a", "revalidate=1")
        assert urls(fourth.records) == sorted(edited)
        for record in fourth.records:
            assert (record["key"], record["version"], record["change"]) == (keys[record["url"]], 2, "changed")
            assert record["body"].startswith("Corrected: ")
        stats = fourth.summary["stats"]
        assert stats["incremental/unchanged"] == len(first.records) + ADDED - 2
        assert stats["downloader/response_status_count/304"] == len(first.records) + ADDED - 2

        fifth = crawl("-a", "full=1")
        assert fifth.records == []
        stats = fifth.summary["stats"]
        assert stats["incremental/unchanged"] == len(article_pages()) + ADDED, "aliases are fetched again too"
        assert stats["item_dropped_reasons_count/Gone"] == 1, "a page gone is tried again by a full crawl"


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
    assert second.stats["incremental/listing_pages_read"] == len(mirror_news_sections()), (
        "page 0 of each, no more"
    )


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
