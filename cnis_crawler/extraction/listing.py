"""Links out of a listing page: the articles it lists and the other pages of its pager.

TRS pagers are written by inline JavaScript, so the page count is read from the script text
(after removing comments: a stale call is often left commented out beside the working one).
Plain ``<a>`` pager links count too.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from cnis_crawler.extraction.document import Document, Link
from cnis_crawler.site import LISTING_FILE_STEM, PAGER_CALL_RE, PAGER_COUNT_RE
from cnis_crawler.urls import (
    canonical_url,
    listing_page_number,
    listing_page_url,
    parse_article_url,
    section_of,
)

# Strings are matched first so that "//" inside a string literal (a URL) is not a comment.
_JS_STRING_OR_COMMENT_RE = re.compile(
    r"""("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|//[^\n]*|/\*.*?\*/|<!--[^\n]*""", re.DOTALL
)


@dataclass(frozen=True)
class ListingPage:
    article_links: tuple[Link, ...]
    page_urls: tuple[str, ...]
    declared_pages: int | None
    """The page count the pager script declares, or None when the page has no pager script."""


def extract_listing(html: str, url: str) -> ListingPage:
    """Read a listing page whose live URL is ``url``."""
    doc = Document(html, url)
    declared, stem, extension = _declared_pager(doc.inline_scripts(), url)
    pages: dict[str, None] = {}
    if declared:
        directory = url.rsplit("/", 1)[0] + "/"
        for page in range(declared):
            name = stem if page == 0 else f"{stem}_{page}"
            pages[urljoin(directory, f"{name}.{extension}")] = None
    own_section = section_of(url)
    for link in doc.links():
        page_number = listing_page_number(link.url)
        if own_section is not None and page_number is not None and section_of(link.url) == own_section:
            pages.setdefault(listing_page_url(own_section, page_number), None)
    return ListingPage(_article_links(doc), tuple(pages), declared)


def extract_article_links(html: str, url: str) -> tuple[Link, ...]:
    """Links from any page to news articles (any host, any section), first text per URL."""
    return _article_links(Document(html, url))


def _article_links(doc: Document) -> tuple[Link, ...]:
    articles: dict[str, Link] = {}
    for link in doc.links():
        if parse_article_url(link.url) is not None:
            url = canonical_url(link.url)
            articles.setdefault(url, Link(url, link.text))
    return tuple(articles.values())


def strip_js_comments(script: str) -> str:
    return _JS_STRING_OR_COMMENT_RE.sub(lambda match: match.group(1) or "", script)


def _declared_pager(scripts: list[str], url: str) -> tuple[int | None, str, str]:
    """(page count, file stem, extension) from the first pager script on the page."""
    extension = posixpath.splitext(urlsplit(url).path)[1].lstrip(".") or "html"
    for script in scripts:
        code = strip_js_comments(script)
        if call := PAGER_CALL_RE.search(code):
            return int(call["count"]), call["stem"], call["ext"]
        if count := PAGER_COUNT_RE.search(code):
            return int(count["count"]), LISTING_FILE_STEM, extension
    return None, LISTING_FILE_STEM, extension
