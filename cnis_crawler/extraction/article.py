"""Title, date, source, section and body of an article page, each an ordered cascade of rungs.

The first rungs read signals that survive a redesign: the date line, found by its label
(``Date:``, ``时间：``), by any other label or by its shape alone (a short line holding a date
beside the headline); the breadcrumb text; the lines around the date line; standard meta tags.
Known container classes and text density come later. The title is the candidate most signals
agree on, the listing's link among them; the listing's date picks between date lines found by
shape. Every field reports the rung that produced it, so a template change shows up in the data
as a shift of rungs rather than as silent damage.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING

from cnis_crawler.extraction.dates import find_dates, parse_day
from cnis_crawler.extraction.document import HEADING_TAGS, Document, Line, link_text, read_page, text_of
from cnis_crawler.extraction.furniture import (
    BREADCRUMB_LABEL_RE,
    BREADCRUMB_SPLIT_RE,
    LINK_DENSE,
    is_breadcrumb,
    is_control,
    is_furniture,
    is_noise,
)
from cnis_crawler.extraction.images import article_images
from cnis_crawler.extraction.labels import (
    ANY_LABEL_RUNG,
    AUTHOR_RE,
    DATE_LABEL_RUNG,
    DATE_LINE_MAX_CHARS,
    LABEL_AT_START_RE,
    OPENING_BRACKETS,
    SENTENCE_END_RE,
    SEPARATOR_CHARS,
    UNLABELLED_RUNG,
    closing_attribution,
    is_label_line,
    is_label_only,
    is_metadata,
    is_sentence,
    join_label_cells,
    labelled_source,
    meta_value_unlabelled,
    read_date_line,
)
from cnis_crawler.extraction.patterns import has_colon
from cnis_crawler.extraction.standards import named_in
from cnis_crawler.extraction.titles import (
    agrees,
    cut_stem,
    disagreements,
    fold,
    is_page_name,
    matches_any,
    title_witnesses,
)
from cnis_crawler.site import (
    ARTICLE_END_RE,
    BODY_CONTAINER_XPATHS,
    HOME_CRUMBS,
    META_DATE,
    META_SOURCE,
    SITE_FOOTER_RE,
    SOURCE_NOTE_RE,
)
from cnis_crawler.urls import (
    ArticleUrl,
    canonical_url,
    could_be_attachment,
    is_attachment,
    parse_article_url,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.etree import _Element as Element

    from cnis_crawler.extraction.listing import Listed


# Title plus subtitle: the most lines above the date line that can belong to the headline.
MAX_HEADLINE_LINES = 2
# Longer lines are prose, not a headline standing under the date line.
HEADLINE_MAX_CHARS = 200
# A date line found by shape stands this close to the headline: above it, or under a subtitle.
HEADLINE_REACH = 2
# Label lines this many lines from the headline may hold the source.
SOURCE_NEAR_HEADLINE = 2
# Label lines this many rows around the date line, in its table, may hold the source.
SOURCE_REACH = 6
# A dated list's item: a title this long at most, and its date at either end (brackets aside).
DATED_ITEM_MAX_CHARS = 100
DATE_EDGE_CHARS = 2
# A date line after this many paragraphs of the article closes it (the lead and one more).
PARAGRAPHS_BEFORE_A_CLOSING_DATE = 2
PARAGRAPH_MIN_CHARS = 20
# A table with this many label cells around the date line is a table of metadata.
INFORMATION_TABLE_MIN_LABELS = 3
CELL_TAGS = frozenset(("td", "th"))
# Text before a date found by shape ("By Li Na | ", "Submitted by webmaster on Wed, "), at most.
PREFIX_MAX_CHARS = 40
# Date lines found by shape looked at, at most: a page of hundreds of dated lines is a list.
MAX_SHAPE_CANDIDATES = 20
# A short line with no sentence punctuation, directly above a link-dense line, heads a box of
# links ("Hot news", "最新动态"). 24 characters: box headings seen run 2-15; body sentences end
# in punctuation, and captions rarely stand right above a link list.
BOX_HEADING_MAX_CHARS = 24
# The body's own container must hold at least this share of the prose found without it;
# below that the body is spread over sibling blocks (a lead paragraph wrapped on its own).
CONTAINER_MIN_SHARE = 0.5

# Every field's cascade, strongest rung first; records name the rung that produced each field.
RUNGS: dict[str, tuple[str, ...]] = {
    "title": (
        "title-on-date-line", "line-above-date", "meta", "h1", "html-title",
        "line-below-date", "listing-link",
    ),
    "subtitle": ("line-under-title",),
    "date": (DATE_LABEL_RUNG, ANY_LABEL_RUNG, UNLABELLED_RUNG, "meta", "url"),
    "source": ("source-label", "after-date", "source-note", "meta"),
    "section": ("breadcrumb", "url-section"),
    "body": ("after-date-line", "known-container", "density"),
}  # fmt: skip


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
    images: list[dict[str, str | None]] = field(default_factory=list)
    """The article's pictures (see :mod:`cnis_crawler.extraction.images`)."""
    standards: list[str] = field(default_factory=list)
    """The standards the title and body name (see :mod:`cnis_crawler.extraction.standards`)."""
    committees: list[str] = field(default_factory=list)
    extracted_by: dict[str, str | None] = field(default_factory=dict)
    """The rung that produced each field of :data:`RUNGS`; None where no rung found a value."""
    disagreements: tuple[str, ...] = ()
    """The fields (``title``, ``date``) whose page value differs from what the listing showed."""


