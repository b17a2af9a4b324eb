"""Title, date, source, section and body of an article page, each an ordered cascade of rungs.

The first rungs read signals that survive a redesign: the labels of the date line (``Date:``,
``时间：``), the breadcrumb text, the lines around the date line, standard meta tags. Known
container classes and text density come later. Every field reports the rung that produced it,
so a template change shows up in the data as a shift of rungs rather than as silent damage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from cnis_crawler.extraction.document import Document, Line, collapse_whitespace, link_text, read_page
from cnis_crawler.site import (
    ARTICLE_END_RE,
    BODY_CONTAINER_XPATHS,
    BREADCRUMB_LABELS,
    BREADCRUMB_SEPARATORS,
    COLON,
    COLONS,
    DATE_LABELS,
    HOME_CRUMBS,
    META_DATE,
    META_SOURCE,
    META_TITLE,
    NOISE_LINE_RE,
    OTHER_META_LABELS,
    SITE_FOOTER_RE,
    SOURCE_LABELS,
    SOURCE_NOTE_RE,
    TITLE_SITE_SUFFIXES,
    TITLE_SUFFIX_SEPARATORS_RE,
)
from cnis_crawler.urls import ArticleUrl, canonical_url, is_attachment, parse_article_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cnis_crawler.extraction.listing import Listed

    from lxml.etree import _Element as Element


def _alternation(words: tuple[str, ...]) -> str:
    """A regex alternation that tries longer words first, so 发布时间 wins over 时间."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


# A label stands after a space, punctuation or a digit, never after a letter or CJK character:
# "Update:", "数据来源：", "培训时间：" are words in a sentence, not labels. The exception is 日,
# the end of a Chinese date: "时间：2025年10月20日部门：…" puts the next label right after it.
_LABEL_START = r"(?<![^\W\d日])"
DATE_VALUE = r"(?P<year>\d{4})\s*[-/.年]\s*(?P<month>\d{1,2})\s*[-/.月]\s*(?P<day>\d{1,2})"
DATE_FIELD_RE = re.compile(rf"{_LABEL_START}(?:{_alternation(DATE_LABELS)})\s*{COLON}\s*{DATE_VALUE}")
SOURCE_FIELD_RE = re.compile(rf"{_LABEL_START}(?:{_alternation(SOURCE_LABELS)})\s*{COLON}\s*(?P<value>.*)")
_ALL_LABELS = _alternation(DATE_LABELS + SOURCE_LABELS + OTHER_META_LABELS)
ANY_LABEL_RE = re.compile(rf"{_LABEL_START}(?:{_ALL_LABELS})\s*{COLON}")
# Inside a value already known to be one, the next label ends it even right after CJK text:
# "来源：科技管理部浏览次数：88".
NEXT_LABEL_RE = re.compile(rf"(?:{_ALL_LABELS})\s*{COLON}")
# A label alone in its cell, its value in the next one: <td>发布时间：</td><td>2015-04-18</td>.
LABEL_ONLY_RE = re.compile(rf"^(?:{_ALL_LABELS})\s*{COLON}$")
# What may follow the date on a date line: a time, then nothing, a separator or another label.
DATE_TAIL_RE = re.compile(r"^日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?[\s|/·—-]*")
ISO_DATE_RE = re.compile(DATE_VALUE)
BREADCRUMB_LABEL_RE = re.compile(rf"^\s*(?:{_alternation(BREADCRUMB_LABELS)})\s*{COLON}\s*", re.IGNORECASE)
BREADCRUMB_SPLIT_RE = re.compile(rf"\s*(?:{_alternation(BREADCRUMB_SEPARATORS)})\s*")
HOME_CRUMB_RE = re.compile(rf"^(?:{_alternation(HOME_CRUMBS)})\s*(?:{_alternation(BREADCRUMB_SEPARATORS)})")
TITLE_SUFFIX_RE = re.compile(
    rf"(?:{TITLE_SUFFIX_SEPARATORS_RE.pattern})(?:{_alternation(TITLE_SITE_SUFFIXES)})\s*$", re.IGNORECASE
)
# A value ends where a widget or separator starts: "CNIS [Print]", "人力资源部 | 浏览".
VALUE_END_RE = re.compile(r"\s*[\[【|｜]")

