"""What a run has observed, held until it is safe to believe, then stored in the crawl state.

No Scrapy here: :mod:`cnis_crawler.crawling.records` tells the ledger what happened (a record went
into batch 3 of a feed, that batch file was stored, a page was unchanged …); the ledger decides
when each observation may go into :class:`~cnis_crawler.memory.state.CrawlState`:

- a record (:class:`~cnis_crawler.memory.state.Written`) once every feed batch it went into is stored;
- an observation that depends on another (an alias on the record of its article; a duplicate
  page on the record of its first copy) once that one is stored;
- anything else at once.

What is ready is committed in one transaction: when a feed batch is stored, when
``commit_every`` observations are ready, and when the run ends (a commit each cost more than the
observation). A kill loses at most what was not committed yet, which only makes the next run
fetch those pages again: nothing is stored before what it depends on.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cnis_crawler.memory.state import Written

if TYPE_CHECKING:
    from cnis_crawler.memory.state import CrawlState, Observation

Batch = tuple[str, int]
"""A feed's URI template and the batch number (1 when the feed is not split into batches)."""
NOWHERE: Batch = ("<no feed>", 0)
"""The batch of a record no feed takes: never stored, so never known."""


@dataclass(eq=False)
class Entry:
    observation: Observation
    awaiting: set[Batch] = field(default_factory=set)
    after: Entry | None = None
    stored: bool = False

    @property
    def ready(self) -> bool:
        return not self.awaiting and (self.after is None or self.after.stored)


class Ledger:
    def __init__(self, state: CrawlState, run_id: str, commit_every: int = 1) -> None:
        self.state = state
        self.run_id = run_id
        self.commit_every = commit_every
        self.ready: list[Entry] = []
        """Ready, not yet committed: what waits on them waits on."""
        self.waiting: list[Entry] = []
        self.batches: dict[Batch, list[Entry]] = defaultdict(list)
        self.records_by_key: dict[str, Entry] = {}
        self.records_by_url: dict[str, Entry] = {}
        self.closed: dict[Batch, bool] = {}
        """Batches closed so far, and whether stored: with a reactor other than asyncio's,
        Scrapy closes the batch a record completes before the record is reported here."""
        self.stored_records = 0

    def record(self, written: Written, batches: set[Batch]) -> None:
        entry = Entry(written, awaiting={NOWHERE} if not batches else set())
        for batch in batches:
            if batch not in self.closed:
                entry.awaiting.add(batch)
                self.batches[batch].append(entry)
            elif not self.closed[batch]:
                entry.awaiting.add(NOWHERE)
        self.records_by_key[written.key] = entry
        for url in written.urls:
            self.records_by_url[url] = entry
        self.add(entry)

    def note(
        self, observation: Observation, after_key: str | None = None, after_url: str | None = None
    ) -> None:
        """An observation that is true now, or once the pending record it names is stored."""
        after = self.records_by_key.get(after_key or "") or self.records_by_url.get(after_url or "")
        self.add(Entry(observation, after=after))

    def add(self, entry: Entry) -> None:
        if entry.ready:
            self.ready.append(entry)
            if len(self.ready) >= self.commit_every:
                self.flush()
        else:
            self.waiting.append(entry)

    def batch_stored(self, batch: Batch, stored: bool) -> list[Entry]:
        """The batch file was closed; if ``stored``, its records are on disk. Returns its entries."""
        entries = self.batches.pop(batch, [])
        self.closed[batch] = stored
        if stored:
            for entry in entries:
                entry.awaiting.discard(batch)
            self.flush()
        return entries

    def flush(self) -> None:
        """Commit everything ready, and what becomes ready with it, in one transaction."""
        ready, self.ready = self.ready, []
        for entry in ready:
            entry.stored = True
        for entry in self.waiting:  # in order: what an entry waits for came before it
            if entry.ready:
                entry.stored = True
                ready.append(entry)
        if not ready:
            return
        self.waiting = [entry for entry in self.waiting if not entry.stored]
        try:
            self.state.settle([entry.observation for entry in ready], self.run_id)
        except BaseException:
            for entry in ready:  # not stored after all: they wait for the next commit
                entry.stored = False
            self.waiting = ready + self.waiting
            raise
        for entry in ready:
            if isinstance(written := entry.observation, Written):
                self.stored_records += 1
                self.records_by_key.pop(written.key, None)
                for url in written.urls:
                    self.records_by_url.pop(url, None)

    @property
    def records_not_stored(self) -> int:
        return sum(isinstance(entry.observation, Written) for entry in self.waiting)