def extract_article(
    html: str, url: str, listed: Listed | None = None, continuations: Sequence[str] = ()
) -> ArticleFields:
    """Read an article page. ``url`` is the live URL; ``listed`` what the listing showed for it;
    ``continuations`` the HTML of its further pages, whose bodies are appended in order."""
    doc = read_page(html, url)
    article_url = parse_article_url(url)
    page = _Layout(doc, article_url, listed)
    rungs: dict[str, str] = {}

    head = page.head
    title, subtitle = head.title, head.subtitle
    rungs.update(head.rungs)
    day, date_source = _date(doc, page.date_line, article_url, rungs)
    body_lines, source_note = page.body(rungs)
    body_lines = [line for line in body_lines if line.text not in (title, subtitle)]
    images, captions = article_images(doc, body_lines, page.headline_and_date())
    attachments = _attachments(doc, article_url)
    for part_html in continuations:
        part_doc = read_page(part_html, url)
        part_lines, part_note = _Layout(part_doc, article_url, listed).body({})
        body_lines += part_lines
        source_note = part_note or source_note  # a repost's closing note sits on its last page
        part_images, part_captions = article_images(part_doc, part_lines)
        shown = {image["url"] for image in images}
        images += [found for found in part_images if found["url"] not in shown]  # a picture once
        captions |= part_captions
        attachments += [found for found in _attachments(part_doc, article_url) if found not in attachments]
    if any(id(line) not in captions for line in body_lines):
        body_lines = [line for line in body_lines if id(line) not in captions]
    labelled_source, bare_source = page.source_values()
    source = _first_rung(
        rungs,
        "source",
        (
            ("source-label", labelled_source),
            ("after-date", bare_source),
            ("source-note", source_note),
            ("meta", meta_value_unlabelled(doc.meta_value(META_SOURCE))),
        ),
    )
    section = _first_rung(
        rungs,
        "section",
        (
            ("breadcrumb", page.breadcrumb_trail()),
            # A section found on the site has no trail of ours: its folder names it.
            ("url-section", (article_url.section.trail or article_url.section.path) if article_url else None),
        ),
    )
    body = "\n\n".join(line.text for line in body_lines if line.text not in (title, subtitle))  # pages 2, 3 …
    standards, committees = named_in(title, subtitle, body)
    return ArticleFields(
        title=title,
        subtitle=subtitle,
        date=day,
        date_source=date_source,
        source=source,
        section=section,
        body=body,
        attachments=attachments,
        images=images,
        standards=standards,
        committees=committees,
        extracted_by={name: rungs.get(name) for name in RUNGS},
        disagreements=disagreements(title, day if date_source == "page" else None, listed),
    )


def _first_rung(
    rungs: dict[str, str], name: str, candidates: tuple[tuple[str, str | None], ...]
) -> str | None:
    for rung, value in candidates:
        if value:
            rungs[name] = rung
            return value
    return None


