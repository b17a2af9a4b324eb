"""Incremental, crash-safe crawls: the Scrapy side of :mod:`cnis_crawler.state`.

:class:`IncrementalCrawl` (an extension) answers the spider's one question, *is this page worth
fetching?*, and :class:`VersionArticlePipeline` gives each record its ``key``, ``version`` and
``change``. What a run learns is held back until it is safe to believe:

- a record counts as known only once every feed that takes it has been **stored** (the feed
  storages rename a complete file into place; ``feed_slot_closed`` follows). A run killed before
  that leaves the article unknown, so the next run fetches and writes it again;
- an alias or an unchanged page is stored with the record it depends on;
- a page the downloader began is marked *in flight* at once and settled with its outcome, so a
  run resumed after a kill redoes exactly what the killed one had not finished.

Settings: ``CNIS_STATE_PATH`` (empty: in memory, every run a first run), ``CNIS_RECHECK_PAGES``
(all-known listing pages read before a section stops paging), ``CNIS_JOBS_DIR`` (where each
spider's ``JOBDIR`` goes unless ``-s JOBDIR=`` says otherwise; empty disables it).
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import FeedExporter

from cnis_crawler.drops import Alias, Drop, DuplicateUrl, NotNew, Unchanged
from cnis_crawler.items import Article
from cnis_crawler.jobdir import finish_job, prepare_job
from cnis_crawler.state import (
    CrawlState,
    Failed,
    KnownArticle,
    Observation,
    Seen,
    Settled,
    Validators,
    Written,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.extensions.feedexport import FeedSlot
    from scrapy.settings import Settings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

WORK_META = "cnis_work"
"""Request meta ``(kind, live URL)`` of the pages whose progress the state tracks."""
STATS_PREFIX = "incremental/"
NO_FEED = "<no feed>"
PLACEHOLDER_RE = re.compile(r"%\([^)]*\)[-#0 +]*\d*[a-z]")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Fetch:
    listed_url: str
    validators: Validators


@dataclass(eq=False)
class Pending:
    observation: Observation
    awaiting: set[str] = field(default_factory=set)
    """The feeds (URI templates) that have yet to store the record."""
    after: Pending | None = None
    """Another pending observation this one must not be stored before."""
    stored: bool = False


class IncrementalCrawl:
    def __init__(self, crawler: Crawler, state: CrawlState, recheck_pages: int, jobdir: Path | None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = state
        self.recheck_pages = recheck_pages
        self.jobdir = jobdir
        self.run_id = str(getattr(crawler.spider, "run_id", utc_now()))
        self.exporter: FeedExporter | None = None
        # This run's decisions, visible to the run before they are stored.
        self.run_pages: dict[str, str] = {}
        self.run_articles: dict[str, KnownArticle] = {}
        self.run_content: dict[tuple[str, str, str], KnownArticle] = {}
        self.run_urls: set[str] = set()
        self.fetches: dict[str, Fetch] = {}
        self.pending: list[Pending] = []
        self.pending_by_key: dict[str, Pending] = {}
        self.feed_queues: dict[str, deque[Pending]] = {}
        self.walked: set[str] = set()
        self.close_reason: str | None = None
        self.feeds_closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        recheck_pages = settings.getint("CNIS_RECHECK_PAGES", 1)
        if recheck_pages < 1:
            raise ValueError(f"CNIS_RECHECK_PAGES must be 1 or more, got {recheck_pages}")
        jobdir = configure_jobdir(settings, crawler.spidercls.name)
        state = CrawlState(settings.get("CNIS_STATE_PATH") or None)
        extension = cls(crawler, state, recheck_pages, jobdir)
        for handler, signal in (
            (extension.spider_opened, signals.spider_opened),
            (extension.request_reached_downloader, signals.request_reached_downloader),
            (extension.item_scraped, signals.item_scraped),
            (extension.item_dropped, signals.item_dropped),
            (extension.item_error, signals.item_error),
            (extension.feed_slot_closed, signals.feed_slot_closed),
            (extension.feed_exporter_closed, signals.feed_exporter_closed),
            (extension.spider_closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return extension

    # What the spider asks and tells ---------------------------------------------------------

    def is_settled(self, url: str) -> bool:
        return url in self.run_pages or self.state.is_settled(url)

    def unfinished(self) -> list[tuple[str, str]]:
        return self.state.unfinished(self.run_id)

    def article_urls(self, sites: list[str]) -> Iterator[tuple[str, Validators]]:
        for url, validators in self.state.article_urls():
            if url.split("/", 3)[2] in sites:
                yield url, validators

    def may_stop_paging(self, section_key: str, all_known_pages: int) -> bool:
        """A section whose listing was never read to the end must be, whatever is known."""
        return all_known_pages >= self.recheck_pages and section_key in self.state.walked_sections()

    def count(self, counter: str, amount: int = 1) -> None:
        self.stats.inc_value(STATS_PREFIX + counter, amount)

    def listing_read(self, url: str, section_key: str, links: list[str], last_page: bool) -> None:
        self.state.listing_read(url, section_key, links, utc_now())
        self.count("listing_pages_read")
        if last_page:
            self.walked.add(section_key)

    def listing_failed(self, url: str) -> None:
        self.state.settle([Settled(url)], self.run_id)

    def fetched(self, url: str, listed_url: str, last_modified: str | None, etag: str | None) -> None:
        self.fetches[url] = Fetch(listed_url, Validators(last_modified, etag))

    # What the pipeline asks -------------------------------------------------------------------

    def known_article(self, url: str) -> KnownArticle | None:
        key = self.run_pages.get(url) or self.state.page_key(url)
        return self.article(key) if key else None

    def article(self, key: str) -> KnownArticle | None:
        return self.run_articles.get(key) or self.state.article(key)

    def accept(self, article: Article) -> Article:
        """Give ``article`` its key, version and change, or drop it as not new."""
        if article.url in self.run_urls:
            raise DuplicateUrl(f"already written in this run: {article.url}")
        self.run_urls.add(article.url)
        urls = page_urls(article.url, self.fetches.get(article.url))
        known = next(filter(None, map(self.known_article, urls)), None)
        content = (article.lang, article.date, article.content_hash)
        if known is None:
            if same := self.run_content.get(content) or self.state.article_with_content(*content):
                raise Alias(f"same title, date and body as {same.url}: {article.url}", key=same.key)
            # A new URL for a TRS document already known (same site and id) is the same article.
            known = self.article(f"{article.site}/{article.doc_id}")
        if known is not None and known.content_hash == article.content_hash:
            raise Unchanged(f"content unchanged since version {known.version}: {article.url}", key=known.key)
        article.key = known.key if known else f"{article.site}/{article.doc_id}"
        article.version = known.version + 1 if known else 1
        article.change = "changed" if known else "new"
        record = KnownArticle(
            article.key, known.url if known else article.url, article.version, article.content_hash
        )
        self.run_articles[article.key] = record
        self.run_content[content] = record
        for url in urls:
            self.run_pages[url] = article.key
        self.count(article.change)
        return article

    # Signals ------------------------------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self.exporter = self.crawler.get_extension(FeedExporter)
        if not self.takes_articles():
            logger.warning("No feed takes the records: this crawl writes nothing and learns nothing")
        self.state.start_run(self.run_id, utc_now())
        self.adopt_feed_files(spider.name)

    def adopt_feed_files(self, spider_name: str) -> None:
        """Read in feed files a killed run stored without telling the state (it died between the
        two), so that their records are not fetched and written a second time."""
        templates = self.exporter.feeds if self.exporter and self.state.persistent else {}
        for template in templates:
            for path in sorted(feed_files(template, spider_name)):
                if self.state.file_known(path):
                    continue
                new, foreign = self.state.adopt(path, self.run_id, utc_now())
                self.count("adopted", new)
                if new or foreign:
                    logger.warning(
                        "Feed file %s was not known to the crawl state: %d records adopted, %d lines"
                        " that are no record of this crawler ignored",
                        path,
                        new,
                        foreign,
                    )

    def takes_articles(self) -> bool:
        filters = self.exporter.filters.values() if self.exporter else ()
        return any(
            not item_filter.item_classes or Article in item_filter.item_classes for item_filter in filters
        )

    def request_reached_downloader(self, request: Request, spider: Spider) -> None:
        if work := request.meta.get(WORK_META):
            kind, url = work
            self.state.begin(url, kind, self.run_id, utc_now())

    def item_scraped(self, item: Any) -> None:
        if not isinstance(item, Article):
            return
        fetch = self.fetches.pop(item.url, None)
        written = Written(
            key=item.key,
            url=item.url,
            lang=item.lang,
            date=item.date,
            title=item.title,
            content_hash=item.content_hash,
            version=item.version,
            at=item.fetched_at,
            urls=page_urls(item.url, fetch),
            validators=fetch.validators if fetch else Validators(),
        )
        pending = Pending(written)
        for slot in self.exporter.slots if self.exporter else ():
            if slot.filter.accepts(item):
                pending.awaiting.add(slot.uri_template)
                self.feed_queues.setdefault(slot.uri_template, deque()).append(pending)
        if not pending.awaiting:  # written nowhere, so never known
            pending.awaiting.add(NO_FEED)
        self.pending_by_key[item.key] = pending
        self.add(pending)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        url = str(getattr(item, "url", ""))
        fetch = self.fetches.pop(url, None)
        urls = page_urls(url, fetch)
        if isinstance(exception, NotNew):
            self.count(exception.counter)
            key = exception.key or self.run_pages.get(url) or self.state.page_key(url)
            if key is None:  # a 304 for a page the state does not know: nothing to update
                self.add(Pending(Settled(url)))
                return
            validators = fetch.validators if fetch else Validators()
            self.add(Pending(Seen(key, urls, utc_now(), validators), after=self.pending_by_key.get(key)))
        elif isinstance(exception, DuplicateUrl):
            self.add(Pending(Settled(url)))
        else:
            permanent = isinstance(exception, Drop) and exception.permanent
            for page_url in urls:
                failure = Failed(page_url, type(exception).__name__, str(exception), permanent, utc_now())
                self.add(Pending(failure))

    def item_error(self, item: Any, failure: Failure) -> None:
        url = str(getattr(item, "url", ""))
        self.fetches.pop(url, None)
        self.add(Pending(Failed(url, failure.type.__name__, failure.getErrorMessage(), False, utc_now())))

    def feed_slot_closed(self, slot: FeedSlot) -> None:
        queue = self.feed_queues.get(slot.uri_template, deque())
        stored = getattr(slot.storage, "stored", True)
        for _ in range(min(slot.itemcount, len(queue))):
            pending = queue.popleft()
            if stored:
                pending.awaiting.discard(slot.uri_template)
        self.flush()
        if stored and (path := local_path(slot.uri)) and path.is_file():
            self.state.file_stored(path, slot.itemcount, utc_now())

    def feed_exporter_closed(self) -> None:
        self.feeds_closed = True
        if self.close_reason is not None:
            self.finish()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.close_reason = reason
        if self.exporter is None or self.feeds_closed:
            self.finish()

    # Storing what is safe to believe ---------------------------------------------------------

    def add(self, pending: Pending) -> None:
        self.pending.append(pending)
        if not pending.awaiting:
            self.flush()

    def flush(self) -> None:
        ready = []
        for pending in self.pending:  # in order: what an entry waits for comes before it
            if not pending.awaiting and (pending.after is None or pending.after.stored):
                pending.stored = True
                ready.append(pending.observation)
                if isinstance(pending.observation, Written):
                    self.pending_by_key.pop(pending.observation.key, None)
        if ready:
            self.state.settle(ready, self.run_id)
            self.pending = [pending for pending in self.pending if not pending.stored]
            self.count("stored", sum(isinstance(observation, Written) for observation in ready))

    def finish(self) -> None:
        reason = self.close_reason or "unknown"
        self.flush()
        not_stored = sum(isinstance(pending.observation, Written) for pending in self.pending)
        if not_stored:
            self.count("not_stored", not_stored)
            logger.warning(
                "%d records were not stored in every feed: the next run fetches them again", not_stored
            )
        elif reason == "finished":
            self.state.mark_walked(self.walked, utc_now())
        accounting = {
            key.removeprefix(STATS_PREFIX): value
            for key, value in self.stats.get_stats().items()
            if key.startswith(STATS_PREFIX)
        }
        self.state.finish_run(self.run_id, utc_now(), reason, accounting)
        logger.info(
            "Incremental accounting: %s; state %s: %s",
            ", ".join(f"{name}={value}" for name, value in sorted(accounting.items())) or "nothing",
            self.state.path,
            ", ".join(f"{table}={rows}" for table, rows in self.state.counts().items()),
        )
        self.state.close()
        if reason == "finished" and self.jobdir is not None:
            finish_job(self.jobdir)


def local_path(uri: str) -> Path | None:
    """The file a feed URI names, or None for a remote feed (S3, FTP …)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return Path(uri) if not parts.scheme else None