# Listings cut long titles: "CNIS holds the annual meeting of...", "中国标准化研究院举办…".
CUT_MARK_RE = re.compile(r"\s*(?:\.{2,}|…+|。{3})$")

# A line whose text is mostly link text is navigation or a related-article list, not prose.
# 0.5: nav bars and related links score ~1.0; body paragraphs that cite a URL stay under 0.3.
LINK_DENSE = 0.5
# Title plus subtitle: the most lines above the date line that can belong to the headline.
MAX_HEADLINE_LINES = 2
# A short line with no sentence punctuation, directly above a link-dense line, heads a box of
# links ("Hot news", "最新动态"). 24 characters: box headings seen run 2-15; body sentences end
# in punctuation, and captions rarely stand right above a link list.
BOX_HEADING_MAX_CHARS = 24
SENTENCE_END_RE = re.compile(r"[.!?。！？…”\"')）]$")
# The body's own container must hold at least this share of the prose found without it;
# below that the body is spread over sibling blocks (a lead paragraph wrapped on its own).
CONTAINER_MIN_SHARE = 0.5


# Every field's cascade, strongest rung first; records name the rung that produced each field.
RUNGS: dict[str, tuple[str, ...]] = {
    "title": ("title-on-date-line", "line-above-date", "meta", "h1", "html-title", "listing-link"),
    "subtitle": ("line-under-title",),
    "date": ("date-label", "meta", "url"),
    "source": ("source-label", "source-note", "meta"),
    "section": ("breadcrumb", "url-section"),
    "body": ("after-date-line", "known-container", "density"),
}


@dataclass(frozen=True)
class ArticleFields:
    title: str | None
    subtitle: str | None
    date: str | None
    date_source: str | None
    source: str | None
    section: str | None
    body: str
    attachments: list[dict[str, str]]
    extracted_by: dict[str, str | None] = field(default_factory=dict)
    """The rung that produced each field of :data:`RUNGS`; None where no rung found a value."""
    disagreements: tuple[str, ...] = ()
    """The fields (``title``, ``date``) whose page value differs from what the listing showed."""


def extract_article(
    html: str, url: str, listed: Listed | None = None, continuations: Sequence[str] = ()
) -> ArticleFields:
    """Read an article page. ``url`` is the live URL; ``listed`` what the listing showed for it;
    ``continuations`` the HTML of its further pages, whose bodies are appended in order."""
    listing_title = listed.best_title if listed else None
    doc = read_page(html, url)
    article_url = parse_article_url(url)
    page = _Layout(doc, article_url)
    rungs: dict[str, str] = {}

    title, subtitle = page.headline(rungs)
    if title is None:
        title = _first_rung(rungs, "title", _title_fallbacks(doc, listing_title))
    day, date_source = _date(doc, page.date_match, article_url, rungs)
    body_lines, source_note = page.body(rungs)
    attachments = _attachments(doc, article_url)
    for part_html in continuations:
        part_doc = read_page(part_html, url)
        part_lines, part_note = _Layout(part_doc, article_url).body({})
        body_lines += part_lines
        source_note = part_note or source_note  # a repost's closing note sits on its last page
        attachments += [found for found in _attachments(part_doc, article_url) if found not in attachments]
    source = _first_rung(
        rungs,
        "source",
        (
            ("source-label", page.source_value()),
            ("source-note", source_note),
            ("meta", doc.meta_value(META_SOURCE)),
        ),
    )
    section = _first_rung(
        rungs,
        "section",
        (
            ("breadcrumb", page.breadcrumb_trail()),
            ("url-section", article_url.section.trail if article_url else None),
        ),
    )
    return ArticleFields(
        title=title,
        subtitle=subtitle,
        date=day,
        date_source=date_source,
        source=source,
        section=section,
        body="\n\n".join(line.text for line in body_lines if line.text != title),
        attachments=attachments,
        extracted_by={name: rungs.get(name) for name in RUNGS},
        disagreements=_disagreements(title, day if date_source == "page" else None, listed),
    )


