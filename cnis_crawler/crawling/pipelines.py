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
from cnis_crawler.extraction import extract_article
from cnis_crawler.extraction.encoding import GARBLED_MAX_SHARE, garbled_share
from cnis_crawler.extraction.error_page import ErrorPage, error_page, truncated
from cnis_crawler.site import HOSTS
from cnis_crawler.urls import parse_article_url

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

    from cnis_crawler.extraction import Listed
    from cnis_crawler.extraction.article import ArticleFields

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


def damage(html: str) -> tuple[type[Drop], str] | None:
    """Why ``html`` is not a whole page (garbled or cut short), with a detail; None if it is.

    Garbage is told first: random bytes lack a closing tag too, and "garbled" says more.
    """
    if (share := garbled_share(html)) > GARBLED_MAX_SHARE:
        return Garbled, f"garbled: {share:.1%} control or replacement characters"
    if truncated(html):
        return Truncated, "truncated: no </body> or </html> at its end"
    return None


def shows_an_article(fields: ArticleFields) -> bool:
    """Whether the page shows an article of its own: a date it states itself (a date label or a
    meta tag, not the URL's) and a body. An error page has neither, whatever its heading says;
    an article titled like an error page ("404 new national standards approved") has both."""
    return fields.date_source == "page" and bool(fields.body)


def error_page_shown(html: str, url: str) -> ErrorPage | None:
    """What kind of error page ``html`` is, or None: an error page's wording (a pure function of
    the HTML) and no article of its own. Extraction runs only when the wording matches."""
    if (error := error_page(html)) is None:
        return None
    return None if shows_an_article(extract_article(html, url)) else error


def continuation_problem(item: FetchedPage) -> str | None:
    """Why a further page of the article is no whole article page, or None. The spider only sees
    their status; a record of the other pages would be an article cut short."""
    for number, html in enumerate(item.continuations, start=1):
        if (found := damage(html)) is not None:
            return f"continuation {number} {found[1]}"
        if (error := error_page_shown(html, item.url)) is not None:
            return f"continuation {number} is a {error.value} page"
    return None


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
        if (found := damage(item.html)) is not None:
            reason, detail = found
            raise reason(f"{detail}: {item.url}")
        try:
            fields = extract_article(item.html, item.url, item.listed, item.continuations)
            missing_part = continuation_problem(item)  # may extract a part: inside the guard
        except Exception as error:  # one page must never stop the crawl; the drop names it
            logger.exception("Extraction failed on %s", item.url)
            raise ExtractionFailed(f"{type(error).__name__}: {item.url}") from error
        # After extraction: a heading that reads like an error page only counts on a page that
        # shows no article of its own, since a soft 404 is dropped for good.
        # (The cheap test first: most pages show an article and are never parsed for headings.)
        if not shows_an_article(fields) and (shown := error_page(item.html)) is not None:
            raise ERROR_PAGE_DROPS[shown](f"{shown.value} page served with status 200: {item.url}")
        if missing_part is not None:
            raise MissingPart(f"{missing_part}: {item.url}")
        if self.stats is not None:
            for name, rung in fields.extracted_by.items():
                self.stats.inc_value(f"extraction/rung/{name}/{rung or 'none'}")
        self.note_disagreements(item.url, article_url.section.key, fields, item.listed)
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
            fetch=item.fetch,
        )

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
            if not item.title:
                raise MissingTitle(f"no title found: {item.url}")
            if not ISO_DAY_RE.match(item.date):
                raise MissingDate(f"no date found: {item.url}")
            if not item.body:
                raise EmptyBody(f"no body text found: {item.url}")
        return item