@dataclass(frozen=True)
class Head:
    """The headline as read: title, subtitle, their rungs, and where the body starts."""

    title: str | None
    subtitle: str | None
    rungs: dict[str, str]
    labels_start: int
    """Under a headline that stands under the date line, its own label lines start here."""
    body_start: int


@dataclass(frozen=True)
class DateLine:
    """The line that shows the article's date, and what stands on it."""

    index: int
    day: str
    rung: str
    title_end: int
    """Where the metadata starts on the line: text before it is a headline on the date line."""
    bare_value: str | None
    """An unlabelled value after the date ("2024-03-15 | CNIS"): the source, if anything."""
    after_body: bool = False
    """The date line closes the article ("…</p><div>发布日期：…</div>"): it tells the date, and
    neither where the headline stands nor where the body starts."""


class _Layout:
    """Where the date line, breadcrumb and headline sit among the page's visible lines."""

    def __init__(self, doc: Document, article_url: ArticleUrl | None, listed: Listed | None) -> None:
        self.doc = doc
        self.listed = listed
        self.lines = join_label_cells(doc.lines)
        self.breadcrumb_index = next((i for i, line in enumerate(self.lines) if is_breadcrumb(line)), None)
        self.breadcrumb = None if self.breadcrumb_index is None else self.lines[self.breadcrumb_index]
        self.date_line = self._find_date_line(article_url)
        self.head_start, self.head_end = self._metadata_block()

    def headline_and_date(self) -> list[Line]:
        """The date line, and the title and subtitle where they stand under it."""
        if self.date_line is None:
            return []
        date_line = self.lines[self.date_line.index]
        shown = (self.head.title, self.head.subtitle)
        under = self.lines[self.date_line.index + 1 : self.head.body_start]
        return [date_line, *(line for line in under if line.text in shown)]

    @cached_property
    def _under_pictures(self) -> set[int]:
        """``id`` of the lines a picture stands right above (on no line of its own)."""
        lines = self.doc.lines
        return {id(lines[p.line]) for p in self.doc.pictures if not p.inline and p.line < len(lines)}

    @cached_property
    def witnesses(self) -> list[tuple[str, str]]:
        return title_witnesses(self.doc, self.listed)

    def _find_date_line(self, article_url: ArticleUrl | None) -> DateLine | None:
        """The first date line after the breadcrumb that is not later than the URL's date.

        Site headers show today's date before the breadcrumb; the shown date of an article is
        never later than its URL date (facts, section 5). Either rule only breaks ties. A date
        line found by its shape alone (no known label) must pass :meth:`_stands_like_a_date_line`,
        agree with the listing's date where the listing prints one, and yields to a known label
        among the label lines that follow it.
        """
        url_day = article_url.url_date.isoformat() if article_url else "9999-12-31"
        after = self.breadcrumb_index if self.breadcrumb_index is not None else -1
        listed_day = self.listed.date if self.listed else None
        prose: list[int] = []  # prose characters before each line, counted when first needed
        best: tuple[tuple[bool, bool, bool, int], DateLine] | None = None
        weak_seen = 0
        for index, line in enumerate(self.lines):
            if best is not None and best[0][:3] == (False, False, False):
                # The first fitting date line after the breadcrumb, unless it was found by shape
                # and a known label follows among its label lines or cells ("成文日期：…", "发布日期：…").
                best_block = self.lines[best[1].index].block
                if best[1].rung == DATE_LABEL_RUNG or not (
                    is_label_line(line) or _siblings(line.block, best_block)
                ):
                    break
            text = line.text
            if len(text) > DATE_LINE_MAX_CHARS and not has_colon(text):
                continue  # a paragraph; a long date line is a headline and a labelled date
            if not (read := read_date_line(text)):
                continue
            found_date, rung, title_end, bare_value = read
            day = found_date.day
            if (other := found_date.other_reading) is not None and (
                other == listed_day or (day > url_day >= other)
            ):
                day = other  # "05/10/2023" read day first: the listing says so, or the URL's date
            if line.link_density > LINK_DENSE and rung != DATE_LABEL_RUNG:
                continue  # a link list; a known label may link its date ("Posted on <a>May 10</a>")
            weak = rung != DATE_LABEL_RUNG
            if weak:
                weak_seen += 1
                if weak_seen > MAX_SHAPE_CANDIDATES or not self._stands_like_a_date_line(
                    index, text[:title_end], prose, after
                ):
                    continue
            misfit = weak and listed_day is not None and day != listed_day
            key = (day > url_day, index <= after, misfit, index)
            date_line = DateLine(index, day, rung, title_end, bare_value)
            if (
                best is None
                or key < best[0]
                or (best[1].rung != DATE_LABEL_RUNG and not weak and key[:3] == best[0][:3])
            ):
                best = (key, date_line)
        if best is None:
            return None
        if self._closes_the_article(best[1].index, after):
            return replace(best[1], after_body=True)
        return best[1]

    def _closes_the_article(self, index: int, after: int) -> bool:
        """Whether paragraphs stand between the headline (or the breadcrumb) and the date line."""
        if self._paragraphs_between(after + 1, index) < PARAGRAPHS_BEFORE_A_CLOSING_DATE:
            return False  # most pages: the date line stands right by the headline
        start = next((headline for headline in self.headline_indexes if headline < index), after) + 1
        return self._paragraphs_between(start, index) >= PARAGRAPHS_BEFORE_A_CLOSING_DATE

    def _paragraphs_between(self, start: int, end: int) -> int:
        paragraphs = 0
        for line in self.lines[start:end]:
            if is_paragraph(line) and not (is_furniture(line) or is_label_line(line)):
                paragraphs += 1
                if paragraphs >= PARAGRAPHS_BEFORE_A_CLOSING_DATE:
                    break
        return paragraphs

    def _stands_like_a_date_line(self, index: int, prefix: str, prose: list[int], after: int) -> bool:
        """A date line found by shape starts with its date or its labels (or with the title the
        head or the listing states); stands beside the headline (where the page shows a line the
        head or the listing names as the title), before most of the prose; and is no item of a
        list of links or of dated items (a sidebar)."""
        prefix = prefix.strip(SEPARATOR_CHARS + OPENING_BRACKETS)
        if prefix and not LABEL_AT_START_RE.match(prefix) and not self._states_title(prefix):
            # "By Li Na | Updated: …", "Submitted by webmaster on …" may stand before a date; a
            # headline that holds a date ("标准化大讲堂（2025年10月21日）") or a sentence may not.
            headline = self._states_title(self.lines[index].text)
            if headline or len(prefix) > PREFIX_MAX_CHARS or is_sentence(prefix):
                return False
        if self._in_link_list(index) or self._in_dated_list(index):
            return False
        if self.headline_indexes:
            return any(self._reach(index, headline) <= HEADLINE_REACH for headline in self.headline_indexes)
        if not prose:
            prose.append(0)
            for line in self.lines:
                counts = not (is_furniture(line) or SITE_FOOTER_RE.match(line.text))
                prose.append(prose[-1] + (len(line.text) - line.link_chars if counts else 0))
        return prose[-1] - prose[index + 1] >= prose[index] - prose[after + 1]

    def _reach(self, index: int, other: int) -> int:
        """Lines from one to the other, not counting the label lines and controls between."""
        between = self.lines[min(index, other) + 1 : max(index, other)]
        return 1 + sum(not (is_label_line(line) or is_furniture(line)) for line in between)

    def _states_title(self, text: str) -> bool:
        return any(agrees(witness, text) for _, witness in self.witnesses)

    def _in_dated_list(self, index: int) -> bool:
        """An item of a list whose other items are dated too: "2025-01-01 甲新闻", "乙新闻 2025-02-01"
        (two others in a table, whose rows are layout as often as a list)."""
        item = _list_item(self.lines[index].block)
        if item is None or (parent := item.getparent()) is None:
            return False
        dated = sum(other is not item and other.tag == item.tag and _is_dated_item(other) for other in parent)
        return dated >= (2 if item.tag == "tr" else 1)

    def _in_link_list(self, index: int) -> bool:
        item = _list_item(self.lines[index].block)
        if item is None:
            return False
        neighbours = self.lines[max(index - 1, 0) : index] + self.lines[index + 1 : index + 2]
        return any(line.link_density > LINK_DENSE and _contains(item, line.block) for line in neighbours)

    @cached_property
    def headline_indexes(self) -> list[int]:
        """Where the page shows, as a line of its own, a title its head or the listing states."""
        whole = {fold(text) for _, text in self.witnesses}
        stems = tuple(stem for text in whole if (stem := cut_stem(text)) is not None)
        found = []
        for index, line in enumerate(self.lines):
            if len(line.text) <= HEADLINE_MAX_CHARS and line.link_density <= LINK_DENSE:
                folded = fold(line.text)
                if folded in whole or (stems and folded.startswith(stems)):
                    found.append(index)
        return found

    def _metadata_block(self) -> tuple[int, int]:
        """The date line with the label lines and control rows right above and under it. A line
        with a label of unknown wording counts only in an element beside the date line's: the
        body may open with "地址：…" or "联系人：…", and its paragraphs have a container of their own.
        """
        if self.date_line is None:
            return 0, 0
        date_block = self.lines[self.date_line.index].block

        def beside(line: Line) -> bool:
            return is_metadata(line) or (is_label_line(line) and _siblings(line.block, date_block))

        start = end = self.date_line.index
        while start > 0 and beside(self.lines[start - 1]):
            start -= 1
        end += 1
        table = self._information_table(date_block)
        while end < len(self.lines) and (
            beside(line := self.lines[end])
            or is_furniture(line)
            or (
                id(line) in table
                and (LABEL_AT_START_RE.match(line.text) or is_label_only(self.lines[end - 1]))
            )
        ):
            end += 1
        return start, end

    def _information_table(self, date_block: Element) -> set[int]:
        """The short cells of the table the date line stands in, if it is a table of labels
        ("索引号：", "发布机构：", "发文日期：", "名称：", "文号："): ``id`` of their lines. Its label
        cells, and the value cell after a label alone in its cell, are metadata."""
        if date_block.tag not in CELL_TAGS:
            return set()
        cells = [
            line
            for line in self.lines
            if line.block.tag in CELL_TAGS
            and len(line.text) <= HEADLINE_MAX_CHARS
            and _siblings(line.block, date_block)
        ]
        if sum(bool(LABEL_AT_START_RE.match(line.text)) for line in cells) < INFORMATION_TABLE_MIN_LABELS:
            return set()
        return {id(line) for line in cells}

    def breadcrumb_trail(self) -> str | None:
        if self.breadcrumb is None:
            return None
        text = BREADCRUMB_LABEL_RE.sub("", self.breadcrumb.text)
        crumbs = [crumb for crumb in BREADCRUMB_SPLIT_RE.split(text) if crumb]
        if crumbs and crumbs[0] in HOME_CRUMBS:
            crumbs = crumbs[1:]
        return " > ".join(crumbs) or None

    @cached_property
    def head(self) -> Head:
        """Title and subtitle: of the page's own candidates (text before the date line's labels,
        the lines above it, the line under it, meta, h1, <title>), the one that most of the
        others and the listing agree with; on a tie, the strongest rung. Where the headline
        stands under the date line, the body starts after it and the labels under it."""
        own = self._headline_candidates()
        candidates = own + [(rung, text) for rung, text in self.witnesses if rung != "listing-link"]
        if not candidates:
            rungs: dict[str, str] = {}
            title = _first_rung(rungs, "title", tuple((r, t) for r, t in self.witnesses))
            return self._head_of_witness(title, rungs)
        everyone = [text for _, text in candidates] + [t for r, t in self.witnesses if r == "listing-link"]

        def support(text: str) -> int:
            return sum(agrees(other, text) for other in everyone) - 1

        order = {rung: rank for rank, rung in enumerate(RUNGS["title"])}
        rung, title = min(candidates, key=lambda c: (-support(c[1]), order[c[0]]))
        # The same text as a line of the page: that line is the headline, and where it stands
        # tells the subtitle and the body's start.
        rung = next((own_rung for own_rung, text in own if fold(text) == fold(title)), rung)
        rungs = {"title": rung}
        subtitle, labels_start, body_start = None, self.head_end, self.head_end
        if rung == "line-above-date":
            title, subtitle = self._title_and_subtitle()
            if subtitle is None and (under := self._subtitle_under_date()) is not None:
                subtitle, labels_start, body_start = under
        elif rung == "line-below-date":
            title_index = self._line_below_index
            subtitle = self._subtitle_below(title_index)
            labels_start = body_start = title_index + 1 + (subtitle is not None)
            title_block = self.lines[title_index].block
            while body_start < len(self.lines) and self._head_metadata(self.lines[body_start], title_block):
                body_start += 1
        elif not own:
            return self._head_of_witness(title, rungs)
        if subtitle is not None:
            rungs["subtitle"] = "line-under-title"
        return Head(title, subtitle, rungs, labels_start, body_start)

    def _head_of_witness(self, title: str | None, rungs: dict[str, str]) -> Head:
        """A title the page's head or the listing states, where no date line places it: its line
        on the page, if any, may have a deck under it (a standfirst), never part of the body."""
        subtitle = None
        if title is not None:
            line_index = next((i for i in self.headline_indexes if agrees(title, self.lines[i].text)), None)
            if line_index is not None and (subtitle := self._subtitle_below(line_index)) is not None:
                rungs["subtitle"] = "line-under-title"
        return Head(title, subtitle, rungs, self.head_end, self.head_end)

    def _subtitle_under_date(self) -> tuple[str, int, int] | None:
        """A short line right under the date line that label lines follow before the body (a
        CMS's fields: title, date, subtitle, source): the subtitle, where its labels start, and
        where the body starts."""
        index = self.head_end
        if index + 1 >= len(self.lines) or not self._could_be_subtitle(self.lines[index]):
            return None
        end = index + 1
        while end < len(self.lines) and (is_label_line(self.lines[end]) or is_furniture(self.lines[end])):
            end += 1
        if not any(is_label_line(line) for line in self.lines[index + 1 : end]):
            return None
        return self.lines[index].text, index + 1, end

    def _could_be_subtitle(self, line: Line) -> bool:
        return not (
            id(line) in self._under_pictures  # a picture's caption: the body has begun
            or len(line.text) > HEADLINE_MAX_CHARS
            or SENTENCE_END_RE.search(line.text)
            or is_label_line(line)
            or is_furniture(line)
            or LABEL_AT_START_RE.match(line.text)
            or AUTHOR_RE.match(line.text)  # "By Wang Li": a byline
            or read_date_line(line.text)
        )

    def _head_metadata(self, line: Line, title_block: Element) -> bool:
        """Under a headline: controls, known labels, label lines beside it, a second date line
        ("Time: 2018-05-18 09:47:53 From: …")."""
        return (
            is_furniture(line)
            or is_metadata(line)
            or (is_label_line(line) and _siblings(line.block, title_block))
            or read_date_line(line.text) is not None
        )

    def _subtitle_below(self, title_index: int) -> str | None:
        """The line under a headline that stands under the date line, if it belongs to the head:
        short, no sentence, beside the headline's element while the prose after it is not."""
        if title_index + 1 >= len(self.lines):
            return None
        title, line = self.lines[title_index], self.lines[title_index + 1]
        if not self._could_be_subtitle(line):  # also no furniture: the deck stands right under it
            return None
        lines_after = self.lines[title_index + 2 :]
        following = next(
            (other for other in lines_after if not self._head_metadata(other, title.block)), None
        )
        if not _siblings(line.block, title.block) or (
            following is not None
            and _siblings(following.block, title.block)
            and line.block.tag not in HEADING_TAGS  # <h1>title</h1><h2>subtitle</h2><p>…
        ):
            return None
        return line.text

    def _headline_candidates(self) -> list[tuple[str, str]]:
        if self.date_line is None or self.date_line.after_body:
            return []
        line = self.lines[self.date_line.index]
        before = line.text[: self.date_line.title_end].strip(SEPARATOR_CHARS + OPENING_BRACKETS)
        if before and not is_breadcrumb(line) and not LABEL_AT_START_RE.match(before):
            if self.date_line.rung == DATE_LABEL_RUNG:
                return [("title-on-date-line", before)]
            # Where the label is unknown, so is where it starts: a title the head or the listing
            # states, standing at the start of the line, is the headline.
            folded = fold(line.text)
            for _, witness in self.witnesses:
                if len(witness) < len(line.text) and folded.startswith(fold(witness)):
                    return [("title-on-date-line", witness)]
        candidates = []
        if above := self._lines_above_date:
            candidates.append(("line-above-date", above[0].text))
        below = self._line_below_date()
        if below is not None and (not above or any(agrees(w, below.text) for _, w in self.witnesses)):
            candidates.append(("line-below-date", below.text))
        return candidates

    @cached_property
    def _line_below_index(self) -> int:
        """The first line under the date line's block that starts with no label ("名称：…" of an
        information table is the title's label, not the title)."""
        index = self.head_end
        while index < len(self.lines) and LABEL_AT_START_RE.match(self.lines[index].text):
            index += 1
        return index

    def _line_below_date(self) -> Line | None:
        index = self._line_below_index
        if index < len(self.lines) and len(self.lines[index].text) <= HEADLINE_MAX_CHARS:
            line = self.lines[index]
            if not (ARTICLE_END_RE.match(line.text) or SOURCE_NOTE_RE.match(line.text)):
                return line
        return None

    def _title_and_subtitle(self) -> tuple[str, str | None]:
        above = self._lines_above_date
        if len(above) == 1:
            return above[0].text, None
        first, second = above
        references = [fold(text) for _, text in self.witnesses]
        if matches_any(second.text, references) and not matches_any(first.text, references):
            return second.text, None
        return first.text, second.text

    @cached_property
    def _lines_above_date(self) -> list[Line]:
        crumbs = set((self.breadcrumb_trail() or "").split(" > "))
        above: list[Line] = []
        for line in reversed(self.lines[: self.head_start]):
            if is_breadcrumb(line) or is_noise(line) or line.text in crumbs or is_page_name(line.text):
                break  # "Current location: Home >> News" is a breadcrumb before it is a label line
            if is_label_line(line) or is_control(line):
                continue
            if _in_list(line.block):
                break  # a sidebar's items: "2025-02-01 乙新闻"
            above.insert(0, line)
            if len(above) == MAX_HEADLINE_LINES:
                break
        return above

    def source_values(self) -> tuple[str | None, str | None]:
        """The source by its label anywhere in the date line's block, and a bare value after an
        unlabelled date."""
        places = (  # nearest first; each looked at only if the ones before hold no source
            lambda: self.lines[self.head_start : self.head_end],
            lambda: self.lines[self.head.labels_start : self.head.body_start],
            self._label_cells_near,
            self._label_lines_near_headline,
        )
        for lines in places:
            for line in lines():
                if value := labelled_source(line.text):
                    return value, None
        return None, self.date_line.bare_value if self.date_line else None

    def _label_lines_near_headline(self) -> list[Line]:
        """Label lines a line or two from the headline, before the body: "Source: CNIS" above a
        title, or under one on a page whose date line is elsewhere or missing."""
        limit = self.head.body_start if self.date_line is not None else len(self.lines)
        near = {
            index
            for headline in self.headline_indexes
            for index in range(max(headline - SOURCE_NEAR_HEADLINE, 0), headline + SOURCE_NEAR_HEADLINE + 1)
            if index < limit and is_label_line(self.lines[index])
        }
        return [self.lines[index] for index in sorted(near)]

    def _label_cells_near(self) -> list[Line]:
        """Label lines in the cells of the date line's table, a few rows around it: an
        information table ("发文机关：…", "标 题：…", "发布日期：…") puts the source a row away."""
        if self.date_line is None:
            return []
        index, date_block = self.date_line.index, self.lines[self.date_line.index].block
        near = self.lines[max(index - SOURCE_REACH, 0) : min(index + SOURCE_REACH + 1, self.head.body_start)]
        return [line for line in near if is_label_line(line) and _siblings(line.block, date_block)]

    def body(self, rungs: dict[str, str]) -> tuple[list[Line], str | None]:
        """Body lines and a trailing ``(Source: X)`` note, from the first rung that finds prose."""
        if self.date_line is not None and not self.date_line.after_body:
            lines, note = self._body_after_date_line()
            if lines:
                rungs["body"] = "after-date-line"
                return lines, note
        candidates = [
            line
            for index, line in enumerate(self.lines)
            if not self.head_start <= index < self.head.body_start
        ]
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
        assert self.date_line is not None
        after = self.lines[self.head.body_start :]
        flat, flat_note = _prose(after, footer=True)
        if not flat:
            return flat, flat_note
        container = _own_container(flat[0].block, self.lines[self.head.body_start - 1].block)
        if container is None:
            return flat, flat_note
        scoped, note = _prose(_lines_inside(after, container))
        if container is flat[0].block and len(scoped) < 2 and (shared := container.getparent()) is not None:
            # Paragraphs are siblings of the date line: their container is the one they share.
            scoped, note = _prose(_lines_inside(after, shared), footer=True)
        if _text_length(scoped) < CONTAINER_MIN_SHARE * _text_length(flat):
            return flat, flat_note
        return scoped, note


