"""Parse a page once into what every extraction rung reads: visible text lines, links, meta tags.

A *line* is what a browser shows as one line of text: the inline content between two block
boundaries (a block element's start or end, or a ``<br>``). Text inside links is counted per
line, so link-dense lines (navigation, related articles) can be told from prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache, wraps
from types import MappingProxyType
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar, cast
from urllib.parse import urljoin, urlsplit

from lxml import etree
from parsel import Selector

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from lxml.etree import _Element as Element

    from cnis_crawler.extraction.listing import Listed

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
    """What the link says: its ``title`` attribute, or else its text (see :func:`link_text`)."""
    listed: Listed | None = None
    """What the page showed for an article it links: text, title and the item's date."""


@dataclass(frozen=True)  # shared by every reader of the page
class Line:
    """One visible line of text, with the block element that holds it."""

    text: str
    block: Element = field(repr=False)
    link_chars: int = 0

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0


def collapse_whitespace(text: str) -> str:
    """Fold every run of whitespace (``&nbsp;`` and the ideographic space too) into one space."""
    return " ".join(text.split())


def is_hidden(element: Element) -> bool:
    if element.get("hidden") is not None:
        return True
    style = element.get("style")
    return bool(style and _hidden_style(style))


def _hidden_style(style: str) -> bool:
    style = style.replace(" ", "").lower()
    return "display:none" in style or "visibility:hidden" in style


@dataclass(frozen=True)
class Picture:
    """A visible ``<img>``, placed among the lines: where a caption next to it would stand."""

    element: Element = field(repr=False)
    line: int
    """The index of the line it stands in (``inline``) or, else, of the line right after it."""
    inline: bool
    """Text of the same line stands before it: a picture inside a sentence, an icon in a widget."""


def lines_of(root: Element, pictures: list[Picture] | None = None) -> list[Line]:
    """Cuts a tree into lines, in one walk of lxml's (iterative: pathologically deep markup
    cannot overflow it); the visible pictures are appended to ``pictures`` if given."""
    lines: list[Line] = []
    parts: list[str] = []  # the text of the line being read
    link_chars = 0
    # Most boundaries close a line of markup whitespace only: told apart without joining it.
    shown = False

    def add(text: str, in_link: bool) -> None:
        nonlocal link_chars, shown
        parts.append(text)
        if not shown and not text.isspace():
            shown = True
        if in_link:
            link_chars += len(collapse_whitespace(text))

    def flush(block: Element) -> None:
        nonlocal parts, link_chars, shown
        if shown:
            text = collapse_whitespace("".join(parts))
            lines.append(Line(text, block, min(link_chars, len(text))))
        if parts:
            parts, link_chars, shown = [], 0, False

    # Per open element: the block that holds its content, whether that content is link text,
    # and whether the element is a block (its end ends a line). Invisible elements are skipped
    # whole: only their tail is read.
    open_elements: list[tuple[Element, bool, bool]] = []
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, element in walker:
        block, in_link, _ = open_elements[-1] if open_elements else (root, False, False)
        if event == "start":
            tag = element.tag.lower()
            if tag in INVISIBLE_TAGS or is_hidden(element):
                walker.skip_subtree()
                open_elements.append((block, in_link, False))
                continue
            is_block = tag in BLOCK_TAGS
            if is_block or tag == "br":
                flush(block)
            elif tag == "img" and pictures is not None:
                pictures.append(Picture(element, len(lines), shown))
            in_link = in_link or (tag == "a" and bool(element.get("href")))
            open_elements.append((element if is_block else block, in_link, is_block))
            if text := element.text:
                if text[0].isdigit() and parts and parts[-1][-1:].isdigit():
                    # Numbers in elements of their own do not run together: a date printed as
                    # <em>2021</em><em>05</em>/<em>25</em> reads "2021 05/25", not "202105/25".
                    add(" ", in_link)
                add(text, in_link)
            continue
        if event == "end":
            _, _, is_block = open_elements.pop()
            if is_block:
                flush(element)
            block, in_link, _ = open_elements[-1] if open_elements else (root, False, False)
        if tail := element.tail:  # after an element, a comment or a processing instruction
            add(tail, in_link)
    flush(root)
    return lines


