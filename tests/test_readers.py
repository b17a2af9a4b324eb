"""Pages read in a worker process: the same readings as in the crawl's thread, and none lost."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import time
from typing import TYPE_CHECKING, Any

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from cnis_crawler.crawling.readers import PageReaders, read
from cnis_crawler.extraction.reading import Reading, read_article
from tests.conftest import article_pages, live_url, page_text

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import pytest

PAGE = article_pages()[0]


def read_or_die(*arguments: Any) -> Reading:
    """read_article, except in a worker process, which it kills (as the system would, short of
    memory)."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    return read_article(*arguments)


def stuck_in_a_worker(*arguments: Any) -> Reading:
    """read_article, except in a worker process, which stops answering (as a stopped process)."""
    if multiprocessing.parent_process() is not None:
        time.sleep(3600)
    return read_article(*arguments)


def with_readers(
    workers: int, use: Callable[[PageReaders], Awaitable[Any]], timeout: float = 60
) -> tuple[Any, dict[str, Any]]:
    """What ``use`` returns from readers opened as for a crawl, and the stats they kept."""
    stats = MemoryStatsCollector(get_crawler())
    readers = PageReaders(workers, stats, timeout)

    async def run() -> Any:
        await readers.spider_opened()
        try:
            return await use(readers)
        finally:
            readers.spider_closed()

    return asyncio.run(run()), stats.get_stats()


def test_a_page_read_in_a_worker_is_read_as_in_the_crawl() -> None:
    html, url = page_text(PAGE), live_url(PAGE)

    async def use(readers: PageReaders) -> tuple[int, Reading]:
        return await readers.run(os.getpid), await readers.run(read_article, html, url)

    (worker, reading), stats = with_readers(1, use)
    assert worker != os.getpid()
    assert reading == read_article(html, url)
    assert stats == {"readers/in_worker": 2}


def test_without_workers_a_page_is_read_in_the_crawl() -> None:
    async def use(readers: PageReaders) -> int:
        return await readers.run(os.getpid)

    assert with_readers(0, use) == (os.getpid(), {"readers/in_crawl": 1})
    assert asyncio.run(read(None, os.getpid)) == os.getpid()


def test_a_worker_that_dies_costs_no_page(caplog: pytest.LogCaptureFixture) -> None:
    html, url = page_text(PAGE), live_url(PAGE)

    async def use(readers: PageReaders) -> list[Reading]:
        return list(await asyncio.gather(*(readers.run(read_or_die, html, url) for _ in range(3))))

    readings, stats = with_readers(1, use)
    assert readings == [read_article(html, url)] * 3
    assert stats == {"readers/in_crawl": 3}
    assert "A page-reading worker process died" in caplog.text


def test_a_worker_that_stops_answering_is_killed_and_costs_no_page(caplog: pytest.LogCaptureFixture) -> None:
    html, url = page_text(PAGE), live_url(PAGE)

    async def use(readers: PageReaders) -> tuple[Reading, float]:
        started = time.monotonic()
        reading = await readers.run(stuck_in_a_worker, html, url)
        return reading, time.monotonic() - started

    (reading, seconds), stats = with_readers(1, use, timeout=1)
    assert reading == read_article(html, url)
    assert 1 <= seconds < 5
    assert stats == {"readers/in_crawl": 1}
    assert "held a page for over 1 s: killed" in caplog.text


def test_a_busy_worker_leaves_the_next_page_to_the_crawl() -> None:
    async def use(readers: PageReaders) -> list[int]:
        return list(await asyncio.gather(*(readers.run(os.getpid) for _ in range(20))))

    pids, stats = with_readers(1, use)
    assert stats == {"readers/in_worker": 16, "readers/in_crawl": 4}  # BACKLOG waiting at most
    assert pids.count(os.getpid()) == 4
