"""Item pipelines: FetchedPage -> Article (extract), then validate; versions are given by
:class:`cnis_crawler.incremental.VersionArticlePipeline`.

Every page that does not become a record is dropped with a reason from :mod:`cnis_crawler.drops`,
so Scrapy's core stats count it as ``item_dropped_reasons_count/<Reason>`` and the log names the
URL. Nothing leaves the crawl silently.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from cnis_crawler.drops import (
    Drop,
    EmptyBody,
    ExtractionFailed,
    FetchFailed,
    Gone,
    MissingDate,
    MissingPart,
    MissingTitle,
    NotFoundPage,
    NotHtml,
    NotNewsArticle,
    Redirected,
    ServerErrorPage,
    Unchanged,
)
from cnis_crawler.extraction import extract_article
from cnis_crawler.extraction.error_page import ErrorPage, error_page
from cnis_crawler.items import Article, FetchedPage, FetchProblem, content_hash
from cnis_crawler.site import HOSTS
from cnis_crawler.urls import parse_article_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

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


ERROR_PAGE_DROPS: dict[ErrorPage, type[Drop]] = {
    ErrorPage.NOT_FOUND: NotFoundPage,
    ErrorPage.SERVER_ERROR: ServerErrorPage,
}


class ExtractArticlePipeline:
    """FetchedPage -> Article. Counts which rung produced each field (``extraction/rung/...``),
    so that a template change shows up in the stats as a shift of rungs."""

    def __init__(self, stats: StatsCollector | None = None) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler.stats)

    def process_item(self, item: object) -> object:
        if not isinstance(item, FetchedPage):
            return item
        if item.problem is not None:
            raise FETCH_PROBLEM_DROPS[item.problem](f"{item.detail}: {item.url}")
        article_url = parse_article_url(item.url)
        if article_url is None:
            raise NotNewsArticle(f"not a news article URL: {item.url}")
        if (error := error_page(item.html)) is not None:
            raise ERROR_PAGE_DROPS[error](f"{error.value} page served with status 200: {item.url}")
        try:
            fields = extract_article(item.html, item.url, item.listing_title, item.continuations)
        except Exception as error:  # one page must never stop the crawl; the drop names it
            logger.exception("Extraction failed on %s", item.url)
            raise ExtractionFailed(f"{type(error).__name__}: {item.url}") from error
        if self.stats is not None:
            for name, rung in fields.extracted_by.items():
                self.stats.inc_value(f"extraction/rung/{name}/{rung or 'none'}")
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
            doc_id=article_url.doc_id,
            fetched_at=item.fetched_at,
            content_hash=content_hash(title, body),
            extracted_by=fields.extracted_by,
        )


class ValidateArticlePipeline:
    def process_item(self, item: object) -> object:
        if isinstance(item, Article):
            if not item.title:
                raise MissingTitle(f"no title found: {item.url}")
            if not ISO_DAY_RE.match(item.date):
                raise MissingDate(f"no date found: {item.url}")
            if not item.body:
                raise EmptyBody(f"no body text found: {item.url}")
        return item
