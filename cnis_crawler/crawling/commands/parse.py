"""``scrapy parse`` in the project: one page read as the crawl reads it, writing nothing.

- An article page prints the record the item pipelines make of it (or why they drop it), but for
  ``key``, ``version`` and ``change``, which the crawl state decides when a crawl writes it.
- A listing page prints what it links (articles as listed, its pager) and the requests a crawl
  would send next; ``--depth 2`` reads those too.
- A mirror URL (``<mirror>/<host>/<path>``) is fetched from that mirror; a live URL from the site,
  or from ``-a mirror=URL``. Records carry the live URL either way.

No crawl state, run file or summary is touched: the crawl's extensions and feeds are off (see
:data:`~cnis_crawler.crawling.commands.shell.LOOK_ONLY`), unless ``-o`` names a file.
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.commands.parse import Command as ScrapyParseCommand
from scrapy.exceptions import ScrapyDeprecationWarning, UsageError
from scrapy.utils import display

from cnis_crawler.crawling.commands.shell import LOOK_ONLY
from cnis_crawler.crawling.items import Article, record_of
from cnis_crawler.crawling.spider import CnisSpider, describe_failure
from cnis_crawler.site import HOSTS
from cnis_crawler.urls import mirrored_host

if TYPE_CHECKING:
    import argparse

    from scrapy import Request, Spider
    from scrapy.http import Response
    from twisted.python.failure import Failure

VERSIONS_PIPELINE = "cnis_crawler.crawling.versions.VersionArticlePipeline"
logger = logging.getLogger(__name__)

STATE_FIELDS = ("key", "version", "change")
"""Record fields the crawl state decides: a page read alone has none."""


class Command(ScrapyParseCommand):
    def short_desc(self) -> str:
        return "Read one article or listing page as the crawl does and print the record; writes nothing"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        # The pipelines that make the record; the crawl state's (versions) is off with the state.
        pipelines = {**self.settings.getdict("ITEM_PIPELINES"), VERSIONS_PIPELINE: None}
        look_only = {**LOOK_ONLY, "ITEM_PIPELINES": pipelines}
        if opts.output:
            del look_only["FEEDS"]  # the user's own -o file
        self.settings.setdict(look_only, priority="cmdline")
        if len(args) == 1 and (mirror := mirror_of(args[0])):
            opts.spargs.setdefault("mirror", mirror)
        if opts.spider in (None, CnisSpider.name):
            try:  # a bad -a is one line, as for scrapy crawl; Scrapy's own is an asyncio traceback
                CnisSpider(**opts.spargs)
            except ValueError as error:
                raise UsageError(str(error), print_help=False) from None
        # The records are printed as the pipelines made them: every item goes through the
        # engine's pipelines (Scrapy's --pipelines would run them aside, after printing).
        opts.pipelines = False
        # Scrapy's own command wraps every callback in one returning a Deferred, which Scrapy
        # 2.19 warns of as deprecated whatever the spider's callbacks are.
        warnings.filterwarnings("ignore", "(?s).*returned a Deferred", ScrapyDeprecationWarning)
        self.outcomes: dict[int, list[dict[str, Any]]] = defaultdict(list)

    def prepare_request(self, spider: Spider, request: Request, opts: argparse.Namespace) -> Request:
        # Called once, for the page given, as the crawl starts: what becomes of its items is
        # told by the engine's signals.
        spider.crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        spider.crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        # A live URL is fetched where the spider fetches from: the site, or -a mirror=.
        fetched = request.replace(
            url=spider.addressing.refetch_url(request.url),  # type: ignore[attr-defined]
            errback=self.not_fetched,  # one line; Scrapy's own is a traceback
        )
        return super().prepare_request(spider, fetched, opts)

    def not_fetched(self, failure: Failure) -> None:
        logger.error("Could not fetch %s: %s", failure.request.url, describe_failure(failure))  # type: ignore[attr-defined]

    def scraped_data(self, args: tuple[Any, ...]) -> list[Any]:
        items = args[0]
        opts: argparse.Namespace = args[2]
        following = super().scraped_data(args)
        # Handed to the engine, whose pipelines make the record (or drop the page).
        return following if opts.output else [*items, *following]

    def item_scraped(self, item: object, response: Response) -> None:
        if isinstance(item, Article):
            record = {name: value for name, value in record_of(item).items() if name not in STATE_FIELDS}
        else:
            record = ItemAdapter(item).asdict()
        self.outcomes[response.meta.get("_depth", 1)].append(record)

    def item_dropped(self, item: object, response: Response, exception: BaseException) -> None:
        url = getattr(item, "url", None)
        dropped = {"url": url, "dropped": type(exception).__name__, "why": str(exception)}
        self.outcomes[response.meta.get("_depth", 1)].append(dropped)

    def print_items(self, lvl: int | None = None, colour: bool = True) -> None:
        if lvl is None:
            outcomes = [outcome for level in sorted(self.outcomes) for outcome in self.outcomes[level]]
        else:
            outcomes = self.outcomes.get(lvl, [])
        print("# Scraped Items ", "-" * 60)
        display.pprint(outcomes, colorize=colour)


def mirror_of(url: str) -> str | None:
    """The mirror a URL is on (``<mirror>/<host>/<path>``), or None for a live URL."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() in HOSTS:
        return None
    segments = parts.path.split("/")
    for index in range(1, len(segments)):
        if mirrored_host("/".join(segments[index:])):
            return f"{parts.scheme}://{parts.netloc}{'/'.join(segments[:index])}"
    raise UsageError(
        f"not a page of the CNIS sites: {url}; accepted: a live URL ({', '.join(HOSTS)})"
        " or a mirror's (<mirror>/<host>/<path>)",
        print_help=False,
    )
