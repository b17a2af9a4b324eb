"""The article's own pictures, in document order, each with its caption and alt text.

A picture is the article's when it stands among the body's lines: between the first and the last
of them, or right before or after them; never inside a line or a block the body left out
(a share bar's icons, a widget). What marks decoration whatever the template: a declared size
under :data:`DECORATION_MAX_PX` (icons, spacers, bullets), a GIF not declared large (spacers,
bullets, counters), ``aria-hidden`` or ``role="presentation"``, a link to another page around it
(a thumbnail of other news), a row of buttons (pictures in ``#`` or script links sharing a
block); after the body's last line, a picture from another host (badges, counters).

A caption is the ``<figcaption>`` of the picture's ``<figure>``; the cell under it in a table of
pictures; else the line right under it (or, on a page that puts captions above its pictures,
the line right above) where that line is set apart: after a line break in the picture's own
block (with the line after it there), centred where the prose is not, in emphasis, in an element
of another kind than the body's paragraphs, or opening as captions do ("图为…", "Photo: …"). A
heading, a list item or a numbered line ("一、", "1.") is never a caption. Else the picture's
``title``. Caption lines leave the body, unless nothing else would be left of it (an article
that is only pictures): then its captions are its body.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cnis_crawler.extraction.document import (
    BLOCK_TAGS,
    HEADING_TAGS,
    Line,
    Picture,
    collapse_whitespace,
    text_of,
)
from cnis_crawler.extraction.furniture import LINK_DENSE, is_control
from cnis_crawler.site import IMAGE_EXTENSIONS
from cnis_crawler.urls import canonical_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.etree import _Element as Element

    from cnis_crawler.extraction.document import Document

# Declared widths or heights below this are icons, bullets and spacers; a news photo that
# declares its size declares hundreds of pixels.
DECORATION_MAX_PX = 100
# A caption runs to a few sentences...
CAPTION_MAX_CHARS = 200
# (on as many lines at most: "图为…<br>（摄影 张三）")
CAPTION_MAX_LINES = 3
# ...one told apart only by the kind of element that holds it, to a sentence or two.
OTHER_ELEMENT_CAPTION_MAX_CHARS = 120
# Lazy-loading pages put the picture here and a placeholder in ``src``.
SOURCE_ATTRIBUTES = ("data-original", "data-src", "data-lazy-src", "src")
EMPHASIS_TAGS = frozenset(("em", "i", "small"))
LIST_TAGS = frozenset(("li", "dt", "dd"))
PIXELS_RE = re.compile(r"^\s*(\d+)\s*(?:px)?\s*$", re.IGNORECASE)
STYLE_SIZE_RE = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+)\s*px", re.IGNORECASE)
SIZE_STYLE_RE = re.compile(r"(?:^|;)\s*(?:width|height)\s*:", re.IGNORECASE)
CENTRED_STYLE_RE = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)
# How a caption opens in Chinese and English news ("图为…", "图：", "Photo: …", "(Photo by …)"):
# the line right by a picture that opens so is its caption, whatever its markup.
CAPTION_CUE_RE = re.compile(
    r"^\s*[（(]?(?:图为|图\s*[:：\d一二三四五六七八九十]|摄影|(?:photo|picture|image)s?\s*(?:[:：]|by\b|shows?\b)"
    r"|the (?:photo|picture|image)s? shows?\b|pictured\b)",
    re.IGNORECASE,
)
# "一、", "（二）", "1.", "2、", "(3)", "第一章": the heading of a part, an item of a list.
NUMBERED_RE = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+\s*[、.\uff0e]|[（(]\s*[一二三四五六七八九十\d]+\s*[）)]|\d+\s*[、.\uff0e)）](?!\d)"
    r"|第[一二三四五六七八九十百\d]+[章节条部篇])"
)
FILE_NAME_RE = re.compile(r"^[\w\-. ]+\.(?:jpe?g|png|gif|bmp|webp|tiff?)$", re.IGNORECASE)


def article_images(
    doc: Document, body: Sequence[Line], head: Sequence[Line] = ()
) -> tuple[list[dict[str, str | None]], set[int]]:
    """The pictures of the article whose body is ``body`` (lines of ``doc``), as records
    (``url``, ``caption``, ``alt``), and the ``id`` of the body lines that are their captions.
    A body of no line (pictures and nothing else) has the pictures right under ``head``, the
    lines of the headline and date, with no caption but their ``title``."""
    index_of = {id(line): index for index, line in enumerate(doc.lines)}
    indexes = {index for line in body if (index := index_of.get(id(line))) is not None}
    pictures_alone = not indexes
    if pictures_alone:
        # The head's lines as the page read them, or the last of the lines each was joined from.
        for line in head:
            joined = (i for i in range(len(doc.lines) - 1, -1, -1) if doc.lines[i].block is line.block)
            if (index := index_of.get(id(line), next(joined, None))) is not None:
                indexes.add(index)
    if not indexes:
        return [], set()
    article = _Body(doc, indexes)
    pictures: list[tuple[Picture, str]] = []
    seen: set[str] = set()
    for picture in doc.pictures:
        url = _source(doc, picture.element)
        if url is not None and url not in seen and article.holds(picture, url):
            seen.add(url)
            pictures.append((picture, url))
    images = []
    caption_lines: set[int] = set()
    if pictures_alone:
        captions: list[tuple[str | None, list[int]]] = [(None, []) for _ in pictures]
    else:
        captions = article.captions([picture for picture, _ in pictures])
    for (picture, url), (caption, lines) in zip(pictures, captions, strict=True):
        caption_lines.update(id(doc.lines[index]) for index in lines)
        caption = caption or _named(picture.element.get("title"))
        images.append({"url": url, "caption": caption, "alt": _named(picture.element.get("alt"))})
    return images, caption_lines


def _named(value: str | None) -> str | None:
    """An attribute's text, unless it is empty or only the file's name ("IMG_1234.JPG")."""
    text = collapse_whitespace(value or "")
    return None if not text or FILE_NAME_RE.match(text) else text


def _source(doc: Document, element: Element) -> str | None:
    for name in SOURCE_ATTRIBUTES:
        value = (element.get(name) or "").strip()
        if value and not value.lower().startswith(("data:", "javascript:", "about:", "#")):
            try:
                url = doc.resolve(value)
                parts = urlsplit(url)
            except ValueError:  # "http://[::1/a.jpg", "http://host:port/": no address, no picture
                return None
            if (
                parts.scheme.lower() not in ("http", "https")
                or not parts.hostname
                or parts.path.endswith("/")
            ):
                return None  # no file: "http://", "//", a folder
            return canonical_url(url, keep_query=True)
    return None


class _Body:
    """The body's lines (indexes into ``doc.lines``) and what every picture is judged by."""

    def __init__(self, doc: Document, indexes: set[int]) -> None:
        self.doc = doc
        self.indexes = indexes
        self.first, self.last = min(indexes), max(indexes)
        while self.first > 0 and is_control(doc.lines[self.first - 1]):
            self.first -= 1  # a picture over the body, under the controls between date line and body
        self.blocks = Counter(doc.lines[index].block for index in indexes)
        self.lines_in: dict[Element, list[int]] = {}
        for index in sorted(indexes):
            self.lines_in.setdefault(doc.lines[index].block, []).append(index)
        # Every element that holds a body line: a picture's block among them holds prose.
        self.holders = {node for block in self.blocks for node in (block, *block.iterancestors())}
        self.site = _site_of(urlsplit(doc.base_url).hostname or "")

    def holds(self, picture: Picture, url: str) -> bool:
        """Among the body's lines, in no block of lines the body left out, no decoration."""
        index = picture.line
        if not self.first <= index <= self.last + 1 or (picture.inline and index not in self.indexes):
            return False
        block = _block_of(picture.element)
        if block not in self.holders and any(
            0 <= neighbour < len(self.doc.lines)
            and neighbour not in self.indexes
            and _inside(self.doc.lines[neighbour].block, block)
            for neighbour in (index - 1, index)
        ):
            return False  # an icon of a widget, a QR code over "扫一扫在手机打开当前页"
        if index == self.last + 1 and _site_of(urlsplit(url).hostname or "") != self.site:
            return False  # after the body, from another site: a badge, a counter
        return not (
            _is_decoration(picture.element, url)
            or _links_elsewhere(self.doc, picture.element)
            or self._in_button_row(picture.element, block)
        )

    def _in_button_row(self, element: Element, block: Element) -> bool:
        """One of several pictures in "#" or script links in one block: share or print buttons."""
        return _is_button(element) and sum(map(_is_button, block.iter("img"))) > 1

    @cached_property
    def usual_tag(self) -> str | None:
        """The kind of element most of the body's lines stand in, if most stand in one."""
        tags: Counter[str] = Counter()
        for block, count in self.blocks.items():
            tags[str(block.tag)] += count
        tag, count = tags.most_common(1)[0]
        return tag if 2 * count > len(self.indexes) else None

    def captions(self, pictures: list[Picture]) -> list[tuple[str | None, list[int]]]:
        """Each picture's caption and the body lines it is (indexes into ``doc.lines``): its
        figcaption, the cell under it, or the line on the side where this page's pictures have
        their captions (below, unless more of them have one above)."""
        below = [self._caption_line(pictures, k, +1) for k in range(len(pictures))]
        above = [self._caption_line(pictures, k, -1) for k in range(len(pictures))]
        more_above = sum(i is not None for i in above) > sum(i is not None for i in below)
        primary, other = (above, below) if more_above else (below, above)
        claimed = {index for index in primary if index is not None}
        captions: list[tuple[str | None, list[int]]] = []
        for k, picture in enumerate(pictures):
            figcaption = _figcaption(picture.element)
            if figcaption is not None:
                inside = set(figcaption.iter())
                lines = [i for i in self.indexes if self.doc.lines[i].block in inside]
                captions.append((text_of(figcaption), sorted(lines)))
                continue
            index = primary[k]
            if index is None and (index := other[k]) in claimed:
                index = None  # the caption of the picture on its other side
            if index is None:
                captions.append((None, []))
                continue
            claimed.add(index)
            lines = [index]
            while (following := lines[-1] + 1) in self.indexes and self._continues(following, picture):
                lines.append(following)  # "图为…<br>（摄影 张三）": one caption on two lines
            captions.append((" ".join(self.doc.lines[i].text for i in lines), lines))
        return captions

    def _continues(self, index: int, picture: Picture) -> bool:
        """A further line of a caption in the picture's own block ("图为…<br>（摄影 张三）")."""
        block = _block_of(picture.element)
        return self.doc.lines[index].block is block and self._holds_only_captions(block, picture, +1)

    def _holds_only_captions(self, block: Element, picture: Picture, side: int) -> bool:
        """A block whose body lines are all on that side of the picture, and a caption's: a few
        short lines, none a heading (in one run of text and <br>s, prose stands on both sides)."""
        lines = self.lines_in.get(block, [])
        on_its_side = all(i >= picture.line if side > 0 else i < picture.line for i in lines)
        return (
            on_its_side
            and len(lines) <= CAPTION_MAX_LINES
            and all(self._could_be_caption(self.doc.lines[i]) for i in lines)
        )

    @staticmethod
    def _could_be_caption(line: Line) -> bool:
        return not (
            line.link_density > LINK_DENSE or len(line.text) > CAPTION_MAX_CHARS or _heads_or_lists(line)
        )

    def _caption_line(self, pictures: list[Picture], k: int, side: int) -> int | None:
        picture = pictures[k]
        if (cell := _cell_beside(picture.element, side)) is not None:
            lines = [i for i in self.indexes if _inside(self.doc.lines[i].block, cell)]
            if len(lines) == 1 and self._could_be_caption(self.doc.lines[lines[0]]):
                return lines[0]
        if side < 0 and picture.inline:
            return None  # text before it on its line is a sentence, not its caption
        index = picture.line + (1 if picture.inline else 0) if side > 0 else picture.line - 1
        neighbour = k + side
        if 0 <= neighbour < len(pictures) and pictures[neighbour].line == picture.line:
            return None  # another picture stands between
        if index not in self.indexes:
            return None
        line = self.doc.lines[index]
        if not self._could_be_caption(line):
            return None
        block = _block_of(picture.element)
        own_block = (
            line.block is block
            and self._holds_only_captions(block, picture, side)
            and not picture.inline
            and _broken(picture.element, block, after=side > 0)
        )
        other_kind = (
            self.usual_tag is not None
            and line.block.tag != self.usual_tag
            and len(line.text) <= OTHER_ELEMENT_CAPTION_MAX_CHARS
        )
        centred = _is_centred(line.block) and not self.mostly_centred
        cue = bool(CAPTION_CUE_RE.match(line.text))
        return index if own_block or centred or _emphasised(line.block) or other_kind or cue else None

    @cached_property
    def mostly_centred(self) -> bool:
        """Most of the body's prose is centred: centring sets nothing apart there."""
        prose = [i for i in self.indexes if len(self.doc.lines[i].text) > OTHER_ELEMENT_CAPTION_MAX_CHARS]
        return 2 * sum(_is_centred(self.doc.lines[i].block) for i in prose) > len(prose)


