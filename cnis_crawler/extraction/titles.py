"""Titles compared: the witnesses of a page's title (meta, ``<h1>``, ``<title>`` less the site's
names, the listing's link), when two titles agree (whole, cut short, quoted otherwise), and
where the listing contradicts the page."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from cnis_crawler.extraction.document import Document, collapse_whitespace, text_of
from cnis_crawler.extraction.patterns import alternation
from cnis_crawler.site import (
    HOME_CRUMBS,
    META_TITLE,
    PAGE_TYPE_NAMES,
    SECTIONS,
    TITLE_SITE_SUFFIXES,
    TITLE_SUFFIX_SEPARATORS_RE,
)

if TYPE_CHECKING:
    from cnis_crawler.extraction.listing import Listed


# Names a <title> may carry beside the article's own: the site's and its sections' and crumbs',
# and what templates call a page ("新闻详情").
PAGE_NAMES = frozenset(
    name.casefold()
    for name in (
        *TITLE_SITE_SUFFIXES,
        *HOME_CRUMBS,
        *PAGE_TYPE_NAMES,
        *(crumb for section in SECTIONS for crumb in section.trail.split(" > ")),
    )
)
# Listings cut long titles: "CNIS holds the annual meeting of...", "中国标准化研究院举办…".
CUT_MARK_RE = re.compile(r"\s*(?:\.{2,}|…+|。{3})$")
QUOTES = str.maketrans(  # curly, full-width and corner quotes as straight ones
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\uff02": '"',
        "\u2018": "'",
        "\u2019": "'",
        "「": '"',
        "」": '"',
    }
)
CLOSING_STOP_RE = re.compile(r"(?<![.。])[.。]$")  # one full stop, not the "..." of a cut
# Some listings cut a title with no mark at all: a link text this long that starts the title agrees.
UNMARKED_CUT_MIN_CHARS = 12


def disagreements(title: str | None, shown_day: str | None, listed: Listed | None) -> tuple[str, ...]:
    """The fields whose page value the listing contradicts: a title it does not show (whole, or
    cut short), a date it prints otherwise. Only what both sides state is compared."""
    if listed is None or not listed.on_listing:
        return ()
    fields = []
    if title and (listed.title or listed.text) and not listing_shows_title(listed, title):
        fields.append("title")
    if shown_day and listed.date and listed.date != shown_day:
        fields.append("date")
    return tuple(fields)


def listing_shows_title(listed: Listed, title: str) -> bool:
    """Whether the listing's title attribute or link text is ``title``, whole or cut short (with
    a mark, or without one where the text is long enough to tell)."""
    if any(agrees(shown, title) for shown in (listed.title, listed.text) if shown):
        return True
    shown, whole = fold(listed.text), fold(title)
    return len(shown) >= UNMARKED_CUT_MIN_CHARS and whole.startswith(shown)


@lru_cache(maxsize=1024)  # a page compares its few title candidates with each other
def fold(text: str) -> str:
    """A title as compared: whitespace folded, case and quote styles ignored, no closing stop."""
    return CLOSING_STOP_RE.sub("", collapse_whitespace(text).casefold().translate(QUOTES))


def agrees(witness: str, candidate: str) -> bool:
    """Two titles agree when equal, or when one is the other cut short with "..." or "…"."""
    a, b = fold(witness), fold(candidate)
    if a == b:
        return True
    return any(
        (stem := cut_stem(cut)) is not None and whole.startswith(stem) for cut, whole in ((a, b), (b, a))
    )


@lru_cache(maxsize=1024)
def cut_stem(text: str) -> str | None:
    """What is left of a title cut short ("CNIS holds the..." -> "CNIS holds the"), or None."""
    stem = CUT_MARK_RE.sub("", text)
    return stem if stem != text and stem else None


def title_witnesses(doc: Document, listed: Listed | None) -> list[tuple[str, str]]:
    """What the page's head and the listing say the title is, as (rung, text), strongest first;
    never a page's generic name ("新闻详情")."""
    h1 = next(doc.selector.root.iter("h1"), None)
    witnesses = [
        ("meta", doc.meta_value(META_TITLE) or ""),
        ("h1", text_of(h1) if h1 is not None else ""),
        ("html-title", html_title(doc) or ""),
        ("listing-link", (listed.title or listed.text) if listed else ""),
    ]
    return [(rung, text) for rung, text in witnesses if text and not is_page_name(text)]


def is_page_name(text: str) -> bool:
    """A name of the site, a section or a kind of page, decorations aside (":::中国标准化研究院:::")."""
    return fold(text).strip(NAME_DECORATIONS) in PAGE_NAMES


NAME_DECORATIONS = " :：|｜-_·•*=~"


def matches_any(text: str, references: list[str]) -> bool:
    folded = fold(text)
    return any(folded == ref or ref.startswith(folded) for ref in references)


_TITLE_SEPARATOR = TITLE_SUFFIX_SEPARATORS_RE.pattern
_PAGE_NAME = alternation(tuple(PAGE_NAMES))
TITLE_NAME_SUFFIX_RE = re.compile(rf"(?:{_TITLE_SEPARATOR})(?:{_PAGE_NAME})\s*$", re.IGNORECASE)
TITLE_NAME_PREFIX_RE = re.compile(rf"^\s*(?:{_PAGE_NAME})(?:{_TITLE_SEPARATOR})", re.IGNORECASE)
_SITE_NAME = alternation(TITLE_SITE_SUFFIXES)
_SEGMENT = r"[^-_|｜—]*"  # no separator inside
SITE_SEGMENT_SUFFIX_RE = re.compile(
    rf"(?:{_TITLE_SEPARATOR}){_SEGMENT}(?<![A-Za-z])(?:{_SITE_NAME})(?![A-Za-z]){_SEGMENT}$", re.IGNORECASE
)
SITE_SEGMENT_PREFIX_RE = re.compile(
    rf"^{_SEGMENT}(?<![A-Za-z])(?:{_SITE_NAME})(?![A-Za-z]){_SEGMENT}(?:{_TITLE_SEPARATOR})", re.IGNORECASE
)


TITLE_SEPARATOR_RE = re.compile(_TITLE_SEPARATOR)


def html_title(doc: Document) -> str | None:
    """The ``<title>`` less the names of the site and its sections at either end, and less a
    segment that holds the site's name ("--中国标准化研究院门户网站"); None when that is all it says
    ("标院新闻_中国标准化研究院")."""
    title = doc.html_title
    while TITLE_SEPARATOR_RE.search(title):
        shorter = TITLE_NAME_PREFIX_RE.sub("", TITLE_NAME_SUFFIX_RE.sub("", title))
        shorter = SITE_SEGMENT_PREFIX_RE.sub("", SITE_SEGMENT_SUFFIX_RE.sub("", shorter))
        if shorter == title:
            break
        title = shorter
    title = title.strip()
    return None if not title or title.casefold() in PAGE_NAMES else title