LIST_ITEM_TAGS = frozenset(("li", "tr", "dd", "dt"))


def _in_list(block: Element) -> bool:
    """Inside an item of a list of several (a table row is layout as often as a list)."""
    item = (
        next((node for node in block.iterancestors("li", "dd", "dt")), None) if block.tag != "li" else block
    )
    if item is None or (parent := item.getparent()) is None:
        return False
    return sum(other.tag == item.tag for other in parent) > 1


def is_paragraph(line: Line) -> bool:
    """A sentence or more of prose: ends like a sentence and is no short line."""
    return len(line.text) >= PARAGRAPH_MIN_CHARS and bool(SENTENCE_END_RE.search(line.text))


def _list_item(block: Element) -> Element | None:
    """The list item or table row that holds a block, if any (the block itself included)."""
    if block.tag in LIST_ITEM_TAGS:
        return block
    return next((node for node in block.iterancestors(*LIST_ITEM_TAGS)), None)


def _is_dated_item(item: Element) -> bool:
    """A short item that starts or ends with a date."""
    text = text_of(item)
    if len(text) > DATED_ITEM_MAX_CHARS or not (dates := find_dates(text)):
        return False
    return dates[0].start <= DATE_EDGE_CHARS or dates[-1].end >= len(text) - DATE_EDGE_CHARS