def _block_of(element: Element) -> Element:
    """The element whose line a picture stands in, as :func:`~document.lines_of` names it."""
    for ancestor in element.iterancestors():
        if isinstance(ancestor.tag, str) and ancestor.tag.lower() in BLOCK_TAGS:
            return ancestor
    return element


def _inside(element: Element, ancestor: Element) -> bool:
    return element is ancestor or any(node is ancestor for node in element.iterancestors())


def _site_of(host: str) -> str:
    """The host without its first label: img.cnis.ac.cn and en.cnis.ac.cn are of one site."""
    host = host.lower()
    return host.split(".", 1)[1] if host.count(".") >= 2 else host


def _declared_sizes(element: Element) -> list[int]:
    sizes = [
        match.group(1) for name in ("width", "height") if (match := PIXELS_RE.match(element.get(name) or ""))
    ]
    sizes += [match.group(2) for match in STYLE_SIZE_RE.finditer(element.get("style") or "")]
    return [int(size) for size in sizes]


def _is_decoration(element: Element, url: str) -> bool:
    if element.get("aria-hidden") == "true" or element.get("role") == "presentation":
        return True
    sizes = _declared_sizes(element)
    if any(size < DECORATION_MAX_PX for size in sizes):
        return True
    # Spacers, bullets, rules and counters are GIFs; a GIF of the article declares its size.
    declared = (
        element.get("width") or element.get("height") or SIZE_STYLE_RE.search(element.get("style") or "")
    )
    return urlsplit(url).path.lower().endswith(".gif") and not declared


