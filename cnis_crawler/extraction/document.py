"""Parse a page once into what every extraction rung reads: visible text lines, links, meta tags.

A *line* is what a browser shows as one line of text: the inline content between two block
boundaries (a block element's start or end, or a ``<br>``). Text inside links is counted per
line, so link-dense lines (navigation, related articles) can be told from prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from parsel import Selector

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Elements whose text a reader never sees as page content.
INVISIBLE_TAGS = frozenset(
    [
        "script",
        "style",
        "noscript",
        "template",
        "object",
        "embed",
        "iframe",
        "select",
        "option",
        "button",
        "head",
        "title",
        "svg",
        "canvas",
        "audio",
        "video",
        "map",
    ]
)
BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "html",
        "li",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
        "caption",
    ]
)
HEADING_TAGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])


@dataclass(frozen=True)
class Link:
    url: str
    text: str


@dataclass
class Line:
    """One visible line of text, with the block element that holds it."""

    text: str
    block: HtmlElement = field(repr=False)
    link_chars: int = 0

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0


def collapse_whitespace(text: str) -> str:
    """Fold every run of whitespace (``&nbsp;`` and the ideographic space too) into one space."""
    return " ".join(text.split())


def is_hidden(element: HtmlElement) -> bool:
    style = (element.get("style") or "").replace(" ", "").lower()
    return element.get("hidden") is not None or "display:none" in style or "visibility:hidden" in style


class _LineBuilder:
    """Cuts a tree into lines. Iterative, so that pathologically deep markup cannot overflow."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self._parts: list[str] = []
        self._link_chars = 0

    def add_text(self, text: str | None, *, in_link: bool) -> None:
        if text:
            self._parts.append(text)
            if in_link:
                self._link_chars += len(collapse_whitespace(text))

    def flush(self, block: HtmlElement) -> None:
        text = collapse_whitespace("".join(self._parts))
        if text:
            self.lines.append(Line(text, block, min(self._link_chars, len(text))))
        self._parts, self._link_chars = [], 0

    def build(self, root: HtmlElement) -> list[Line]:
        # (closing, element, enclosing block, inside a link); a closing entry emits the
        # element's tail, which belongs to the enclosing block.
        stack: list[tuple[bool, HtmlElement, HtmlElement, bool]] = [(False, root, root, False)]
        while stack:
            closing, element, block, in_link = stack.pop()
            tag = element.tag.lower() if isinstance(element.tag, str) else ""
            if closing:
                if tag in BLOCK_TAGS:
                    self.flush(element)
                self.add_text(element.tail, in_link=in_link)
                continue
            if not tag or tag in INVISIBLE_TAGS or is_hidden(element):
                self.add_text(element.tail, in_link=in_link)
                continue
            if tag in BLOCK_TAGS or tag == "br":
                self.flush(block)
            child_block = element if tag in BLOCK_TAGS else block
            child_link = in_link or (tag == "a" and bool(element.get("href")))
            stack.append((True, element, block, in_link))
            self.add_text(element.text, in_link=child_link)
            stack.extend((False, child, child_block, child_link) for child in reversed(element))
        self.flush(root)
        return self.lines


class Document:
    """A parsed page: selector, visible lines, meta tags and links, each computed once."""

    def __init__(self, html: str, url: str) -> None:
        self.selector = Selector(text=html or "<html></html>")
        base = self.selector.xpath("//base/@href").get()
        self.base_url = urljoin(url, base.strip()) if base else url

    @cached_property
    def lines(self) -> list[Line]:
        return lines_of(self.selector.root)

    @cached_property
    def meta(self) -> dict[str, str]:
        """``<meta name|property=... content=...>``, keys lower-cased; the first value wins."""
        found: dict[str, str] = {}
        for node in self.selector.xpath("//meta[@content]"):
            key = (node.attrib.get("name") or node.attrib.get("property") or "").strip().lower()
            value = collapse_whitespace(node.attrib.get("content", ""))
            if key and value:
                found.setdefault(key, value)
        return found

    def meta_value(self, names: tuple[str, ...]) -> str | None:
        for name in names:
            if value := self.meta.get(name.lower()):
                return value
        return None

    @cached_property
    def html_title(self) -> str:
        return collapse_whitespace(self.selector.xpath("string(//title)").get() or "")

    @cached_property
    def links(self) -> list[Link]:
        """Every followable ``<a href>``, resolved; its text is the ``title`` attribute or its text."""
        found = []
        for node in self.selector.root.iter("a"):
            href = (node.get("href") or "").strip()
            if href and not href.lower().startswith(("javascript:", "mailto:", "#")):
                text = collapse_whitespace(node.get("title") or node.text_content())
                found.append(Link(urljoin(self.base_url, href), text))
        return found

    def inline_scripts(self) -> list[str]:
        return self.selector.xpath("//script[not(@src)]/text()").getall()


def lines_of(root: HtmlElement) -> list[Line]:
    return _LineBuilder().build(root)
