"""What became of each fetched page, told to the crawl state once it is safe to believe.

:class:`RecordKeeper` (an extension) hears every item's outcome (a record scraped into feed
batches, a drop with its reason, a pipeline error) and every feed batch stored, and hands them
to a :class:`~cnis_crawler.memory.ledger.Ledger`, which decides when each may go into the state.
A record is known once every feed batch it went into is stored: a run killed before that leaves
the article unknown, and the next run fetches and writes it again. Feed files that a killed run
stored without telling the state are read in (adopted) when the next run opens.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.extensions.feedexport import FeedExporter

from cnis_crawler.crawling.config import number
from cnis_crawler.crawling.drops import Drop, DuplicateUrl, NotNew, failure_name
from cnis_crawler.crawling.items import Article, Fetch, page_urls
from cnis_crawler.memory.files import (
    RUN_FILE_RE,
    RUN_FILES,
    feed_files,
    local_path,
    records_in,
    remove_abandoned_parts,
    writes_run_files,
)
from cnis_crawler.memory.ledger import Batch, Entry, Ledger
from cnis_crawler.memory.state import Failed, Seen, Settled, Validators, Written, utc_now

if TYPE_CHECKING:
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.extensions.feedexport import FeedSlot
    from twisted.python.failure import Failure

    from cnis_crawler.crawling.memory import CrawlMemory

logger = logging.getLogger(__name__)


def validators_of(item: Any) -> Validators:
    fetch: Fetch | None = getattr(item, "fetch", None)
    return fetch.validators if fetch else Validators()


class RecordKeeper:
    def __init__(self, crawler: Crawler, memory: CrawlMemory, commit_every: int) -> None:
        self.crawler = crawler
        self.memory = memory
        self.state = memory.state
        self.ledger = Ledger(memory.state, memory.run_id, commit_every)
        self.exporter: FeedExporter | None = None
        self.accepted_by_feed: Counter[str] = Counter()
        self.run_files: list[tuple[Path, list[Entry]]] = []
        self.counting_feeds: set[str] = set()
        """The feeds whose batches make a record known: those writing run files."""
        self.closed = False
        self.feeds_closed = False

    @classmethod
    def connect(cls, crawler: Crawler, memory: CrawlMemory) -> Self:
        """The keeper of ``memory``'s crawl, hearing the crawl's signals (connected after the
        memory's own, so the run is started before anything is kept)."""
        commit_every = number(crawler.settings, "CNIS_STATE_COMMIT_EVERY", 100, 1)
        keeper = cls(crawler, memory, commit_every)
        for handler, signal in (
            (keeper.spider_opened, signals.spider_opened),
            (keeper.item_scraped, signals.item_scraped),
            (keeper.item_dropped, signals.item_dropped),
            (keeper.item_error, signals.item_error),
            (keeper.feed_slot_closed, signals.feed_slot_closed),
            (keeper.feed_exporter_closed, signals.feed_exporter_closed),
            (keeper.spider_closed, signals.spider_closed),
        ):
            crawler.signals.connect(handler, signal=signal)
        return keeper

    def spider_opened(self, spider: Spider) -> None:
        self.ledger.run_id = self.memory.run_id
        self.exporter = self.crawler.get_extension(FeedExporter)
        if not self.takes_articles():
            logger.warning("No feed takes the records: this crawl writes nothing and learns nothing")
        if self.state.persistent:
            self.check_run_files()
        paths = {
            template: local_path(template.replace("%(name)s", spider.name))
            for template in self.feed_templates()
        }
        for path in filter(None, paths.values()):
            if path.parent.is_dir():
                remove_abandoned_parts(path.parent)
        if not self.state.persistent:
            self.counting_feeds = set(paths)
            return
        # Only what the run files hold is known: the export and the report read them, and the
        # next run fetches again what a user's own feed alone took (-O file, S3, Scrapyd's items).
        self.counting_feeds = {
            template for template, path in paths.items() if path and writes_run_files(path, self.state.path)
        }
        for template in self.counting_feeds:
            if (template_path := paths[template]) is not None and template_path.parent.is_dir():
                self.adopt([found for found in feed_files(template_path) if RUN_FILE_RE.match(found.name)])
        if not self.counting_feeds:
            logger.warning(
                "No feed writes run files (%s) beside the crawl state: this run's records go to your"
                " feeds alone, the state does not count them as known, and export and report do not"
                " see them",
                Path(self.state.path).parent / RUN_FILES,
            )

    def check_run_files(self) -> None:
        """A run file gone, cut short or changed since it was stored (disk trouble, a bad copy, an
        edit) no longer holds what the state counts as known: the articles it alone held are
        fetched again by this run (the state goes back to what the run files hold)."""
        if not (changed := self.state.changed_files()):
            return
        for path, how in changed:
            logger.warning(
                "Run file %s is %s since it was stored: the articles it alone held are fetched again,"
                " the records it still holds count as they read now",
                path,
                how,
            )
        present: set[tuple[str, int]] = set()
        files = []
        for path in self.state.known_files():
            if path.is_file():
                held = set(records_in(path))
                present |= held
                files.append((path, len(held)))
        lost = self.state.keep_only(present, files, utc_now())
        self.memory.count("lost_records_refetched", len(lost))
        if lost:
            logger.warning(
                "%d articles are no longer in the run files: this run fetches them again", len(lost)
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
        for path, new, foreign in self.state.adopt_files(files, self.memory.run_id, utc_now()):
            self.memory.count("adopted", new)
            if new or foreign:
                logger.warning(
                    "Feed file %s was not known to the crawl state: records adopted: %d; lines that"
                    " are no record of this crawler, ignored: %d",
                    *(path, new, foreign),
                )

    # Outcomes -----------------------------------------------------------------------------------

    def item_scraped(self, item: Any) -> None:
        if not isinstance(item, Article):
            return
        written = Written(
            key=item.key,
            url=item.url,
            lang=item.lang,
            date=item.date,
            title=item.title,
            content_hash=item.content_hash,
            version=item.version,
            at=item.fetched_at,
            urls=page_urls(item),
            validators=validators_of(item),
        )
        self.ledger.record(written, self.batches_taking(item))

    def batches_taking(self, item: Article) -> set[Batch]:
        """The feed batches the exporter put ``item`` into: it numbers them as counted here."""
        batches = set()
        exporter = self.exporter
        for template, options in exporter.feeds.items() if exporter else ():
            if template not in self.counting_feeds:
                continue
            if exporter is not None and exporter.filters[template].accepts(item):
                self.accepted_by_feed[template] += 1
                size = options.get("batch_item_count") or 0
                batches.add((template, (self.accepted_by_feed[template] - 1) // size + 1 if size else 1))
        return batches

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        url, urls, now = str(getattr(item, "url", "")), page_urls(item), utc_now()
        if isinstance(exception, NotNew):
            self.memory.count(exception.counter)
            key = exception.key or self.state.page(url)[0]
            if key is None:  # a 304 for a page the state does not know: nothing to update
                self.ledger.note(Settled(url))
                return
            content_hash = item.content_hash if isinstance(item, Article) else None
            self.ledger.note(Seen(key, urls, now, validators_of(item), content_hash), after_key=key)
        elif isinstance(exception, DuplicateUrl):
            self.ledger.note(Settled(url), after_url=url)
        else:
            permanent = isinstance(exception, Drop) and exception.permanent
            for page_url in urls:
                self.ledger.note(Failed(page_url, type(exception).__name__, str(exception), permanent, now))

    def item_error(self, item: Any, failure: Failure) -> None:
        for page_url in page_urls(item):
            self.ledger.note(
                Failed(page_url, failure_name(failure), failure.getErrorMessage(), False, utc_now())
            )

    # Feed batches -------------------------------------------------------------------------------

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
            failed = f"feedexport/failed_count/{type(slot.storage).__name__}"
            stored = not self.crawler.stats.get_value(failed)
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
        if self.closed:
            self.finish()

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.closed = True
        if self.exporter is None or self.feeds_closed:
            self.finish()

    def finish(self) -> None:
        self.ledger.flush()
        self.register_files()
        self.memory.count("stored", self.ledger.stored_records)
        if not_stored := self.ledger.records_not_stored:
            self.memory.count("not_stored", not_stored)
            logger.warning(
                "%d records are in no run file stored: the next run fetches them again", not_stored
            )