def _siblings(block: Element, other: Element) -> bool:
    """The same element, children of one element, or cells of rows of one table."""
    parent, other_parent = block.getparent(), other.getparent()
    if block is other or parent is other_parent:
        return True
    return (
        parent is not None
        and other_parent is not None
        and parent.tag == other_parent.tag == "tr"
        and parent.getparent() is other_parent.getparent()
    )


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
        if (attribution := closing_attribution(line.text)) is not None:
            note = labelled_source(attribution) or note  # "（供稿单位：科技管理部 撰稿：刘洋）"
            continue
        if not is_furniture(line) and not _heads_link_box(line, lines[index + 1 : index + 2]):
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
    inside = set(container.iter())  # one walk of the container, not one of each line's ancestors
    return [line for line in lines if line.block in inside]


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


def _date(
    doc: Document,
    date_line: DateLine | None,
    article_url: ArticleUrl | None,
    rungs: dict[str, str],
) -> tuple[str | None, str | None]:
    """The date the page shows; the URL's date only as a fallback marked ``url``."""
    if date_line is not None:
        rungs["date"] = date_line.rung
        return date_line.day, "page"
    if shown := parse_day(doc.meta_value(META_DATE)):
        rungs["date"] = "meta"
        return shown, "page"
    if article_url is not None:
        rungs["date"] = "url"
        return article_url.url_date.isoformat(), "url"
    return None, None


def _attachments(doc: Document, article_url: ArticleUrl | None) -> list[dict[str, str]]:
    if article_url is None:
        return []
    if not any(could_be_attachment(node.get("href") or "") for node in doc.selector.root.iter("a")):
        return []
    found: dict[str, str] = {}
    for href, anchor in doc.anchors:
        if is_attachment(href, article_url) and (url := canonical_url(href)) not in found:
            found[url] = link_text(anchor) or url.rsplit("/", 1)[-1]
    return [{"name": name, "url": url} for url, name in found.items()]
