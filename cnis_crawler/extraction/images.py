"""The article's own pictures, in document order, each with its caption and alt text.

A picture is the article's when it stands among the body's lines: between the first and the last
of them, or right before or after them; never inside a line or a block the body left out
(a share bar's icons, a widget). What marks decoration whatever the template: a declared size
under :data:`DECORATION_MAX_PX` (icons, spacer GIFs, QR codes), ``aria-hidden`` or
``role="presentation"``, a link to another page around it (a thumbnail of other news).

A caption is the ``<figcaption>`` of the picture's ``<figure>``; else the line right under it
(or, on a page that puts captions above its pictures, the line right above) where that line is
set apart: in the picture's own block, centred, or short with no sentence end; else the
picture's ``title``. Caption lines leave the body, unless nothing else would be left of it (an
article that is only pictures): then its captions are its body.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

from cnis_crawler.extraction.document import BLOCK_TAGS, Line, Picture, collapse_whitespace, text_of
from cnis_crawler.extraction.furniture import LINK_DENSE, is_control
from cnis_crawler.extraction.labels import SENTENCE_END_RE
from cnis_crawler.site import IMAGE_EXTENSIONS
from cnis_crawler.urls import canonical_url

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.etree import _Element as Element

    from cnis_crawler.extraction.document import Document

# Declared widths or heights below this are icons, bullets, spacers and QR codes; a news photo
# that declares its size declares hundreds of pixels.
DECORATION_MAX_PX = 100
# A caption set apart from the prose (its picture's block, centred) runs to a few sentences...
CAPTION_MAX_CHARS = 200
# ...one marked up unlike the body's paragraphs a sentence or two...
STYLED_CAPTION_MAX_CHARS = 120
# (the body's usual markup: that of most of its lines, and of this many at least)
USUAL_MIN_LINES = 2
# ...a plain line under a picture counts when it is a label rather than prose.
PLAIN_CAPTION_MAX_CHARS = 80
# Lazy-loading pages put the picture here and a placeholder in ``src``.
SOURCE_ATTRIBUTES = ("data-original", "data-src", "data-lazy-src", "src")
PIXELS_RE = re.compile(r"^\s*(\d+)\s*(?:px)?\s*$", re.IGNORECASE)
STYLE_SIZE_RE = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+)\s*px", re.IGNORECASE)
CENTRED_STYLE_RE = re.compile(r"text-align\s*:\s*center", re.IGNORECASE)


def article_images(doc: Document, body: Sequence[Line]) -> tuple[list[dict[str, str | None]], set[int]]:
    """The pictures of the article whose body is ``body`` (lines of ``doc``), as records
    (``url``, ``caption``, ``alt``), and the ``id`` of the body lines that are their captions."""
    index_of = {id(line): index for index, line in enumerate(doc.lines)}
    in_body = {index for line in body if (index := index_of.get(id(line))) is not None}
    if not in_body:
        return [], set()
    pictures: list[tuple[Picture, str]] = []
    seen: set[str] = set()
    for picture in doc.pictures:
        url = _source(doc, picture.element)
        if url is not None and url not in seen and _belongs(doc, picture, in_body):
            seen.add(url)
            pictures.append((picture, url))
    images = []
    caption_lines: set[int] = set()
    for (picture, url), (caption, lines) in zip(
        pictures, _captions(doc, [p for p, _ in pictures], in_body), strict=True
    ):
        element = picture.element
        caption_lines.update(id(doc.lines[index]) for index in lines)
        if caption is None and (title := collapse_whitespace(element.get("title") or "")):
            caption = None if title == url.rsplit("/", 1)[-1] else title
        alt = collapse_whitespace(element.get("alt") or "") or None
        images.append({"url": url, "caption": caption, "alt": alt})
    return images, caption_lines


def _source(doc: Document, element: Element) -> str | None:
    for name in SOURCE_ATTRIBUTES:
        value = (element.get(name) or "").strip()
        if value and not value.lower().startswith(("data:", "javascript:", "about:", "#")):
            url = doc.resolve(value)
            return canonical_url(url) if url.startswith(("http://", "https://")) else None
    return None


def _belongs(doc: Document, picture: Picture, in_body: set[int]) -> bool:
    """Among the body's lines, in no block of lines the body left out, no decoration."""
    first, last = min(in_body), max(in_body)
    while first > 0 and is_control(doc.lines[first - 1]):
        first -= 1  # a picture over the body, under the controls between date line and body
    index = picture.line
    if not first <= index <= last + 1 or (picture.inline and index not in in_body):
        return False
    inside = set(_block_of(picture.element).iter())
    left_out = any(
        0 <= neighbour < len(doc.lines) and neighbour not in in_body and doc.lines[neighbour].block in inside
        for neighbour in (index - 1, index)
    )
    if left_out and not any(doc.lines[i].block in inside for i in in_body):
        return False  # an icon of a widget, a QR code over "扫一扫在手机打开当前页"
    return not (_is_decoration(picture.element) or _links_elsewhere(doc, picture.element))


def _block_of(element: Element) -> Element:
    """The element whose line a picture stands in, as :func:`~document.lines_of` names it."""
    for ancestor in element.iterancestors():
        if isinstance(ancestor.tag, str) and ancestor.tag.lower() in BLOCK_TAGS:
            return ancestor
    return element