def _is_button(element: Element) -> bool:
    """A picture in a "#" or script link that declares no size of a photo."""
    if any(size >= DECORATION_MAX_PX for size in _declared_sizes(element)):
        return False  # a viewer's link around a photo
    anchor = next(element.iterancestors("a"), None)
    href = (anchor.get("href") or "").strip().lower() if anchor is not None else None
    return href is not None and (href in ("", "#") or href.startswith(("#", "javascript:")))


def _links_elsewhere(doc: Document, element: Element) -> bool:
    """Inside a link to a page rather than to a picture (a bigger copy of itself); "#" and
    scripts open a picture viewer as often as a share dialog, and say nothing alone."""
    anchor = next(element.iterancestors("a"), None)
    href = (anchor.get("href") or "").strip() if anchor is not None else ""
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        return False
    try:
        path = urlsplit(doc.resolve(href)).path
    except ValueError:
        return False
    return path.rsplit(".", 1)[-1].lower() not in IMAGE_EXTENSIONS


def _figcaption(element: Element) -> Element | None:
    figure = next(element.iterancestors("figure"), None)
    caption = next(figure.iter("figcaption"), None) if figure is not None else None
    return caption if caption is not None and text_of(caption) else None


def _cell_beside(element: Element, side: int) -> Element | None:
    """In a table of pictures, the cell of the same column in the next row (or the previous)."""
    cell = next(element.iterancestors("td", "th"), None)
    row = cell.getparent() if cell is not None else None
    if cell is None or row is None or row.tag != "tr":
        return None
    if text_of(cell):
        return None  # the picture's cell has its own text: a caption in it, or a layout cell
    row_cells = [node for node in row if node.tag in ("td", "th")]
    column = row_cells.index(cell)
    beside = next(row.itersiblings("tr", preceding=side < 0), None)
    cells = [node for node in beside if node.tag in ("td", "th")] if beside is not None else []
    return cells[column] if len(cells) == len(row_cells) else None