def _disagreements(title: str | None, shown_day: str | None, listed: Listed | None) -> tuple[str, ...]:
    """The fields whose page value the listing contradicts: a title it does not show (whole, or
    cut short), a date it prints otherwise. Only what both sides state is compared."""
    if listed is None:
        return ()
    fields = []
    if title and (listed.title or listed.text) and not listing_shows_title(listed, title):
        fields.append("title")
    if shown_day and listed.date and listed.date != shown_day:
        fields.append("date")
    return tuple(fields)


def listing_shows_title(listed: Listed, title: str) -> bool:
    """Whether the listing's title attribute or link text is ``title``, whole or cut short."""
    folded = collapse_whitespace(title).casefold()
    for shown in (listed.title, listed.text):
        shown = collapse_whitespace(shown).casefold()
        if not shown:
            continue
        stem = CUT_MARK_RE.sub("", shown)
        if shown == folded or (stem != shown and stem and folded.startswith(stem)):
            return True
    return False


def _first_rung(
    rungs: dict[str, str], name: str, candidates: tuple[tuple[str, str | None], ...]
) -> str | None:
    for rung, value in candidates:
        if value:
            rungs[name] = rung
            return value
    return None


def is_noise(line: Line) -> bool:
    return line.link_density > LINK_DENSE or bool(NOISE_LINE_RE.match(line.text))


def is_breadcrumb(line: Line) -> bool:
    return bool(BREADCRUMB_LABEL_RE.match(line.text) or HOME_CRUMB_RE.match(line.text))


def is_metadata(line: Line) -> bool:
    """A line that starts with a label ("Source: CNIS", "浏览次数：12") is metadata, not prose."""
    return bool(ANY_LABEL_RE.match(line.text))


def date_field(text: str) -> re.Match[str] | None:
    """The labelled date of a date line: one followed only by a time, separators or labels."""
    if not any(colon in text for colon in COLONS):  # no label: spares the regex most lines
        return None
    for match in DATE_FIELD_RE.finditer(text):
        rest = text[match.end() :]
        rest = rest[DATE_TAIL_RE.match(rest).end() :]  # type: ignore[union-attr]  # matches ""
        if not rest or not re.match(r"[^\W\d]", rest) or ANY_LABEL_RE.match(rest):
            return match
    return None