# Pages whose tree, lines and Document stay at hand. The spider reads an article page's links and
# the pipelines read the same page's fields right after, so a few suffice: in a crawl of 1,000
# articles, 16 requests at a time, all 1,000 article pages were parsed once, not twice. A page
# longer than KEPT_MAX_CHARS is not kept: eight kept 10 MB pages held 1 GB.
PAGES_KEPT = 8
KEPT_MAX_CHARS = 500_000

_STRING_VALUE = etree.XPath("string()")

P = ParamSpec("P")
T = TypeVar("T")


_KEPT_PAGES: list[Callable[[], None]] = []  # each memo's cache_clear


def forget_pages() -> None:
    """Empties every page memo: a benchmark times a page's whole reading, parse included."""
    for clear in _KEPT_PAGES:
        clear()


def _keep_recent(compute: Callable[Concatenate[str, P], T]) -> Callable[Concatenate[str, P], T]:
    """Memoizes ``compute(html, ...)`` for the last PAGES_KEPT pages of up to KEPT_MAX_CHARS."""
    cache = lru_cache(maxsize=PAGES_KEPT)(compute)
    _KEPT_PAGES.append(cache.cache_clear)
    # lru_cache's stub types the wrapper's arguments as Hashable, dropping compute's own signature.
    kept = cast("Callable[Concatenate[str, P], T]", cache)

    @wraps(compute)
    def recent(html: str, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return (kept if len(html) <= KEPT_MAX_CHARS else compute)(html, *args, **kwargs)

    return recent


@_keep_recent
def parse_html(html: str) -> Selector:
    """The tree of a page, shared by everything that reads the same text. Nothing here changes a
    tree. Keyed by the text itself, whose hash a string computes once."""
    # lxml's plain HTML parser, where parsel uses lxml.html's: the same tree, but lxml.html looks
    # up a Python class for every element the code touches, five times the cost of a plain one
    # (18 against 4 µs to walk a 74-element page), and extraction touches every element. Always
    # HTML: parsel would read a page that starts with <?xml as XML, all its tags namespaced.
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)  # one per call: not thread-safe
    # As parsel prepares a text: NUL bytes out, and an empty page is an empty document. A lone
    # surrogate (no character: only a caller's own text can hold one) becomes "?".
    body = html.strip().replace("\x00", "").encode("utf-8", errors="replace")
    root = etree.fromstring(body, parser=parser) if body else None
    if root is None:  # nothing lxml calls an element: whitespace, a lone comment
        root = etree.fromstring(b"<html></html>", parser=parser)
    return Selector(root=root, type="html")


@_keep_recent
def page_lines(html: str) -> tuple[tuple[Line, ...], tuple[Picture, ...]]:
    """The visible lines and pictures of a page, shared like its tree: they do not depend on its URL."""
    pictures: list[Picture] = []
    lines = lines_of(parse_html(html).root, pictures)
    return tuple(lines), tuple(pictures)


@_keep_recent
def read_page(html: str, url: str) -> Document:
    """The :class:`Document` of a page read at ``url``, shared like :func:`parse_html`, so that its
    links too are resolved once when the spider and the pipelines read it at the same URL."""
    return Document(html, url)


def _has_bad_port(url: str) -> bool:
    try:
        urlsplit(url).port  # noqa: B018 (raises ValueError for "host:port", ":99999")
    except ValueError:
        return True
    return False


@lru_cache(maxsize=1024)
def _resolve(base: str, href: str) -> str:
    """``urljoin``, memoized: every page of a host links the same navigation."""
    return urljoin(base, href)


