"""The last item pipeline: each record's ``key``, ``version`` and ``change``, or why it is no record.

An article is known by its ``key`` (``<site>/<doc id>`` of its first copy written) across every
URL that stands for it. A page whose content is what the state (or this run) knows is
:class:`~cnis_crawler.crawling.drops.Unchanged`; a copy of a known article under another URL (the
old host) an :class:`~cnis_crawler.crawling.drops.Alias`; the same page twice in one run a
:class:`~cnis_crawler.crawling.drops.DuplicateUrl`. Otherwise the record is version 1 (``new``)
or one more than the known version (``changed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scrapy.exceptions import NotConfigured

from cnis_crawler.crawling.drops import Alias, DuplicateUrl, Unchanged
from cnis_crawler.crawling.items import Article, page_urls
from cnis_crawler.crawling.memory import CrawlMemory
from cnis_crawler.memory.state import KnownArticle

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler

    from cnis_crawler.memory.state import CrawlState


@dataclass(frozen=True)
class Known:
    pages: set[str]
    keys: set[str]
    hashes: set[str]


class VersionArticlePipeline:
    def __init__(self, memory: CrawlMemory) -> None:
        self.memory = memory
        # This run's decisions, visible to the run before the state stores them.
        self.run_pages: dict[str, tuple[str, str]] = {}
        self.run_articles: dict[str, KnownArticle] = {}
        self.run_content: dict[tuple[str, str, str], KnownArticle] = {}
        self.run_urls: set[str] = set()
        self.known_before: Known | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        memory = crawler.get_extension(CrawlMemory)
        if memory is None:
            raise NotConfigured("needs the CrawlMemory extension")
        return cls(memory)

    @property
    def state(self) -> CrawlState:
        return self.memory.state

    def process_item(self, item: object) -> object:
        return self.accept(item) if isinstance(item, Article) else item

    def page(self, url: str) -> tuple[str | None, str | None]:
        """The key a URL stands for and the content hash the page had last, if known."""
        if found := self.run_pages.get(url):
            return found
        return self.state.page(url) if url in self.known().pages else (None, None)

    def article(self, key: str) -> KnownArticle | None:
        if found := self.run_articles.get(key):
            return found
        return self.state.article(key) if key in self.known().keys else None

    def same_content(self, lang: str, date: str, content_hash: str) -> KnownArticle | None:
        if found := self.run_content.get((lang, date, content_hash)):
            return found
        if content_hash not in self.known().hashes:
            return None
        return self.state.article_with_content(lang, date, content_hash)

    def known(self) -> Known:
        """What the state knew when the run began, read once: most articles a crawl meets are
        new (all, in a first crawl) and need no query at all. This run's own are in ``run_*``."""
        if self.known_before is None:
            state = self.state
            self.known_before = Known(state.page_urls(), state.article_keys(), state.content_hashes())
        return self.known_before

    def accept(self, article: Article) -> Article:
        """Give ``article`` its key, version and change, or drop it as not new."""
        urls = page_urls(article)
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
            if same := self.same_content(*content):
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
        self.memory.count(article.change)
        return article