def _heads_or_lists(line: Line) -> bool:
    """A heading, a list item, a numbered line: never a caption, however it is set."""
    block = line.block
    return block.tag in HEADING_TAGS or block.tag in LIST_TAGS or bool(NUMBERED_RE.match(line.text))


def _broken(element: Element, block: Element, *, after: bool) -> bool:
    """Whether a line break (``<br>``) stands between the picture and the text on that side of
    it in its block: <p><img><br>caption</p>, not <p><img>The paragraph…</p>."""
    node = element
    while node is not block:
        if after and (node.tail or "").strip():
            return False
        for sibling in node.itersiblings(preceding=not after):  # nearest first
            if not after and (sibling.tail or "").strip():
                return False
            if sibling.tag == "br":
                return True
            if text_of(sibling) or (after and (sibling.tail or "").strip()):
                return False
        parent = node.getparent()
        if parent is None or (not after and (parent.text or "").strip()):
            return False
        node = parent
    return False


def _is_centred(block: Element) -> bool:
    """Centred by its own markup (or a <center> around it): not by a layout cell's alignment,
    which may centre a whole article."""
    parent = block.getparent()
    if parent is not None and parent.tag == "center":
        return True
    only_child = _only_child(block)
    return any(
        element.tag == "center"
        or (element.get("align") or "").lower() == "center"
        or bool(CENTRED_STYLE_RE.search(element.get("style") or ""))
        for element in (block, only_child)
        if element is not None
    )


def _emphasised(block: Element) -> bool:
    """All its text in one <em>, <i> or <small>: set apart from the prose."""
    only_child = _only_child(block)
    return only_child is not None and only_child.tag in EMPHASIS_TAGS and not (only_child.tail or "").strip()


def _only_child(block: Element) -> Element | None:
    """The one element that holds all of a block's text, if one does."""
    return block[0] if len(block) == 1 and not (block.text or "").strip() else None