def join_label_cells(lines: list[Line]) -> list[Line]:
    """Lines as they read: a label alone on its line is joined with the value line after it."""
    joined: list[Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        if previous is not None and LABEL_ONLY_RE.match(previous.text) and not is_metadata(line):
            joined[-1] = Line(
                f"{previous.text}{line.text}", previous.block, previous.link_chars + line.link_chars
            )
        else:
            joined.append(line)
    return joined


class _Layout:
    """Where the date line, breadcrumb and headline sit among the page's visible lines."""

    def __init__(self, doc: Document, article_url: ArticleUrl | None) -> None:
        self.doc = doc
        self.lines = join_label_cells(doc.lines)
        self.breadcrumb_index = next((i for i, line in enumerate(self.lines) if is_breadcrumb(line)), None)
        self.breadcrumb = None if self.breadcrumb_index is None else self.lines[self.breadcrumb_index]
        self.date_index, self.date_match = self._find_date_line(article_url)

    def _find_date_line(self, article_url: ArticleUrl | None) -> tuple[int | None, re.Match[str] | None]:
        """The first date line after the breadcrumb that is not later than the URL's date.

        Site headers show today's date before the breadcrumb; the shown date of an article is
        never later than its URL date (facts, section 5). Either rule only breaks ties.
        """
        url_day = article_url.url_date.isoformat() if article_url else "9999-12-31"
        after = self.breadcrumb_index if self.breadcrumb_index is not None else -1
        candidates = [
            (index <= after, (_parse_day(match.group(0)) or "") > url_day, index, match)
            for index, line in enumerate(self.lines)
            if line.link_density <= LINK_DENSE and (match := date_field(line.text))
        ]
        if not candidates:
            return None, None
        _, _, index, match = min(candidates, key=lambda candidate: candidate[:3])
        return index, match

    def breadcrumb_trail(self) -> str | None:
        if self.breadcrumb is None:
            return None
        text = BREADCRUMB_LABEL_RE.sub("", self.breadcrumb.text)
        crumbs = [crumb for crumb in BREADCRUMB_SPLIT_RE.split(text) if crumb]
        if crumbs and crumbs[0] in HOME_CRUMBS:
            crumbs = crumbs[1:]
        return " > ".join(crumbs) or None

    def headline(self, rungs: dict[str, str]) -> tuple[str | None, str | None]:
        """Title and subtitle from the text before the date line's labels, or the lines above it."""
        if self.date_index is None:
            return None, None
        line = self.lines[self.date_index]
        first_label = ANY_LABEL_RE.search(line.text)
        before_labels = line.text[: first_label.start() if first_label else 0].strip(" |/·")
        if before_labels and not is_breadcrumb(line):
            rungs["title"] = "title-on-date-line"
            return before_labels, None
        above = self._lines_above_date()
        if not above:
            return None, None
        rungs["title"] = "line-above-date"
        if len(above) == 1:
            return above[0].text, None
        first, second = above
        references = _reference_titles(self.doc)
        if _matches_any(second.text, references) and not _matches_any(first.text, references):
            return second.text, None
        rungs["subtitle"] = "line-under-title"
        return first.text, second.text

    def _lines_above_date(self) -> list[Line]:
        crumbs = set((self.breadcrumb_trail() or "").split(" > "))
        above: list[Line] = []
        for line in reversed(self.lines[: self.date_index]):
            if is_metadata(line):
                continue
            if is_breadcrumb(line) or is_noise(line) or line.text in crumbs:
                break
            above.insert(0, line)
            if len(above) == MAX_HEADLINE_LINES:
                break
        return above

    def _metadata_lines(self) -> list[Line]:
        """The date line and the label-only lines right under it."""
        if self.date_index is None:
            return []
        lines = [self.lines[self.date_index]]
        for line in self.lines[self.date_index + 1 :]:
            if not is_metadata(line):
                break
            lines.append(line)
        return lines

    def source_value(self) -> str | None:
        for line in self._metadata_lines():
            if match := SOURCE_FIELD_RE.search(line.text):
                value = match["value"]
                if next_label := NEXT_LABEL_RE.search(value):
                    value = value[: next_label.start()]
                value = VALUE_END_RE.split(value, maxsplit=1)[0].strip(" ,;，；")
                if value:
                    return value
        return None

    def body(self, rungs: dict[str, str]) -> tuple[list[Line], str | None]:
        """Body lines and a trailing ``(Source: X)`` note, from the first rung that finds prose."""
        if self.date_index is not None:
            lines, note = self._body_after_date_line()
            if lines:
                rungs["body"] = "after-date-line"
                return lines, note
        metadata = {id(line) for line in self._metadata_lines()}
        candidates = [line for line in self.lines if id(line) not in metadata]
        for xpath in BODY_CONTAINER_XPATHS:
            for container in self.doc.selector.xpath(xpath):
                lines, note = _prose(_lines_inside(candidates, container.root))
                if lines:
                    rungs["body"] = "known-container"
                    return lines, note
        lines, note = _prose(_densest_block(candidates), footer=True)
        if lines:
            rungs["body"] = "density"
        return lines, note

    def _body_after_date_line(self) -> tuple[list[Line], str | None]:
        """The prose after the date line, kept inside the block that holds it when there is one.

        That block is the highest ancestor of the first prose line that does not also hold the
        date line: the body's own container, which leaves sidebars and the footer outside.
        """
        assert self.date_index is not None
        after = self.lines[self.date_index + len(self._metadata_lines()) :]
        flat, flat_note = _prose(after, footer=True)
        if not flat:
            return flat, flat_note
        container = _own_container(flat[0].block, self.lines[self.date_index].block)
        if container is None:
            return flat, flat_note
        scoped, note = _prose(_lines_inside(after, container))
        if container is flat[0].block and len(scoped) < 2 and (shared := container.getparent()) is not None:
            # Paragraphs are siblings of the date line: their container is the one they share.
            return _prose(_lines_inside(after, shared), footer=True)
        if _text_length(scoped) < CONTAINER_MIN_SHARE * _text_length(flat):
            return flat, flat_note
        return scoped, note


def _own_container(block: Element, date_block: Element) -> Element | None:
    if _contains(block, date_block):
        return None
    container = block
    while (parent := container.getparent()) is not None and not _contains(parent, date_block):
        container = parent
    return container


def _contains(ancestor: Element, element: Element) -> bool:
    return element is ancestor or any(node is ancestor for node in element.iterancestors())


def _text_length(lines: list[Line]) -> int:
    return sum(len(line.text) for line in lines)


def _prose(lines: list[Line], *, footer: bool = False) -> tuple[list[Line], str | None]:
    """Keep the article's own lines until an end marker (and the site footer, if asked)."""
    kept: list[Line] = []
    note: str | None = None
    for index, line in enumerate(lines):
        if ARTICLE_END_RE.match(line.text) or (footer and SITE_FOOTER_RE.match(line.text)):
            break
        if match := SOURCE_NOTE_RE.match(line.text):
            note = match["value"]
            continue
        furniture = is_noise(line) or is_breadcrumb(line)
        if not furniture and not _heads_link_box(line, lines[index + 1 : index + 2]):
            kept.append(line)
    return kept, note


def _heads_link_box(line: Line, following: list[Line]) -> bool:
    return (
        len(line.text) <= BOX_HEADING_MAX_CHARS
        and not SENTENCE_END_RE.search(line.text)
        and bool(following)
        and following[0].link_density > LINK_DENSE
    )


def _lines_inside(lines: list[Line], container: Element) -> list[Line]:
    return [line for line in lines if _contains(container, line.block)]


def _densest_block(lines: list[Line]) -> list[Line]:
    """The lines of the element whose paragraphs hold the most non-link text."""
    scores: dict[Element, int] = {}
    for line in lines:
        if not is_noise(line):
            parent = line.block.getparent()
            container = parent if parent is not None else line.block
            scores[container] = scores.get(container, 0) + len(line.text) - line.link_chars
    if not scores:
        return []
    return _lines_inside(lines, max(scores, key=scores.__getitem__))


def _reference_titles(doc: Document) -> list[str]:
    titles = [doc.meta_value(META_TITLE), _html_title(doc)]
    titles += doc.selector.xpath("//h1//text()").getall()
    return [collapse_whitespace(title).casefold() for title in titles if title and title.strip()]


def _matches_any(text: str, references: list[str]) -> bool:
    folded = text.casefold()
    return any(folded == ref or ref.startswith(folded) for ref in references)


def _html_title(doc: Document) -> str | None:
    return TITLE_SUFFIX_RE.sub("", doc.html_title).strip() or None


def _title_fallbacks(doc: Document, listing_title: str | None) -> tuple[tuple[str, str | None], ...]:
    h1 = collapse_whitespace(doc.selector.xpath("string(//h1)").get() or "")
    return (
        ("meta", doc.meta_value(META_TITLE)),
        ("h1", h1),
        ("html-title", _html_title(doc)),
        ("listing-link", collapse_whitespace(listing_title or "")),
    )


def _parse_day(text: str | None) -> str | None:
    if not text or not (match := ISO_DATE_RE.search(text)):
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"])).isoformat()
    except ValueError:
        return None


def _date(
    doc: Document,
    date_match: re.Match[str] | None,
    article_url: ArticleUrl | None,
    rungs: dict[str, str],
) -> tuple[str | None, str | None]:
    """The date the page shows; the URL's date only as a fallback marked ``url``."""
    shown = _first_rung(
        rungs,
        "date",
        (
            ("date-label", _parse_day(date_match.group(0)) if date_match else None),
            ("meta", _parse_day(doc.meta_value(META_DATE))),
        ),
    )
    if shown:
        return shown, "page"
    if article_url is not None:
        rungs["date"] = "url"
        return article_url.url_date.isoformat(), "url"
    return None, None


def _attachments(doc: Document, article_url: ArticleUrl | None) -> list[dict[str, str]]:
    if article_url is None:
        return []
    found: dict[str, str] = {}
    for href, anchor in doc.anchors:
        if is_attachment(href, article_url) and (url := canonical_url(href)) not in found:
            found[url] = link_text(anchor) or url.rsplit("/", 1)[-1]
    return [{"name": name, "url": url} for url, name in found.items()]
