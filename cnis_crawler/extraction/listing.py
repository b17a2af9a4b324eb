"""Links out of a listing page: the articles it lists and the other pages of its pager.

TRS pagers are written by inline JavaScript, so the page count is read from the script text
(after removing comments: a stale call is often left commented out beside the working one).
Plain ``<a>`` pager links count too.

Each article link carries what the listing showed for it (:class:`Listed`): the link's text, its
``title`` attribute, and the date printed in the same list item. The *list item* is the nearest
``li``, ``tr``, ``dd``, ``dt``, ``p`` or ``div`` around the link (a ``td``'s row, as cells are
not items), if it holds no link to another article; a ``p``, ``div``, ``dt`` or ``dd`` that
prints no date gives way to the ``li``, ``tr`` or ``dl`` around it, on the same condition
(``<li><p><a …></p><span>date</span></li>``, ``<dl><dt><a …></dt><dd>date</dd></dl>``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from lxml import etree

from cnis_crawler.extraction.dates import find_dates
from cnis_crawler.extraction.document import (
    BLOCK_TAGS,
    INVISIBLE_TAGS,
    Document,
    Link,
    collapse_whitespace,
    is_hidden,
    read_page,
    text_of,
)
from cnis_crawler.extraction.sections import FoundSection, sections_linked
from cnis_crawler.site import (
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
    from collections.abc import Sequence

    from lxml.etree import _Element as Element

ToLive = Callable[[str], str]
"""Maps a URL as fetched or linked to the live URL it stands for (identity on the live site)."""

# Strings are matched first so that "//" inside a string literal (a URL) is not a comment.
_JS_STRING_OR_COMMENT_RE = re.compile(
    r"""("(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')|//[^\n]*|/\*.*?\*/|<!--[^\n]*""", re.DOTALL
)

# The blocks a list item is made of (a cell is not one: its row is), and those a wrapper inside
# an item that prints no date gives way to.
ITEM_TAGS = frozenset(["li", "tr", "dd", "dt", "p", "div"])
OUTER_ITEM_TAGS = frozenset(["li", "tr", "dl"])
_WRAPPER_TAGS = ITEM_TAGS - OUTER_ITEM_TAGS


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
    on_listing: bool = True
    """False for a link met on an article page (a related article, a link in the prose) and a
    title the crawl state kept: a title of last resort, but no witness the page can contradict."""


def title_only(title: str | None) -> Listed | None:
    """A title met elsewhere than on a listing (a link in an article's prose, the crawl state's
    record of a link): a title of last resort, no witness; None without a title."""
    return Listed(title=title, on_listing=False) if title else None


@dataclass(frozen=True)
class ListingPage:
    article_links: tuple[Link, ...]
    page_urls: tuple[str, ...]
    declared_pages: int | None
    """The page count the pager script declares, or None when the page has no pager script."""
    sections: tuple[FoundSection, ...] = ()
    """The sections the page links (menus, breadcrumbs, "more" links, articles): discovery."""


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
    anchors = _live_anchors(doc, to_live)
    for link_url, _ in anchors:
        page_number = listing_page_number(link_url)
        if own_section is not None and page_number is not None and section_of(link_url) == own_section:
            pages.setdefault(listing_page_url(own_section, page_number), None)
    linked = sections_linked(url for url, _ in anchors)
    return ListingPage(_article_links(anchors), tuple(pages), declared, linked)


def _live_anchors(doc: Document, to_live: ToLive) -> list[tuple[str, Element]]:
    """The page's links at the live URLs they stand for, mapped once: most of a page's cost."""
    return [(to_live(url), anchor) for url, anchor in doc.anchors]


def _article_links(anchors: list[tuple[str, Element]], dated: bool = True) -> tuple[Link, ...]:
    """The links to news articles, in the order first met, each with what its first link that
    says something showed (read only for these: the costly part). ``dated``: read the date of
    each link's list item too (on listings; not on article pages, whose prose may link an
    article beside any date)."""
    article_anchors = [(url, anchor) for url, anchor in anchors if parse_article_url(url) is not None]
    items = _ListItems(article_anchors) if dated else None
    articles: dict[str, Link] = {}
    for url, anchor in article_anchors:
        if (kept := articles.get(url)) is not None and kept.text:
            continue
        text = text_of(anchor)
        title = collapse_whitespace(anchor.get("title") or "")
        if kept is not None and not (title or text):
            continue
        date = items.date_of(url, anchor) if items is not None else None
        articles[url] = Link(url, title or text, Listed(text, title, date, on_listing=dated))
    return tuple(articles.values())


class _ListItems:
    """The list items of a page's article links, and the dates they print (see the module)."""

    def __init__(self, article_anchors: Sequence[tuple[str, Element]]) -> None:
        self.url_of = {anchor: url for url, anchor in article_anchors}
        self.urls_in: dict[Element, set[str]] = {}  # a block met for several links is read once

    def date_of(self, url: str, anchor: Element) -> str | None:
        """The first date printed in the list item of ``anchor`` outside its text, or None."""
        inner = None
        for block in anchor.iterancestors(*ITEM_TAGS, "dl"):
            tag = block.tag
            if inner is None:
                if tag == "dl":
                    continue  # no item of its own: only for a dt or a dd that shows no date
            elif tag not in OUTER_ITEM_TAGS or inner.tag not in _WRAPPER_TAGS:
                return None
            if self.article_urls_in(block) != {url}:
                return None  # the item of several articles: none of their dates is known
            if found := find_dates(text_outside(block, anchor)):
                return found[0].day
            if inner is not None:
                return None
            inner = block
        return None

    def article_urls_in(self, block: Element) -> set[str]:
        if (urls := self.urls_in.get(block)) is None:
            urls = self.urls_in[block] = {url for a in block.iter("a") if (url := self.url_of.get(a))}
        return urls


def text_outside(block: Element, anchor: Element) -> str:
    """The visible text of ``block`` without that of ``anchor`` (which stands as a space)."""
    parts: list[str] = []
    walker = etree.iterwalk(block, events=("start", "end", "comment", "pi"))
    for event, element in walker:
        if event == "start":
            tag = element.tag.lower()
            if element is anchor or tag in INVISIBLE_TAGS or is_hidden(element):
                walker.skip_subtree()
                parts.append(" ")
                continue
            if tag in BLOCK_TAGS or tag == "br":
                parts.append(" ")
            if text := element.text:
                parts.append(text)
            continue
        if event == "end" and element.tag.lower() in BLOCK_TAGS:
            parts.append(" ")
        if element is not block and (tail := element.tail):
            parts.append(tail)
    return "".join(parts)


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
    sections: tuple[FoundSection, ...] = ()
    """The sections the page links (menus, breadcrumbs, related articles): discovery."""


def extract_article_page_links(html: str, url: str, to_live: ToLive = canonical_url) -> ArticlePageLinks:
    """What an article page fetched from ``url`` links to, from one parse of the page.

    Long TRS articles carry the same script pager as listings, with the article's own file
    stem: ``createPageHTML(3, 0, "t20251022_61816", "html")``. Plain links to parts count too.
    """
    doc = read_page(html, url)
    live_url = to_live(url)
    article = parse_article_url(live_url)
    anchors = _live_anchors(doc, to_live)
    linked = sections_linked(url for url, _ in anchors)
    if article is None:
        return ArticlePageLinks(_article_links(anchors, dated=False), (), linked)
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
    ordered = tuple(parts[number] for number in sorted(parts))
    return ArticlePageLinks(_article_links(anchors, dated=False), ordered, linked)
