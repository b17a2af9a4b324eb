"""Incremental, crash-safe crawls: the Scrapy side of the crawl state.

- :class:`IncrementalCrawl` (an extension) answers the spider's question, *is this page worth
  fetching?*, and feeds what the run observes to a :class:`~cnis_crawler.ledger.Ledger`, which
  stores it in the :class:`~cnis_crawler.state.CrawlState` once it is safe to believe. A record
  is known once every feed batch it went into is stored (``feed_slot_closed``): a run killed
  before that leaves the article unknown, and the next run fetches and writes it again.
- :class:`InFlightMiddleware` marks a page as begun the moment the scheduler hands its request
  over; the ledger settles it with its outcome. A run resumed after a kill redoes what was
  begun and not finished; what was never begun waits in the ``JOBDIR`` queue.
- :class:`VersionArticlePipeline` gives each record its ``key``, ``version`` and ``change``.

Settings: ``CNIS_STATE_PATH`` (empty: in memory, every run a first run), ``CNIS_RECHECK_PAGES``
(all-known listing pages read before a section stops paging), ``CNIS_JOBS_DIR`` (where each
spider's ``JOBDIR`` goes unless ``-s JOBDIR=`` says otherwise; empty: no job directory).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.extensions.feedexport import FeedExporter

from cnis_crawler.drops import Alias, Drop, DuplicateUrl, NotNew, Unchanged
from cnis_crawler.feedstorage import RUN_FILES, remove_abandoned_parts
from cnis_crawler.health import REASONS as HEALTH_REASONS
from cnis_crawler.items import WORK_META, Article
from cnis_crawler.jobdir import finish_job, prepare_job
from cnis_crawler.ledger import Batch, Ledger
from cnis_crawler.state import (
    CrawlState,
    Failed,
    KnownArticle,
    Link,
    Seen,
    Settled,
    Validators,
    Written,
    exclusive_lock,
)
from cnis_crawler.urls import section_of

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Self

    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.extensions.feedexport import FeedSlot
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

STATS_PREFIX = "incremental/"
PLACEHOLDER_RE = re.compile(r"%\([^)]*\)[-#0 +]*\d*[a-z]")


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Fetch:
    listed_url: str
    validators: Validators


@dataclass
class Job:
    directory: Path
    lock: IO[bytes] | None
    queued: set[str]
    """Live URLs of the pages whose requests wait in the queue (a killed job's, to resume)."""


class IncrementalCrawl:
    def __init__(self, crawler: Crawler, state: CrawlState, recheck_pages: int, job: Job | None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = state
        self.recheck_pages = recheck_pages
        self.job = job
        self.run_id = str(getattr(crawler.spider, "run_id", utc_now()))
        self.ledger = Ledger(state, self.run_id)
        self.exporter: FeedExporter | None = None
        self.accepted_by_feed: Counter[str] = Counter()
        self.run_files: list[tuple[Path, list[Any]]] = []
        # This run's decisions, visible to the run before they are stored.
        self.run_pages: dict[str, tuple[str, str]] = {}
        self.run_articles: dict[str, KnownArticle] = {}
        self.run_content: dict[tuple[str, str, str], KnownArticle] = {}
        self.run_urls: set[str] = set()
        self.fetches: dict[str, Fetch] = {}
        self.close_reason: str | None = None
        self.feeds_closed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        recheck_pages = settings.getint("CNIS_RECHECK_PAGES", 1)
        if recheck_pages < 1:
            raise ValueError(f"CNIS_RECHECK_PAGES must be 1 or more, got {recheck_pages}")
        # The state's lock first: a second crawl must fail before it touches the first's job.
        state = CrawlState(settings.get("CNIS_STATE_PATH") or None)
        extension = cls(crawler, state, recheck_pages, open_job(crawler))
        for handler, signal in (
            (extension.spider_opened, signals.spider_opened),
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
        """Pages begun by a killed run, except those whose request waits in the queue again
        (a retry, a redirect), which the resumed run fetches from there."""
        queued = self.job.queued if self.job else set()
        return [(url, kind) for url, kind in self.state.unfinished(self.run_id) if url not in queued]

    def retryable(self) -> list[str]:
        return self.state.retryable()

    def link_title(self, url: str) -> str | None:
        return self.state.link_title(url)

    def article_urls(self) -> Iterator[tuple[str, Validators]]:
        return self.state.article_urls()

    def may_stop_paging(self, section_key: str, all_known_pages: int) -> bool:
        """A section whose listing was never read to the end must be, whatever is known."""
        return all_known_pages >= self.recheck_pages and section_key in self.state.walked_sections()

    def count(self, counter: str, amount: int = 1) -> None:
        self.stats.inc_value(STATS_PREFIX + counter, amount)

    def begin(self, kind: str, url: str) -> None:
        self.state.begin(url, kind, self.run_id, utc_now())

    def listing_read(
        self, url: str, section_key: str, links: list[tuple[str, str | None]], last_page: bool
    ) -> None:
        linked = [
            Link(link, section.key if (section := section_of(link)) else None, title) for link, title in links
        ]
        self.state.listing_read(url, section_key, last_page, linked, utc_now())
        self.count("listing_pages_read")

    def listing_failed(self, url: str, section_key: str) -> None:
        self.state.settle([Settled(url)], self.run_id)
        self.state.forget_walk(section_key)

    def fetched(self, url: str, listed_url: str, last_modified: str | None, etag: str | None) -> None:
        self.fetches[url] = Fetch(listed_url, Validators(last_modified, etag))

    # What the pipeline asks -------------------------------------------------------------------

    def page(self, url: str) -> tuple[str | None, str | None]:
        """The key a URL stands for and the content hash the page had last, if known."""
        return self.run_pages.get(url) or self.state.page(url)

    def article(self, key: str) -> KnownArticle | None:
        return self.run_articles.get(key) or self.state.article(key)

    def accept(self, article: Article) -> Article:
        """Give ``article`` its key, version and change, or drop it as not new."""
        urls = page_urls(article.url, self.fetches.get(article.url))
        if article.url in self.run_urls:
            if urls[0] != article.url and (written := self.run_pages.get(article.url)):
                # Listed under another URL that redirects to a page this run wrote: one more
                # URL of that article, like a copy on the old host.
                raise Alias(f"{urls[0]} redirects to {article.url}, written in this run", key=written[0])
            raise DuplicateUrl(f"already in this run: {article.url}")
        self.run_urls.add(article.url)
        key, page_hash = next((found for found in map(self.page, urls) if found[0]), (None, None))
        content = (article.lang, article.date, article.content_hash)
        if key is None:
            if same := self.run_content.get(content) or self.state.article_with_content(*content):
                raise Alias(f"same title, date and body as {same.url}: {article.url}", key=same.key)
            # A new URL of a TRS document already known (same site and id) is the same article.
            key = f"{article.site}/{article.doc_id}"
        known = self.article(key)
        # A page is compared with what it held itself: the copy on the other host may differ.
        if known is not None and article.content_hash in (page_hash, known.content_hash):
            raise Unchanged(f"content unchanged since version {known.version}: {article.url}", key=key)
        article.key = key
        article.version = known.version + 1 if known else 1
        article.change = "changed" if known else "new"
        record = KnownArticle(key, known.url if known else article.url, article.version, article.content_hash)
        self.run_articles[key] = record
        self.run_content[content] = record
        for url in urls:
            self.run_pages[url] = (key, article.content_hash)
        self.count(article.change)
        return article

    # Signals ------------------------------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self.exporter = self.crawler.get_extension(FeedExporter)
        if not self.takes_articles():
            logger.warning("No feed takes the records: this crawl writes nothing and learns nothing")
        self.state.start_run(self.run_id, utc_now())
        paths = [local_path(template.replace("%(name)s", spider.name)) for template in self.feed_templates()]
        for path in filter(None, paths):
            if path.parent.is_dir():
                remove_abandoned_parts(path.parent)
                if self.state.persistent:
                    self.adopt(feed_files(path))
        if self.state.persistent and not any(
            path and writes_run_files(path, self.state.path) for path in paths
        ):
            # Scrapyd's items_dir, or -s FEEDS={} -O file: records the state counts as written,
            # but in files that the export and the report, reading the state's folder, never see.
            logger.warning(
                "No feed writes run files (%s) beside the crawl state: cnis-crawler export and"
                " report will not see this run's records, though later runs count them as known",
                Path(self.state.path).parent / RUN_FILES,
            )

    def feed_templates(self) -> list[str]:
        return list(self.exporter.feeds) if self.exporter else []

    def takes_articles(self) -> bool:
        filters = self.exporter.filters.values() if self.exporter else ()
        return any(
            not item_filter.item_classes or Article in item_filter.item_classes for item_filter in filters
        )

    def adopt(self, files: list[Path]) -> None:
        """Read in feed files a killed run stored without telling the state (it died between the
        two, or before its other feeds were stored), so their records are not written twice."""
        for path in sorted(files):
            if self.state.file_known(path):
                continue
            new, foreign = self.state.adopt(path, self.run_id, utc_now())
            self.count("adopted", new)
            if new or foreign:
                logger.warning(
                    "Feed file %s was not known to the crawl state: %d records adopted, %d lines"
                    " that are no record of this crawler ignored",
                    *(path, new, foreign),
                )

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
        self.ledger.record(written, self.batches_taking(item))

    def batches_taking(self, item: Article) -> set[Batch]:
        """The feed batches the exporter put ``item`` into: it numbers them as counted here."""
        batches = set()
        for template, options in self.exporter.feeds.items() if self.exporter else ():
            if self.exporter.filters[template].accepts(item):  # type: ignore[union-attr]
                self.accepted_by_feed[template] += 1
                size = options.get("batch_item_count") or 0
                batches.add((template, (self.accepted_by_feed[template] - 1) // size + 1 if size else 1))
        return batches

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        url = str(getattr(item, "url", ""))
        fetch = self.fetches.pop(url, None)
        urls, now = page_urls(url, fetch), utc_now()
        if isinstance(exception, NotNew):
            self.count(exception.counter)
            key = exception.key or self.page(url)[0]
            if key is None:  # a 304 for a page the state does not know: nothing to update
                self.ledger.note(Settled(url))
                return
            content_hash = item.content_hash if isinstance(item, Article) else None
            validators = fetch.validators if fetch else Validators()
            self.ledger.note(Seen(key, urls, now, validators, content_hash), after_key=key)
        elif isinstance(exception, DuplicateUrl):
            self.ledger.note(Settled(url), after_url=url)
        else:
            permanent = isinstance(exception, Drop) and exception.permanent
            for page_url in urls:
                self.ledger.note(Failed(page_url, type(exception).__name__, str(exception), permanent, now))

    def item_error(self, item: Any, failure: Failure) -> None:
        url = str(getattr(item, "url", ""))
        for page_url in page_urls(url, self.fetches.pop(url, None)):
            self.ledger.note(
                Failed(page_url, failure.type.__name__, failure.getErrorMessage(), False, utc_now())
            )

    def feed_slot_closed(self, slot: FeedSlot) -> None:
        stored = self.slot_stored(slot)
        entries = self.ledger.batch_stored((slot.uri_template, slot.batch_id), stored)
        if stored and (path := local_path(slot.uri)) and path.is_file():
            self.run_files.append((path, entries))
        self.register_files()

    def slot_stored(self, slot: FeedSlot) -> bool:
        """Our file storage says so; of another (S3, FTP …) Scrapy only counts the failures."""
        stored = getattr(slot.storage, "stored", None)
        if stored is None:
            stored = not self.stats.get_value(f"feedexport/failed_count/{type(slot.storage).__name__}")
        return bool(stored)

    def register_files(self) -> None:
        """Note the files all of whose records are known; a file not noted is read in by the next
        run (:meth:`adopt`)."""
        for path, entries in list(self.run_files):
            if all(entry.stored for entry in entries):
                self.state.file_stored(path, len(entries), utc_now())
                self.run_files.remove((path, entries))

    def feed_exporter_closed(self) -> None:
        self.feeds_closed = True
        if self.close_reason is not None:
            self.finish()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.close_reason = reason
        if self.exporter is None or self.feeds_closed:
            self.finish()

    def finish(self) -> None:
        reason = self.close_reason or "unknown"
        self.ledger.flush()
        self.register_files()
        self.count("stored", self.ledger.stored_records)
        if not_stored := self.ledger.records_not_stored:
            self.count("not_stored", not_stored)
            logger.warning(
                "%d records were not stored in every feed: the next run fetches them again", not_stored
            )
        # A crawl judged unhealthy (cnis_crawler.health) also ran to its end: its walks count.
        if reason == "finished" or reason in HEALTH_REASONS:
            if self.job is not None:
                finish_job(self.job.directory)
            self.state.finish_listings()
            self.state.update_walks(utc_now())
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
        if self.job is not None and self.job.lock is not None:
            self.job.lock.close()


def local_path(uri: str) -> Path | None:
    """The file a feed URI names, or None for a remote feed (S3, FTP …)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return Path(uri) if not parts.scheme else None


def writes_run_files(template: Path, state_path: str) -> bool:
    """Whether a feed's files are run files the export reads: ``cnis-*.jsonl`` in the folder of
    the crawl state."""
    in_state_folder = template.parent.resolve() == Path(state_path).parent.resolve()
    return in_state_folder and fnmatch(PLACEHOLDER_RE.sub("x", template.name), RUN_FILES)


def feed_files(template: Path) -> list[Path]:
    """The files a feed's path template has produced: its placeholders read as wildcards."""
    pattern = PLACEHOLDER_RE.sub("*", template.name)
    return [match for match in template.parent.glob(pattern) if match.is_file()]


def page_urls(url: str, fetch: Fetch | None) -> tuple[str, ...]:
    """The page's URL, and the URL it was listed under when a redirect led to it."""
    return (url,) if fetch is None or fetch.listed_url == url else (fetch.listed_url, url)


def open_job(crawler: Crawler) -> Job | None:
    """Give the spider a JOBDIR under ``CNIS_JOBS_DIR`` unless the user chose one (or ``""``),
    lock it, and make it safe to open (see :mod:`cnis_crawler.jobdir`)."""
    settings = crawler.settings
    if settings.get("JOBDIR") is None and settings.get("CNIS_JOBS_DIR"):
        settings.set(
            "JOBDIR", str(Path(settings["CNIS_JOBS_DIR"], crawler.spidercls.name)), priority="default"
        )
    if not settings.get("JOBDIR"):
        return None
    directory = Path(settings["JOBDIR"])
    directory.parent.mkdir(parents=True, exist_ok=True)
    lock = exclusive_lock(directory.with_name(f"{directory.name}.lock"))
    found, queued = prepare_job(directory, crawler.request_fingerprinter)
    if found != "new":
        logger.info("Job directory %s: %s", directory, found)
    pages = {work[1] for request in queued if (work := request.get("meta", {}).get(WORK_META))}
    return Job(directory, lock, pages)


class UsesIncrementalCrawl:
    """A component working with the run's :class:`IncrementalCrawl`; off without it."""

    def __init__(self, incremental: IncrementalCrawl) -> None:
        self.incremental = incremental

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        incremental = crawler.get_extension(IncrementalCrawl)
        if incremental is None:
            raise NotConfigured("needs the IncrementalCrawl extension")
        return cls(incremental)


class InFlightMiddleware(UsesIncrementalCrawl):
    """Downloader middleware, first of all: a request leaves the scheduler's queue here, so from
    here on the state keeps the page as begun until the run settles it.

    A request that a killed run queued for another address of the site (the mirror of
    ``make demo`` gets a new port each time) goes back to the queue with this run's address."""

    def process_request(self, request: Request) -> Request | None:
        addressing = getattr(self.incremental.crawler.spider, "addressing", None)
        if addressing is not None and (url := addressing.refetch_url(request.url)) != request.url:
            self.incremental.count("readdressed")
            return request.replace(url=url)
        if work := request.meta.get(WORK_META):
            self.incremental.begin(*work)
        return None


class VersionArticlePipeline(UsesIncrementalCrawl):
    """Article -> the same article with ``key``, ``version`` and ``change``; or a drop:
    :class:`~cnis_crawler.drops.Unchanged`, :class:`~cnis_crawler.drops.Alias`,
    :class:`~cnis_crawler.drops.DuplicateUrl`."""

    def process_item(self, item: object) -> object:
        return self.incremental.accept(item) if isinstance(item, Article) else item
