"""Links out of a listing page: the articles it lists and the other pages of its pager.

TRS pagers are written by inline JavaScript, so the page count is read from the script text
(after removing comments: a stale call is often left commented out beside the working one).
Plain ``<a>`` pager links count too.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from cnis_crawler.extraction.document import Document, Link, link_text, read_page
from cnis_crawler.site import (
    ARTICLE_PATH_RE,
    LISTING_FILE_STEM,
    MAX_DECLARED_PAGES,
    PAGER_CALL_RE,
    PAGER_COUNT_RE,
)
from cnis_crawler.urls import (
    canonical_url,
    listing_page_number,
    listing_page_url,
    parse_article_url,
    section_of,
)

if TYPE_CHECKING:
    from lxml.etree import _Element as Element

ToLive = Callable[[str], str]
"""Maps a URL as fetched or linked to the live URL it stands for (identity on the live site)."""

# Strings are matched first so that "//" inside a string literal (a URL) is not a comment.
_JS_STRING_OR_COMMENT_RE = re.compile(
    r"""("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|//[^\n]*|/\*.*?\*/|<!--[^\n]*""", re.DOTALL
)


@dataclass(frozen=True)
class Listed:
    """What a listing page showed beside its link to an article: the second witness of the
    article's title and date, carried by the spider to the article's extraction."""

    text: str = ""
    """The link's visible text, maybe cut short with ``...`` or ``…``."""
    title: str = ""
    """The link's ``title`` attribute: the whole title where the text is cut."""
    date: str | None = None
    """A date printed in the same list item as the link, ``YYYY-MM-DD``."""

    @property
    def best_title(self) -> str | None:
        return self.title or self.text or None


@dataclass(frozen=True)
class ListingPage:
    article_links: tuple[Link, ...]
    page_urls: tuple[str, ...]
    declared_pages: int | None
    """The page count the pager script declares, or None when the page has no pager script."""
    outside_news_sections: tuple[str, ...] = ()
    """Article-shaped links under no known news section (e.g. /ynbm/ pages), for the stats."""


def extract_listing(html: str, url: str, to_live: ToLive = canonical_url) -> ListingPage:
    """Read a listing page fetched from ``url``; ``to_live`` maps fetched URLs to live ones."""
    doc = read_page(html, url)
    live_url = to_live(url)
    declared, stem, extension = _declared_pager(doc.inline_scripts(), live_url)
    pages: dict[str, None] = {}
    if declared:
        directory = live_url.rsplit("/", 1)[0] + "/"
        for page in range(min(declared, MAX_DECLARED_PAGES)):
            name = stem if page == 0 else f"{stem}_{page}"
            pages[f"{directory}{name}.{extension}"] = None
    own_section = section_of(live_url)
    outside: dict[str, None] = {}
    anchors = _live_anchors(doc, to_live)
    for link_url, _ in anchors:
        page_number = listing_page_number(link_url)
        if own_section is not None and page_number is not None and section_of(link_url) == own_section:
            pages.setdefault(listing_page_url(own_section, page_number), None)
        elif ARTICLE_PATH_RE.match(urlsplit(link_url).path) and section_of(link_url) is None:
            outside.setdefault(link_url, None)
    return ListingPage(_article_links(anchors), tuple(pages), declared, tuple(outside))


def _live_anchors(doc: Document, to_live: ToLive) -> list[tuple[str, Element]]:
    """The page's links at the live URLs they stand for, mapped once: most of a page's cost."""
    return [(to_live(url), anchor) for url, anchor in doc.anchors]


def _article_links(anchors: list[tuple[str, Element]]) -> tuple[Link, ...]:
    """The links to news articles, first text per URL (read only for these: the costly part)."""
    articles: dict[str, Link] = {}
    for url, anchor in anchors:
        if url not in articles and parse_article_url(url) is not None:
            articles[url] = Link(url, link_text(anchor))
    return tuple(articles.values())


def strip_js_comments(script: str) -> str:
    return _JS_STRING_OR_COMMENT_RE.sub(lambda match: match.group(1) or "", script)


def _extension(url: str) -> str:
    return posixpath.splitext(urlsplit(url).path)[1].lstrip(".") or "html"


def _pagers(scripts: list[str], url: str) -> Iterator[tuple[int, str, str]]:
    """(page count, file stem, extension) of every pager script on the page, in order."""
    extension = _extension(url)
    for script in scripts:
        if "createPageHTML" not in script and "countPage" not in script:
            continue  # no pager: spares stripping the comments of every script of every page
        code = strip_js_comments(script)
        if call := PAGER_CALL_RE.search(code):
            yield int(call["count"]), call["stem"], call["ext"]
        elif count := PAGER_COUNT_RE.search(code):
            yield int(count["count"]), LISTING_FILE_STEM, extension


def _declared_pager(scripts: list[str], url: str) -> tuple[int | None, str, str]:
    """The first pager script of a listing page, or (None, "index", the page's extension)."""
    return next(_pagers(scripts, url), (None, LISTING_FILE_STEM, _extension(url)))


@dataclass(frozen=True)
class ArticlePageLinks:
    article_links: tuple[Link, ...]
    """Links to other news articles (related articles), first text per URL."""
    parts: tuple[str, ...]
    """The article's continuation pages (``t…_<id>_1`` …), in order."""


def extract_article_page_links(html: str, url: str, to_live: ToLive = canonical_url) -> ArticlePageLinks:
    """What an article page fetched from ``url`` links to, from one parse of the page.

    Long TRS articles carry the same script pager as listings, with the article's own file
    stem: ``createPageHTML(3, 0, "t20251022_61816", "html")``. Plain links to parts count too.
    """
    doc = read_page(html, url)
    live_url = to_live(url)
    article = parse_article_url(live_url)
    anchors = _live_anchors(doc, to_live)
    if article is None:
        return ArticlePageLinks(_article_links(anchors), ())
    stem = posixpath.splitext(posixpath.basename(urlsplit(live_url).path))[0]
    parts: dict[int, str] = {}
    for declared, script_stem, extension in _pagers(doc.inline_scripts(), live_url):
        if script_stem == stem:  # the article's own pager, not a listing pager on the same page
            for number in range(1, min(declared, MAX_DECLARED_PAGES)):
                parts.setdefault(number, urljoin(live_url, f"{stem}_{number}.{extension}"))
    for link_url, _ in anchors:
        part = parse_article_url(link_url)
        if part and part.part and (part.host, part.doc_id) == (article.host, article.doc_id):
            parts.setdefault(part.part, part.url)
    return ArticlePageLinks(_article_links(anchors), tuple(parts[number] for number in sorted(parts)))
