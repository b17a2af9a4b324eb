"""What is never body, wherever it stands: navigation and link lists (dated or not), banners,
breadcrumbs, rows of page controls, credits and view counts. Judged by shape (link density, a
short line made of control words, a dated link), the words as site data in ``site.py``."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from cnis_crawler.extraction.patterns import alternation, has_colon
from cnis_crawler.site import (
    BREADCRUMB_LABELS,
    BREADCRUMB_SEPARATORS,
    BYLINE_RE,
    COLON,
    CONTROL_ACTIONS,
    CONTROL_FILLERS,
    CONTROL_LINE_MAX_CHARS,
    CREDIT_LABELS,
    CREDIT_PHRASES,
    HOME_CRUMB_SEPARATORS,
    HOME_CRUMBS,
    NOISE_LINE_RE,
    OTHER_META_LABELS,
    PHOTO_CREDIT_RE,
)

BREADCRUMB_LABEL_RE = re.compile(rf"^\s*(?:{alternation(BREADCRUMB_LABELS)})\s*{COLON}\s*", re.IGNORECASE)
BREADCRUMB_SPLIT_RE = re.compile(rf"\s*(?:{alternation(BREADCRUMB_SEPARATORS)})\s*")
HOME_CRUMB_RE = re.compile(rf"^(?:{alternation(HOME_CRUMBS)})\s*(?:{alternation(HOME_CRUMB_SEPARATORS)})")

if TYPE_CHECKING:
    from cnis_crawler.extraction.document import Line


def _words_re(words: tuple[str, ...]) -> re.Pattern[str]:
    """Whole words: an English one not inside a longer word ("on" is no part of "Onsite")."""
    return re.compile(
        "|".join(
            rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])" if word.isascii() else re.escape(word)
            for word in sorted(words, key=len, reverse=True)
        ),
        re.IGNORECASE,
    )


CONTROL_ACTIONS_RE = _words_re(CONTROL_ACTIONS)
CONTROL_WORDS_RE = _words_re(CONTROL_ACTIONS + CONTROL_FILLERS)
# What may stand between a control row's words: brackets, separators, colons, single letters.
CONTROL_REST_RE = re.compile(r"[^\w]+|_|(?<![A-Za-z])[A-Za-z](?![A-Za-z])")
# The sizes alone: "大 中 小", "[ 大 中 小 ]", "A+ A A-", "Large Medium Small".
SIZES_ROW_RE = re.compile(
    r"^\W*(?:(?:大|中|小|特大|默认)\W*){3,4}$|^\W*(?:[Aa][+\-]{0,2}\W*){3}$"
    r"|^\W*(?:(?:Large|Medium|Small|Default)\W*){3,4}$",
    re.IGNORECASE,
)
CREDIT_LINE_RE = re.compile(
    rf"^[\[【(（]?\s*(?:(?:{alternation(CREDIT_LABELS)})\s*{COLON}|{alternation(CREDIT_PHRASES)}).{{0,40}}$",
    re.IGNORECASE,
)
OTHER_META_LINE_RE = re.compile(rf"^(?:{alternation(OTHER_META_LABELS)})\s*{COLON}.{{0,60}}$")
# Dates as list items print them, full or short: "2024-03-01", "[03-01]", "(2024/3/1)".
LIST_DATE_RE = re.compile(
    r"(?<!\d)(?:\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?"
    r"|[\[(（【]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*[\])）】]|[01]\d-[0-3]\d)(?!\d)"
)
# A line whose text is mostly link text is navigation or a related-article list, not prose.
# 0.5: nav bars and related links score ~1.0; body paragraphs that cite a URL stay under 0.3.
LINK_DENSE = 0.5
CREDIT_LINE_MAX_CHARS = 60


def _without_list_dates(text: str) -> str:
    return LIST_DATE_RE.sub("", text).strip()


def is_noise(line: Line) -> bool:
    """Navigation, related-article lists (also with a date beside each link), banners, widgets."""
    if line.link_density > LINK_DENSE or NOISE_LINE_RE.match(line.text):
        return True
    if not line.link_chars:
        return False
    undated = _without_list_dates(line.text)
    return len(undated) < len(line.text) and line.link_chars > LINK_DENSE * len(undated)


def is_control(line: Line) -> bool:
    """A row of page controls: font size, print, close, share, a QR-code prompt."""
    return len(line.text) <= CONTROL_LINE_MAX_CHARS and is_control_text(line.text)


# Every page of a site repeats its controls, menus and footer: each text is judged once.
@lru_cache(maxsize=4096)
def is_control_text(text: str) -> bool:
    if SIZES_ROW_RE.match(text):
        return True
    if not CONTROL_ACTIONS_RE.search(text):
        return False
    return not CONTROL_REST_RE.sub("", CONTROL_WORDS_RE.sub("", text))


def is_breadcrumb(line: Line) -> bool:
    return bool(BREADCRUMB_LABEL_RE.match(line.text) or HOME_CRUMB_RE.match(line.text))


def is_credit(text: str) -> bool:
    """Who wrote, edited, checked or photographed the article."""
    return len(text) <= CREDIT_LINE_MAX_CHARS and bool(
        CREDIT_LINE_RE.match(text) or PHOTO_CREDIT_RE.match(text) or BYLINE_RE.match(text)
    )


def is_furniture(line: Line) -> bool:
    """Never body, wherever it stands: navigation, controls, credits, view counts."""
    text = line.text
    return (
        is_noise(line)
        or is_breadcrumb(line)
        or is_control(line)
        or (has_colon(text) and bool(OTHER_META_LINE_RE.match(text)))
        or is_credit(text)
    )