class Document:
    """A parsed page: selector, visible lines, meta tags and links, each computed once."""

    def __init__(self, html: str, url: str) -> None:
        self.html = html
        self.selector = parse_html(html)
        bases = (node.get("href") for node in self.selector.root.iter("base"))
        base = next((href for href in bases if href is not None), "").strip()
        self.base_url = urljoin(url, base) if base else url

    @cached_property
    def _layout(self) -> tuple[tuple[Line, ...], tuple[Picture, ...]]:
        if len(self.html) <= KEPT_MAX_CHARS:
            return page_lines(self.html)  # of the kept tree, which is this document's too
        # A page too long to be kept would be parsed anew: its lines and pictures must be of
        # this document's tree, where its selector finds containers.
        pictures: list[Picture] = []
        return tuple(lines_of(self.selector.root, pictures)), tuple(pictures)

    @property
    def lines(self) -> tuple[Line, ...]:
        return self._layout[0]

    @property
    def pictures(self) -> tuple[Picture, ...]:
        return self._layout[1]

    @cached_property
    def meta(self) -> Mapping[str, str]:
        """``<meta name|property=... content=...>``, keys lower-cased; the first value wins."""
        found: dict[str, str] = {}
        for node in self.selector.root.iter("meta"):
            key = (node.get("name") or node.get("property") or "").strip().lower()
            value = collapse_whitespace(node.get("content") or "")
            if key and value:
                found.setdefault(key, value)
        return MappingProxyType(found)  # shared by every reader of the page: read-only

    def meta_value(self, names: tuple[str, ...]) -> str | None:
        for name in names:
            if value := self.meta.get(name.lower()):
                return value
        return None

    @cached_property
    def html_title(self) -> str:
        title = next(self.selector.root.iter("title"), None)
        return text_of(title) if title is not None else ""

    @cached_property
    def anchors(self) -> tuple[tuple[str, Element], ...]:
        """Every followable ``<a href>``: its resolved URL and the element, whose text
        (:func:`link_text`) only some readers need (for a listing title, an attachment's name)."""
        found = []
        for node in self.selector.root.iter("a"):
            href = (node.get("href") or "").strip()
            if href and not href.lower().startswith(("javascript:", "mailto:", "#")):
                try:
                    found.append((self.resolve(href), node))
                except ValueError:  # "http://[::1/x.pdf" leads nowhere
                    continue
        return tuple(found)

    @cached_property
    def _bases(self) -> tuple[str, str]:
        # What an href is resolved against: the site's root for a root-relative href (most of the
        # navigation, the same on every page), else the page's folder (no file name, no query).
        return urljoin(self.base_url, "/"), urljoin(self.base_url, ".")

    def resolve(self, href: str) -> str:
        """The absolute URL of a link or source as written on the page (stripped); ValueError
        where it is no URL ("http://[::1/x", "http://host:port/x")."""
        origin, directory = self._bases
        if href[0] == "/" and href[:2] != "//":
            url = _resolve(origin, href)
        elif href.startswith("?") or ":" in href.split("/", 1)[0]:
            # A query keeps the page's file name, and a scheme ("http:", "https:?q") may keep
            # more of the page's URL: joined against the page itself.
            url = _resolve(self.base_url, href)
        else:
            url = _resolve(directory, href)
        if "//" in href and _has_bad_port(url):
            raise ValueError(f"no port in {href!r}")
        return url

    def inline_scripts(self) -> list[str]:
        scripts = self.selector.root.iter("script")
        return [node.text for node in scripts if node.get("src") is None and node.text]


def text_of(element: Element) -> str:
    """All the text inside an element, whitespace folded."""
    return collapse_whitespace(str(_STRING_VALUE(element)))


def link_text(anchor: Element) -> str:
    """What a link says: its ``title`` attribute, or else its text."""
    return collapse_whitespace(anchor.get("title") or "") or text_of(anchor)
