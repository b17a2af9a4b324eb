"""A fetched article page read whole: its fields, or why it is no article page to keep.

One pure function, :func:`read_article`, from the page's HTML (and its further pages') to a
:class:`Reading`: the page garbled or cut short, an error page served as a page, a further page
that is no whole article page, extraction raising, or the fields. What a crawl does with each
(a drop with its reason) is the item pipeline's business; this runs in a worker process too, so
all it takes and gives is plain data.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from cnis_crawler.extraction.article import ArticleFields, extract_article
from cnis_crawler.extraction.encoding import GARBLED_MAX_SHARE, garbled_share
from cnis_crawler.extraction.error_page import ErrorPage, error_page, truncated
from cnis_crawler.extraction.listing import ArticlePageLinks, extract_article_page_links

if TYPE_CHECKING:
    from cnis_crawler.extraction.listing import Listed, ToLive


class Problem(Enum):
    GARBLED = "garbled"
    TRUNCATED = "truncated"
    NOT_FOUND_PAGE = "not-found-page"
    SERVER_ERROR_PAGE = "server-error-page"
    MISSING_PART = "missing-part"
    EXTRACTION_FAILED = "extraction-failed"


ERROR_PAGE_PROBLEMS = {
    ErrorPage.NOT_FOUND: Problem.NOT_FOUND_PAGE,
    ErrorPage.SERVER_ERROR: Problem.SERVER_ERROR_PAGE,
}


@dataclass(frozen=True)
class Reading:
    fields: ArticleFields | None = None
    problem: Problem | None = None
    detail: str = ""
    """What the problem is, for the drop's message (the URL is added there)."""
    traceback: str = ""
    """For :attr:`Problem.EXTRACTION_FAILED`: where extraction raised, to be logged."""


def damage(html: str) -> tuple[Problem, str] | None:
    """Why ``html`` is not a whole page (garbled or cut short), with a detail; None if it is.

    Garbage is told first: random bytes lack a closing tag too, and "garbled" says more.
    """
    if (share := garbled_share(html)) > GARBLED_MAX_SHARE:
        return Problem.GARBLED, f"garbled: {share:.1%} control or replacement characters"
    if truncated(html):
        return Problem.TRUNCATED, "truncated: no </body> or </html> at its end"
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


def continuation_problem(url: str, continuations: list[str]) -> str | None:
    """Why a further page of the article is no whole article page, or None. The spider only sees
    their status; a record of the other pages would be an article cut short."""
    for number, html in enumerate(continuations, start=1):
        if (found := damage(html)) is not None:
            return f"continuation {number} {found[1]}"
        if (error := error_page_shown(html, url)) is not None:
            return f"continuation {number} is a {error.value} page"
    return None


def read_article(
    html: str, url: str, listed: Listed | None = None, continuations: list[str] | None = None
) -> Reading:
    """The page at ``url`` (its live URL) read whole; never raises for what the page holds."""
    parts = continuations or []
    if (found := damage(html)) is not None:
        return Reading(problem=found[0], detail=found[1])
    try:
        fields = extract_article(html, url, listed, parts)
        missing_part = continuation_problem(url, parts)  # may extract a part: inside the guard
    except Exception as error:  # noqa: BLE001 (one page must never stop the crawl; the drop names it)
        return Reading(
            problem=Problem.EXTRACTION_FAILED, detail=type(error).__name__, traceback=traceback.format_exc()
        )
    # After extraction: a heading that reads like an error page only counts on a page that shows
    # no article of its own, since a soft 404 is dropped for good. (The cheap test first: most
    # pages show an article and are never parsed for headings.)
    if not shows_an_article(fields) and (shown := error_page(html)) is not None:
        return Reading(fields, ERROR_PAGE_PROBLEMS[shown], f"{shown.value} page served with status 200")
    if missing_part is not None:
        return Reading(fields, Problem.MISSING_PART, missing_part)
    return Reading(fields)


@dataclass(frozen=True)
class ArticlePageReading:
    links: ArticlePageLinks
    article: Reading | None
    """The page read as an article; None when it has further pages (read with them, later)."""


def read_article_page(
    html: str, fetched_url: str, live_url: str, to_live: ToLive, listed: Listed | None = None
) -> ArticlePageReading:
    """An article page read once: what it links (read at ``fetched_url``, so that a mirror's
    links resolve on the mirror) and, for an article of one page, the article at ``live_url``
    (from the same parse)."""
    links = extract_article_page_links(html, fetched_url, to_live)
    return ArticlePageReading(links, None if links.parts else read_article(html, live_url, listed))
