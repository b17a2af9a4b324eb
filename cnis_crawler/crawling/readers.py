"""Pages read in worker processes, off the crawl's own thread.

Reading a page (parsing it, finding its links and fields: pure functions of
:mod:`cnis_crawler.extraction`) costs about as much as everything Scrapy does to fetch it, and
Scrapy runs in one thread. :class:`PageReaders` (an extension) keeps ``CNIS_EXTRACTION_WORKERS``
worker processes (default: every core but the one the crawl runs on); the spider and the item
pipeline await a reading there while the crawl's thread goes on fetching.

Each worker is one process at the end of a pipe that the crawl's event loop watches, as it
watches its sockets: no thread in the crawl's process, no wake-up from another thread. A worker
with :data:`BACKLOG` readings waiting is busy enough, and the page is read in the crawl's thread
instead, so both cores work when the workers fall behind. With 0 workers, without the asyncio
reactor, or before the spider opens (``scrapy parse``, a test), pages are read in the calling
thread: the functions and their results are the same. A worker that dies (killed, out of memory)
costs no page: what it held is read again in the crawl's thread, which reads every later page too;
so does one that holds a page longer than ``CNIS_READING_TIMEOUT`` (60 s), killed as hung.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import pickle
import socket
import struct
import time
from contextlib import suppress
from itertools import count
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from scrapy import signals
from scrapy.utils.asyncio import create_looping_call, is_asyncio_available

from cnis_crawler.crawling.config import number
from cnis_crawler.extraction.reading import read_article

if TYPE_CHECKING:
    from collections.abc import Callable
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from scrapy.utils.asyncio import AsyncioLoopingCall
    from twisted.internet.task import LoopingCall

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")
TIMEOUT = 60.0
"""Seconds a worker may take over one page (a 10 MB page takes a few) before it is taken for hung."""
WATCH_INTERVAL = 5.0
BACKLOG = 16
"""Readings a worker may hold (sent, not answered) before the next page is read in the crawl."""
HEADER = 4
"""The length of a message, before it (multiprocessing's framing, for messages under 2 GiB)."""


def default_workers() -> int:
    """Every core but the one the crawl itself runs on."""
    return max(0, (os.cpu_count() or 1) - 1)


def serve(connection: Connection) -> None:
    """A worker: calls what it is sent, and answers, until its pipe closes (the crawl ended)."""
    read_article("<html><body><p>warm</p></body></html>", "https://en.cnis.ac.cn/")  # the imports
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        number, function, args = message
        try:
            answer = (number, True, function(*args))
        except Exception as error:  # noqa: BLE001 (the caller raises it, as if called there)
            answer = (number, False, error)
        connection.send(answer)


class WorkerDiedError(Exception):
    pass


class Worker(asyncio.Protocol):
    """One worker process, and the crawl's end of its pipe: the event loop writes what it is sent
    (never blocking: the transport buffers it) and reads its answers as they come, in the
    framing of :class:`multiprocessing.connection.Connection`, which the worker uses."""

    def __init__(self) -> None:
        # spawn, not fork: a fork of a process running a reactor and its threads may deadlock.
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self.process: BaseProcess = context.Process(target=serve, args=(theirs,), daemon=True)
        self.process.start()
        theirs.close()
        self.socket = socket.socket(fileno=os.dup(ours.fileno()))
        ours.close()
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.sent: dict[int, float] = {}
        """When each waiting reading was sent (monotonic seconds)."""
        self.numbers = count()
        self.alive = True

    async def connect(self) -> None:
        await asyncio.get_running_loop().create_unix_connection(lambda: self, sock=self.socket)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def call(self, function: Callable[..., Any], args: tuple[Any, ...]) -> asyncio.Future[Any]:
        assert self.transport is not None
        number = next(self.numbers)
        self.waiting[number] = future = asyncio.get_running_loop().create_future()
        self.sent[number] = time.monotonic()
        message = pickle.dumps((number, function, args), protocol=pickle.HIGHEST_PROTOCOL)
        self.transport.write(struct.pack("!i", len(message)) + message)
        return future

    def data_received(self, data: bytes) -> None:
        self.received += data
        while len(self.received) >= HEADER:
            (size,) = struct.unpack_from("!i", self.received)
            if len(self.received) < HEADER + size:
                return
            number, ok, value = pickle.loads(self.received[HEADER : HEADER + size])
            del self.received[: HEADER + size]
            future = self.waiting.pop(number)
            self.sent.pop(number, None)
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        for future in self.waiting.values():
            if not future.done():
                future.set_exception(WorkerDiedError())
        self.waiting.clear()
        self.sent.clear()

    def busy_for(self) -> float:
        """Seconds the oldest reading it holds has waited (0 when it holds none)."""
        return time.monotonic() - min(self.sent.values()) if self.sent else 0.0

    def kill(self) -> None:
        """A worker that stopped answering: ended, and what it held is read elsewhere."""
        self.process.kill()
        self.connection_lost(None)

    def stop(self) -> None:
        # The worker reads the end of its pipe and returns. (Closing the transport closes the
        # socket only on the loop's next turn, after this join.)
        with suppress(OSError):
            self.socket.shutdown(socket.SHUT_RDWR)
        if self.transport is not None:
            self.transport.close()
        else:
            self.socket.close()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class PageReaders:
    """Stats: ``readers/in_worker`` and ``readers/in_crawl`` (pages read in the crawl's thread)."""

    def __init__(self, workers: int, stats: StatsCollector | None = None, timeout: float = TIMEOUT) -> None:
        self.workers = workers
        self.stats = stats
        self.timeout = timeout
        self.pool: list[Worker] = []
        self.watch: AsyncioLoopingCall | LoopingCall | None = None
        self.died_told = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        workers = number(crawler.settings, "CNIS_EXTRACTION_WORKERS", default_workers(), 0)
        timeout = number(crawler.settings, "CNIS_READING_TIMEOUT", TIMEOUT, 0.0, above_minimum=True)
        readers = cls(workers, crawler.stats, timeout)
        crawler.signals.connect(readers.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(readers.spider_closed, signal=signals.spider_closed)
        return readers

    async def spider_opened(self) -> None:
        if self.workers and is_asyncio_available():
            self.pool = [Worker() for _ in range(self.workers)]
            for worker in self.pool:
                await worker.connect()
            self.watch = create_looping_call(self.end_hung_workers)
            self.watch.start(min(WATCH_INTERVAL, self.timeout / 2), now=False)

    def end_hung_workers(self) -> None:
        """A worker holding a reading for longer than ``CNIS_READING_TIMEOUT`` is stopped (by the
        system, or stuck): killed, and its readings are done in the crawl's thread."""
        for worker in self.pool:
            if worker.alive and worker.busy_for() > self.timeout:
                logger.error(
                    "A page-reading worker process held a page for over %.0f s: killed", self.timeout
                )
                worker.kill()

    def spider_closed(self) -> None:
        if self.watch is not None and self.watch.running:
            self.watch.stop()
        for worker in self.pool:
            worker.stop()
        self.pool = []

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``function(*args)`` in the least busy worker (a module-level function: it is sent by
        name), or here when there is none, all are busy or the worker dies meanwhile."""
        idle = [worker for worker in self.pool if worker.alive and len(worker.waiting) < BACKLOG]
        if kwargs or not idle:
            return self.here(function, *args, **kwargs)
        worker = min(idle, key=lambda worker: len(worker.waiting))
        try:
            result: T = await worker.call(function, args)
        except WorkerDiedError:
            if not self.died_told:  # once: a worker holds up to BACKLOG readings
                logger.error("A page-reading worker process died: the crawl's thread reads its pages")
                self.died_told = True
            return self.here(function, *args, **kwargs)
        self.count("in_worker")
        return result

    def here(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        self.count("in_crawl")
        return function(*args, **kwargs)

    def count(self, where: str) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"readers/{where}")


async def read(readers: PageReaders | None, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``function(*args, **kwargs)`` through ``readers`` if there are any, else here."""
    if readers is None:
        return function(*args, **kwargs)
    return await readers.run(function, *args, **kwargs)
