"""Item pipelines: FetchedPage -> Article (extract), then validate; versions are given by
:class:`cnis_crawler.crawling.versions.VersionArticlePipeline`.

Every page that does not become a record is dropped with a reason from :mod:`cnis_crawler.crawling.drops`,
so Scrapy's core stats count it as ``item_dropped_reasons_count/<Reason>`` and the log names the
URL. Nothing leaves the crawl silently.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from cnis_crawler.crawling.drops import (
    Drop,
    EmptyBody,
    ExtractionFailed,
    FetchFailed,
    Garbled,
    Gone,
    MissingDate,
    MissingPart,
    MissingTitle,
    NotFoundPage,
    NotHtml,
    NotNewsArticle,
    Redirected,
    ServerErrorPage,
    Truncated,
    Unchanged,
)
from cnis_crawler.crawling.extensions import DISAGREEMENTS, section_stat
from cnis_crawler.crawling.items import Article, FetchedPage, FetchProblem, content_hash
from cnis_crawler.crawling.readers import PageReaders, read
from cnis_crawler.extraction.reading import Problem, Reading, read_article
from cnis_crawler.extraction.sections import news_verdict
from cnis_crawler.site import HOSTS
from cnis_crawler.urls import parse_article_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from cnis_crawler.extraction import Listed
    from cnis_crawler.extraction.article import ArticleFields
    from cnis_crawler.urls import ArticleUrl

logger = logging.getLogger(__name__)


ISO_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FETCH_PROBLEM_DROPS: dict[FetchProblem, type[Drop]] = {
    FetchProblem.FAILED: FetchFailed,
    FetchProblem.GONE: Gone,
    FetchProblem.NOT_MODIFIED: Unchanged,
    FetchProblem.NOT_HTML: NotHtml,
    FetchProblem.REDIRECTED_AWAY: Redirected,
    FetchProblem.MISSING_PART: MissingPart,
}


READING_DROPS: dict[Problem, type[Drop]] = {
    Problem.GARBLED: Garbled,
    Problem.TRUNCATED: Truncated,
    Problem.NOT_FOUND_PAGE: NotFoundPage,
    Problem.SERVER_ERROR_PAGE: ServerErrorPage,
    Problem.MISSING_PART: MissingPart,
    Problem.EXTRACTION_FAILED: ExtractionFailed,
}


class ExtractArticlePipeline:
    """FetchedPage -> Article. Counts which rung produced each field (``extraction/rung/...``),
    so that a template change shows up in the stats as a shift of rungs.

    The spider has read most pages already (:attr:`FetchedPage.reading`); one of several pages
    is read here, with its further pages. Either way the reading is
    :func:`~cnis_crawler.extraction.reading.read_article`, run by the crawl's
    :class:`~cnis_crawler.crawling.readers.PageReaders` in a worker process.
    """

    def __init__(self, stats: StatsCollector | None = None, readers: PageReaders | None = None) -> None:
        self.stats = stats
        self.readers = readers

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats, crawler.get_extension(PageReaders))

    async def process_item(self, item: object) -> object:
        if not isinstance(item, FetchedPage):
            return item
        article_url = self.article_url(item)
        reading = item.reading
        if reading is None:
            parts = item.continuations
            reading = await read(self.readers, read_article, item.html, item.url, item.listed, parts)
        return self.article(item, article_url, reading)

    def article_of(self, item: FetchedPage) -> Article:
        """What :meth:`process_item` makes of ``item``, read here: an Article or a drop raised."""
        article_url = self.article_url(item)
        reading = item.reading or read_article(item.html, item.url, item.listed, item.continuations)
        return self.article(item, article_url, reading)

    @staticmethod
    def article_url(item: FetchedPage) -> ArticleUrl:
        """The page's URL as a news article's, or the drop of a page that could not be fetched."""
        if item.problem is not None:
            raise FETCH_PROBLEM_DROPS[item.problem](f"{item.detail}: {item.url}")
        article_url = parse_article_url(item.url)
        if article_url is None:
            raise NotNewsArticle(f"not a news article URL: {item.url}")
        news, why = news_verdict(article_url.section)
        if not news:
            raise NotNewsArticle(f"in a section that holds no news ({why}): {item.url}")
        return article_url

    def article(self, item: FetchedPage, article_url: ArticleUrl, reading: Reading) -> Article:
        if reading.problem is Problem.EXTRACTION_FAILED:
            logger.error("Extraction failed on %s\n%s", item.url, reading.traceback.rstrip())
        fields = fields_read(item.url, reading)
        if self.stats is not None:
            for name, rung in fields.extracted_by.items():
                self.stats.inc_value(f"extraction/rung/{name}/{rung or 'none'}")
        self.note_disagreements(item.url, article_url.section.key, fields, item.listed)
        return article_of(item, article_url, fields)

    def note_disagreements(
        self, url: str, section_key: str, fields: ArticleFields, listed: Listed | None
    ) -> None:
        """Each field the page and its listing state otherwise: logged, and counted by field
        (``extraction/disagreement/<field>``) and in the page's section. The record keeps the
        page's value; a count that grows after a redesign says which witness went wrong."""
        for name in fields.disagreements:
            page_value, listing_value = disagreeing_values(name, fields, listed)
            logger.info(
                "Page and listing disagree on the %s of %s: page %r, listing %r",
                name,
                url,
                page_value,
                listing_value,
            )
            if self.stats is not None:
                self.stats.inc_value(f"extraction/disagreement/{name}")
                self.stats.inc_value(section_stat(section_key, DISAGREEMENTS))