def feed_files(template: str, spider_name: str) -> list[Path]:
    """The files a feed URI template has produced: its placeholders read as wildcards."""
    path = local_path(template.replace("%(name)s", spider_name))
    if path is None:
        return []
    pattern = PLACEHOLDER_RE.sub("*", path.name)
    return [match for match in path.parent.glob(pattern) if match.is_file()]


def page_urls(url: str, fetch: Fetch | None) -> tuple[str, ...]:
    """The page's URL, and the URL it was listed under when a redirect led to it."""
    return (url,) if fetch is None or fetch.listed_url == url else (fetch.listed_url, url)


def configure_jobdir(settings: Settings, spider_name: str) -> Path | None:
    """Give the spider a JOBDIR under ``CNIS_JOBS_DIR`` unless the user chose one (or ``""``),
    and make it safe to open (see :mod:`cnis_crawler.jobdir`)."""
    if settings.get("JOBDIR") is None and settings.get("CNIS_JOBS_DIR"):
        settings.set("JOBDIR", str(Path(settings["CNIS_JOBS_DIR"], spider_name)), priority="default")
    if not settings.get("JOBDIR"):
        return None
    jobdir = Path(settings["JOBDIR"])
    found = prepare_job(jobdir)
    if found != "new":
        logger.info("Job directory %s: %s", jobdir, found)
    return jobdir


class VersionArticlePipeline:
    """Article -> the same article with ``key``, ``version`` and ``change``; or a drop:
    :class:`~cnis_crawler.drops.Unchanged`, :class:`~cnis_crawler.drops.Alias`,
    :class:`~cnis_crawler.drops.DuplicateUrl`."""

    def __init__(self, incremental: IncrementalCrawl) -> None:
        self.incremental = incremental

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        incremental = crawler.get_extension(IncrementalCrawl)
        if incremental is None:
            raise NotConfigured("needs the IncrementalCrawl extension")
        return cls(incremental)

    def process_item(self, item: object) -> object:
        return self.incremental.accept(item) if isinstance(item, Article) else item
