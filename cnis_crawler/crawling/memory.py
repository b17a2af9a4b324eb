"""The crawl state as a crawl sees it: opened and locked for the run, asked what is worth fetching
and what an earlier run left undone, told what each listing page linked, closed at the end.

A run resumes from the state alone (no ``JOBDIR``): what a stopped or killed run left is

- the listing pages it had queued and not read (each read page queues the next in the same
  transaction that stores what it linked), read again, so every section's walk goes on;
- the articles a page linked that nothing settled since (no record, alias or failure),
  fetched without reading their listings again;
- the failures that may pass, tried again;
- for a ``-a full=1`` or ``-a revalidate=1`` run cut short, what its pass had not done yet: the
  next run given the same argument skips what was settled since the pass began.

Settings: ``CNIS_STATE_PATH`` (empty: in memory, every run a first run), ``CNIS_RECHECK_PAGES``
(all-known listing pages read before a section stops paging).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals

from cnis_crawler.crawling.config import number
from cnis_crawler.crawling.extensions import (
    FIRST_PAGE_ARTICLES,
    SECTION_KIND,
    SECTION_WHY,
    final_reason,
    section_table,
)
from cnis_crawler.crawling.health import REASONS as HEALTH_REASONS
from cnis_crawler.crawling.records import RecordKeeper
from cnis_crawler.extraction import Listed
from cnis_crawler.extraction.listing import title_only
from cnis_crawler.memory.files import run_time
from cnis_crawler.memory.state import (
    CRAWLED,
    NO_LISTING,
    STATE_MOVED_ASIDE,
    CrawlState,
    Link,
    SectionVerdict,
    Settled,
    utc_now,
)
from cnis_crawler.urls import section_of

if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Self

    from scrapy import Spider
    from scrapy.crawler import Crawler

    from cnis_crawler.memory.state import Validators

logger = logging.getLogger(__name__)

STATS_PREFIX = "incremental/"
JOBDIR_REFUSED = (
    "JOBDIR is not used by cnis-crawler: the crawl state (CNIS_STATE_PATH) resumes a stopped or"
    " killed run by itself, and a job directory's seen requests would make later runs skip"
    " articles. Leave JOBDIR unset (and Scrapyd's jobs_dir empty)."
)


def listed_json(listed: Listed | None) -> str | None:
    return json.dumps(asdict(listed), ensure_ascii=False) if listed is not None else None


def listed_from_json(text: str | None, title: str | None = None) -> Listed | None:
    """What a listing showed of an article, as the state kept it (a link stored by an earlier
    version kept only its text: a title of last resort)."""
    return Listed(**json.loads(text)) if text else title_only(title)


def project_above(folder: Path) -> Path | None:
    """The nearest folder above ``folder`` holding a ``scrapy.cfg``, when ``folder`` holds none."""
    if (folder / "scrapy.cfg").is_file():
        return None
    return next((parent for parent in folder.parents if (parent / "scrapy.cfg").is_file()), None)


class CrawlMemory:
    def __init__(self, crawler: Crawler, state: CrawlState, recheck_pages: int) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.state = state
        self.recheck_pages = recheck_pages
        self.folder_recheck_days = 7.0
        """How long a folder found no listing section rests before a run reads it again."""
        self.run_id = utc_now()
        self.settled: set[str] | None = None
        """URLs the state knows as articles, or as no article at all, when the run started."""
        self.done_in_pass: set[str] = set()
        """What the interrupted pass this run finishes has settled already."""
        self.pass_run: str | None = None
        """The run that began the pass this run finishes, if it finishes one."""
        self.close_reason: str | None = None
        self.records: RecordKeeper | None = None
        """What became of each page, kept as the state learns it (:mod:`.records`)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if settings.get("JOBDIR"):
            raise ValueError(JOBDIR_REFUSED)
        recheck_pages = number(settings, "CNIS_RECHECK_PAGES", 1, 1)
        folder_recheck_days = number(settings, "CNIS_FOLDER_RECHECK_DAYS", 7.0, 0.0, 36500.0)
        state_path = settings.get("CNIS_STATE_PATH") or None
        if state_path and not Path(state_path).is_absolute() and (project := project_above(Path.cwd())):
            # Scrapy finds the project from a folder below it; relative paths stay relative here.
            logger.warning(
                "The crawl runs in %s, below the project's folder %s: its crawl state and run files"
                " are in %s, a dataset apart from %s",
                *(
                    Path.cwd(),
                    project,
                    Path.cwd() / Path(state_path).parent,
                    project / Path(state_path).parent,
                ),
            )
        state = CrawlState(state_path)
        if state.moved_aside is not None:
            logger.warning(STATE_MOVED_ASIDE, state.path, state.moved_aside)
        memory = cls(crawler, state, recheck_pages)
        memory.folder_recheck_days = folder_recheck_days
        crawler.signals.connect(memory.spider_opened, signal=signals.spider_opened)
        memory.records = RecordKeeper.connect(crawler, memory)
        crawler.signals.connect(memory.spider_closed, signal=signals.spider_closed)
        return memory

    def spider_opened(self, spider: Spider) -> None:
        # Connected now, after every extension's: the run is finished in the state last, once
        # the feeds are stored (cnis_crawler.crawling.records) and the summary is written, so
        # that a summary that could not be written counts in the run's finish reason.
        self.crawler.signals.connect(self.engine_stopped, signal=signals.engine_stopped)
        self.run_id = str(getattr(spider, "run_id", self.run_id))
        mode = str(getattr(spider, "mode", ""))
        self.pass_run = self.state.interrupted_pass(self.run_id, mode)
        now = utc_now()
        self.state.start_run(self.run_id, now, mode, self.pass_run)
        if self.pass_run:
            self.done_in_pass = self.state.settled_in_pass(self.pass_run)
            logger.info(
                "Finishing the %s pass begun by run %s: %d pages of it are done",
                *(mode, self.pass_run, len(self.done_in_pass)),
            )

    # What the spider asks ----------------------------------------------------------------------

    def is_settled(self, url: str) -> bool:
        if self.settled is None:  # read once, when the spider first asks: after files are adopted
            self.settled = self.state.settled_urls()
        return url in self.settled

    def done_in_this_pass(self, url: str) -> bool:
        return url in self.done_in_pass

    def left_undone(self) -> tuple[list[str], list[tuple[str, Listed | None]]]:
        """What earlier runs left: the listing pages to read, and the articles to fetch with what
        their listing showed (the linked articles nothing settled, then the failures that may pass)."""
        unfinished = self.state.unfinished(self.run_id)
        listings = [url for url, kind in unfinished if kind == "listing"]
        # (An earlier version kept begun articles in flight too.)
        found: dict[str, Listed | None] = {}  # by URL: a linked article may have failed before
        for url, listed in [
            *((url, None) for url, kind in unfinished if kind == "article"),
            *((link.url, listed_from_json(link.listed, link.title)) for link in self.state.pending_links()),
            *((url, self.listed(url)) for url in self.state.retryable()),
        ]:
            found[url] = found.get(url) or listed
        return listings, list(found.items())

    def resuming(self, listings: int, articles: int) -> None:
        """Tells what of :meth:`left_undone` this run takes up (another run may take up the rest:
        one of the sites or sections this one leaves alone)."""
        if listings or articles:
            logger.info(
                "Resuming what earlier runs left: %d listing pages to read, %d articles to fetch"
                " (linked and not settled, or failed for a reason that may pass)",
                *(listings, articles),
            )
            self.count("resumed_listing_pages", listings)
            self.count("resumed_articles", articles)

    def known_articles(self) -> Iterable[tuple[str, Listed | None, Validators]]:
        """Every known article with its validators, but those this run's pass has revalidated."""
        for url, validators in self.state.article_urls():
            if url not in self.done_in_pass:
                yield url, self.listed(url), validators

    def listed(self, url: str) -> Listed | None:
        stored = self.state.link(url)
        return listed_from_json(stored.listed, stored.title) if stored else None

    def remembered_sections(self) -> tuple[dict[str, str], list[str]]:
        """The sections earlier runs told, by key: their kind then; and the folders found no
        listing less than ``CNIS_FOLDER_RECHECK_DAYS`` ago, which this run does not read."""
        told = self.state.sections()
        since = run_time(self.run_id) - timedelta(days=self.folder_recheck_days)
        resting = [v.key for v in told if v.kind == NO_LISTING and run_time(v.told_run) > since]
        return {verdict.key: verdict.kind for verdict in told if verdict.kind != NO_LISTING}, resting

    def folders_not_listing(self, folders: dict[str, str]) -> None:
        """Folders whose first page this run read lists nothing under them (why, by key)."""
        verdicts = [SectionVerdict(key, NO_LISTING, why, None) for key, why in folders.items()]
        self.state.sections_told(verdicts, self.run_id)

    def may_stop_paging(self, section_key: str, all_known_pages: int) -> bool:
        """A section whose listing was never read to the end must be, whatever is known."""
        return all_known_pages >= self.recheck_pages and section_key in self.state.walked_sections()

    # What the spider tells ---------------------------------------------------------------------

    def count(self, counter: str, amount: int = 1) -> None:
        self.stats.inc_value(STATS_PREFIX + counter, amount)

    def listing_read(
        self,
        url: str,
        section_key: str,
        links: list[tuple[str, Listed | None]],
        last_page: bool,
        next_page: str | None,
    ) -> None:
        """``next_page``: the page the walk goes on to, None where it ends here."""
        self.state.listing_read(
            url, section_key, self.links(links), utc_now(), last_page, next_page, self.run_id
        )
        self.count("listing_pages_read")

    def links_found(self, page_url: str, links: list[tuple[str, Listed | None]]) -> None:
        """Articles an article page links that this run will fetch: known before they are queued,
        so that a stop loses none of them."""
        if links:
            self.state.links_found(page_url, self.links(links), utc_now())

    @staticmethod
    def links(links: list[tuple[str, Listed | None]]) -> list[Link]:
        return [
            Link(
                url,
                section.key if (section := section_of(url)) else None,
                (listed.text or None) if listed else None,
                listed_json(listed),
            )
            for url, listed in links
        ]

    def section_found(self, section_key: str, why: str, first_page_articles: int) -> None:
        """A section found on the sites and crawled: its articles are resumed, revalidated and
        its first page read by the next runs, this one killed or not."""
        self.state.sections_told(
            [SectionVerdict(section_key, CRAWLED, why, first_page_articles)], self.run_id
        )

    def forget_links(self, urls: list[str]) -> None:
        """Links kept as articles to fetch that are no news: resumed by no run, forgotten."""
        self.state.forget_links(urls)
        self.count("forgotten_links", len(urls))

    def listing_failed(self, url: str, section_key: str) -> None:
        self.state.settle([Settled(url)], self.run_id)
        self.state.forget_walk(section_key)

    # The end of the run ------------------------------------------------------------------------

    def spider_closed(self, spider: Spider, reason: str) -> None:
        self.close_reason = reason

    def engine_stopped(self) -> None:
        reason = self.close_reason or "unknown"
        # A crawl judged unhealthy (cnis_crawler.crawling.health) also ran to its end.
        completed = reason == "finished" or reason in HEALTH_REASONS
        if completed:
            self.state.finish_listings()
            self.state.update_walks(utc_now())
        accounting: dict[str, Any] = {
            key.removeprefix(STATS_PREFIX): value
            for key, value in self.stats.get_stats().items()
            if key.startswith(STATS_PREFIX)
        }
        self.state.sections_told(
            (
                SectionVerdict(key, row[SECTION_KIND], row[SECTION_WHY], row[FIRST_PAGE_ARTICLES])
                for key, row in section_table(self.stats).items()
                if row[SECTION_KIND]
            ),
            self.run_id,
        )
        # The feeds are stored and the summary is written by now.
        reason = final_reason(self.stats.get_stats(), reason)
        self.state.finish_run(self.run_id, utc_now(), reason, accounting, completed)
        logger.info(
            "Incremental accounting: %s; state %s: %s",
            ", ".join(f"{name}={value}" for name, value in sorted(accounting.items())) or "nothing",
            self.state.path,
            ", ".join(f"{table}={rows}" for table, rows in self.state.counts().items()),
        )
        self.state.close()