def _is_decoration(element: Element) -> bool:
    if element.get("aria-hidden") == "true" or element.get("role") == "presentation":
        return True
    sizes = [
        match.group(1) for name in ("width", "height") if (match := PIXELS_RE.match(element.get(name) or ""))
    ]
    sizes += [match.group(2) for match in STYLE_SIZE_RE.finditer(element.get("style") or "")]
    return any(int(size) < DECORATION_MAX_PX for size in sizes)


def _links_elsewhere(doc: Document, element: Element) -> bool:
    """Inside a link to a page rather than to a picture (a bigger copy of itself); "#" and
    scripts open a picture viewer as often as a share dialog, and say nothing."""
    anchor = next(element.iterancestors("a"), None)
    href = (anchor.get("href") or "").strip() if anchor is not None else ""
    if not href or href.startswith("#") or href.lower().startswith("javascript:"):
        return False
    path = doc.resolve(href).split("?", 1)[0].split("#", 1)[0]
    return path.rsplit(".", 1)[-1].lower() not in IMAGE_EXTENSIONS


def _captions(
    doc: Document, pictures: list[Picture], in_body: set[int]
) -> list[tuple[str | None, list[int]]]:
    """Each picture's caption and the body lines it is (indexes into ``doc.lines``): its
    figcaption, or the line on the side where this page's pictures have their captions (below,
    unless more of them have one above)."""
    usual = _usual_style(doc, in_body)
    below = [_caption_line(doc, pictures, k, +1, in_body, usual) for k in range(len(pictures))]
    above = [_caption_line(doc, pictures, k, -1, in_body, usual) for k in range(len(pictures))]
    more_above = sum(i is not None for i in above) > sum(i is not None for i in below)
    primary, other = (above, below) if more_above else (below, above)
    claimed = {index for index in primary if index is not None}
    captions: list[tuple[str | None, list[int]]] = []
    for k, picture in enumerate(pictures):
        figcaption = _figcaption(picture.element)
        if figcaption is not None:
            inside = set(figcaption.iter())
            lines = [i for i in in_body if doc.lines[i].block in inside]
            captions.append((text_of(figcaption), sorted(lines)))
            continue
        index = primary[k]
        if index is None and (index := other[k]) in claimed:
            index = None  # the caption of the picture on its other side
        if index is None:
            captions.append((None, []))
            continue
        claimed.add(index)
        captions.append((doc.lines[index].text, [index]))
    return captions


def _figcaption(element: Element) -> Element | None:
    figure = next(element.iterancestors("figure"), None)
    caption = next(figure.iter("figcaption"), None) if figure is not None else None
    return caption if caption is not None and text_of(caption) else None


def _caption_line(
    doc: Document, pictures: list[Picture], k: int, side: int, in_body: set[int], usual: Style | None
) -> int | None:
    picture = pictures[k]
    if side < 0 and picture.inline:
        return None  # text before it on its line is a sentence, not its caption
    index = picture.line + (1 if picture.inline else 0) if side > 0 else picture.line - 1
    neighbour = k + side
    if 0 <= neighbour < len(pictures) and pictures[neighbour].line == picture.line:
        return None  # another picture stands between
    if index not in in_body:
        return None
    line = doc.lines[index]
    if line.link_density > LINK_DENSE or len(line.text) > CAPTION_MAX_CHARS:
        return None
    block = _block_of(picture.element)
    # <p><img><br>caption</p>: the picture's own block, where it holds no other body line (in one
    # run of text and <br>s, the line after a picture is the next paragraph).
    own_block = line.block is block and sum(doc.lines[i].block is block for i in in_body) == 1
    set_apart = (
        own_block
        or _is_centred(line.block)
        or (usual is not None and _style(line.block) != usual and len(line.text) <= STYLED_CAPTION_MAX_CHARS)
    )
    plain_label = len(line.text) <= PLAIN_CAPTION_MAX_CHARS and not SENTENCE_END_RE.search(line.text)
    return index if set_apart or plain_label else None


Style = tuple[str, ...]


def _style(block: Element) -> Style:
    """How a block is marked up: tag, class, style and alignment, and those of an element that
    holds all its text (<p><em>…</em></p>)."""
    only_child = block[0] if len(block) == 1 and not (block.text or "").strip() else None
    return tuple(
        value
        for element in (block, only_child)
        if element is not None
        for value in (
            str(element.tag),
            element.get("class") or "",
            "".join((element.get("style") or "").split()).lower(),
            (element.get("align") or "").lower(),
        )
    )


def _usual_style(doc: Document, in_body: set[int]) -> Style | None:
    """The markup most of the body's lines have, if most have one: a caption is marked up apart."""
    styles = Counter(_style(doc.lines[index].block) for index in in_body)
    style, count = styles.most_common(1)[0]
    return style if count >= USUAL_MIN_LINES and 2 * count > len(in_body) else None


def _is_centred(block: Element) -> bool:
    """Centred by its own markup (or a <center> around it): not by a layout cell's alignment,
    which may centre a whole article."""
    parent = block.getparent()
    if parent is not None and parent.tag == "center":
        return True
    only_child = block[0] if len(block) == 1 and not (block.text or "").strip() else None
    return any(
        element.tag == "center"
        or (element.get("align") or "").lower() == "center"
        or bool(CENTRED_STYLE_RE.search(element.get("style") or ""))
        for element in (block, only_child)
        if element is not None
    )