def fields_read(url: str, reading: Reading) -> ArticleFields:
    """The fields of a page read, or the drop of a page that is no article to keep."""
    if reading.problem is not None:
        raise READING_DROPS[reading.problem](f"{reading.detail}: {url}")
    assert reading.fields is not None  # a reading without a problem has its fields
    return reading.fields


def article_of(page: FetchedPage, article_url: ArticleUrl, fields: ArticleFields) -> Article:
    """The article a page's fields make (its key, version and change still to be given)."""
    title, body = fields.title or "", fields.body
    return Article(
        url=article_url.url,
        site=article_url.host,
        lang=HOSTS[article_url.host].lang,
        section=fields.section or article_url.section.trail,
        title=title,
        subtitle=fields.subtitle,
        date=fields.date or "",
        date_source=fields.date_source or "",
        url_date=article_url.url_date.isoformat(),
        source=fields.source,
        body=body,
        attachments=fields.attachments,
        images=fields.images,
        standards=fields.standards,
        committees=fields.committees,
        doc_id=article_url.doc_id,
        fetched_at=page.fetched_at,
        content_hash=content_hash(title, body),
        extracted_by=fields.extracted_by,
        fetch=page.fetch,
    )


def disagreeing_values(name: str, fields: ArticleFields, listed: Listed | None) -> tuple[object, object]:
    """What the page and the listing state for the field ``name``; the listing's title is its
    title attribute and link text when they differ."""
    page_value = getattr(fields, name, None)
    if listed is None:
        return page_value, None
    if name == "title":
        shown = [text for text in (listed.title, listed.text) if text]
        return page_value, " / ".join(dict.fromkeys(shown)) or None
    return page_value, getattr(listed, name, None)


class ValidateArticlePipeline:
    def process_item(self, item: object) -> object:
        if isinstance(item, Article):
            validate(item)
        return item


def validate(article: Article) -> None:
    """Drops an article that lacks what every record has: a title, a date, a body or pictures."""
    if not article.title:
        raise MissingTitle(f"no title found: {article.url}")
    if not ISO_DAY_RE.match(article.date):
        raise MissingDate(f"no date found: {article.url}")
    if not article.body and not article.images:  # a photo news may be pictures alone
        raise EmptyBody(f"no body text found: {article.url}")
