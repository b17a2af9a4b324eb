"""Extraction quality on every fixture and drift page: this crawler against trafilatura.

Run ``python -m benchmarks.extraction_quality`` (``make bench`` installs trafilatura first).
``--json`` prints the figures as JSON instead of the table; ``--pin`` also rewrites
``benchmarks/quality_floors.json``, which ``tests/test_quality_gate.py`` holds our figures to.

Pages
    Every article page with a ``.expected.json`` beside it under ``tests/fixtures/site/`` (the
    "original" set) and under each ``tests/fixtures/drift/<variant>/`` (one set per variant),
    plus "all", the union. A multi-page article is one page of the benchmark: its continuation
    pages ``t…_<id>_1``, ``_2`` … are read with it, by both extractors.

Decoding
    Page bytes are decoded once, before any timing, as the crawler decodes them
    (:func:`decode_page`), with the Content-Type the mirror server would send. Both extractors
    get the same text.

Ours
    The record ``ExtractArticlePipeline().article_of(FetchedPage(...))`` makes of the page, as
    in the crawl: the listing title comes from the listing pages of the same tree
    (``extract_listing``), as the spider passes it on.

trafilatura
    ``trafilatura.bare_extraction(html, url=<live url>, with_metadata=True)`` with its default
    settings, on each part of the article; ``title`` and ``date`` (normalised to YYYY-MM-DD) come
    from the first part, the body is the ``text`` of every part joined in order. trafilatura has
    no notion of the CNIS ``Source:``/``部门:`` value, so its source column reads "n/a".

Exact match (title, date, source)
    The share of pages whose value equals the ``.expected.json`` value, whitespace runs folded to
    one space on both sides (``None`` equals only ``None``).

Tokens
    Each CJK ideograph is one token; other text is split into words: lowercased, every run of
    letters and digits is a word, punctuation and symbols are dropped.

Body F1
    Per page, the F1 of the token multisets of the extracted and the expected body (precision =
    shared tokens / extracted tokens, recall = shared tokens / expected tokens; 1.0 when both
    are empty); averaged over the pages of a set.

Lines
    The non-blank lines of a body, whitespace folded. An extracted line is an "extra line" when
    it is contained in no line of the expected body of that page. An extra line is a
    "boilerplate line leaked" when it also matches a boilerplate signature: one of
    :data:`BOILERPLATE_SIGNATURES` (footer, copyright, ICP, address, nav, breadcrumb, share,
    print, Flash, attachment label, related-news heading; from ``tests/fixtures/README.md`` and
    ``/work/shared/cnis-site-facts.md``), or the title of another article of the page sets,
    whole or cut like a listing's (``…``/``...``), with or without a trailing date (the
    related-article link, the sidebar and the related-news block). Both counts are summed over
    the pages of a set.

Milliseconds per page
    Wall time of the extraction call only (``process_item``; ``bare_extraction`` on every part),
    decoding excluded; per pass, the total over a set divided by its pages; the median of
    :data:`PASSES` passes over all pages.

Targets (over all pages; printed, never timed in the test suite)
    title, date and source exact on >= 99 % of pages; mean body F1 >= 0.98; zero boilerplate
    lines leaked; a higher mean body F1 and fewer leaked lines than trafilatura; at least 5x
    fewer milliseconds per page than trafilatura.

Everything but :func:`extract_trafilatura` works without trafilatura installed; it is imported
only there.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from cnis_crawler.crawling.items import Article, FetchedPage
from cnis_crawler.crawling.pipelines import ExtractArticlePipeline
from cnis_crawler.extraction import RUNGS, Listed, extract_article, extract_listing
from cnis_crawler.extraction.document import forget_pages
from cnis_crawler.extraction.encoding import decode_html
from cnis_crawler.site import HOSTS
from cnis_crawler.tools.mirror import content_type_overrides

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SITE = FIXTURES / "site"
DRIFT = FIXTURES / "drift"
FLOORS = Path(__file__).resolve().parent / "quality_floors.json"

EXPECTED_SUFFIX = ".expected.json"
ARTICLE_FILE_RE = re.compile(r"t\d{8}_\d+\.s?html")
PART_FILE_RE = re.compile(r"t\d{8}_\d+_(?P<part>\d+)\.s?html")
FETCHED_AT = "2026-01-01T00:00:00Z"

PASSES = 3
EPSILON = 0.001
"""A pin sets a floor this far below the figure (never below the old floor)."""
QUALITY_FLOORS = ("title_exact", "date_exact", "source_exact", "body_f1")
LEAK_CEILING = "max_leaked_lines"
TARGET_EXACT = 0.99
TARGET_F1 = 0.98
TARGET_SPEEDUP = 5.0
TARGET_MS = 0.6
"""Extraction is a third of the crawl's own cost: at most this many ms a page (median)."""

# ------------------------------------------------------------------------------------------------
# Pages


def decode_page(body: bytes, content_type: str | None) -> str:
    """Page bytes to text, as the crawler decodes them (the one place to change if that moves)."""
    return decode_html(body, content_type)


@dataclass(frozen=True)
class Page:
    """One article of the benchmark: its file, continuation files and expected record."""

    root: Path
    path: Path
    parts: tuple[Path, ...]

    @property
    def id(self) -> str:
        """``original/<host>/…`` or ``drift/a/<host>/…``: unique over all page sets."""
        return f"{set_name(self.root)}/{self.path.relative_to(self.root).as_posix()}"

    @property
    def url(self) -> str:
        return live_url(self.path, self.root)

    @property
    def expected(self) -> dict[str, Any]:
        return _expected(self.path)


def set_name(root: Path) -> str:
    return "original" if root == SITE else root.relative_to(FIXTURES).as_posix()


def live_url(path: Path, root: Path) -> str:
    """The live URL a mirror file stands for: <root>/<host>/<path> -> <scheme>://<host>/<path>."""
    host, *rest = path.relative_to(root).parts
    return f"{HOSTS[host].scheme}://{host}/{'/'.join(rest)}"


_EXPECTED_CACHE: dict[Path, dict[str, Any]] = {}


def _expected(path: Path) -> dict[str, Any]:
    if path not in _EXPECTED_CACHE:
        stem = path.name.split(".")[0]
        _EXPECTED_CACHE[path] = json.loads(path.with_name(stem + EXPECTED_SUFFIX).read_text("utf-8"))
    return _EXPECTED_CACHE[path]


def page_roots(site: Path = SITE, drift: Path = DRIFT) -> list[Path]:
    """The original mirror, then every drift variant that exists (none is fine)."""
    variants = sorted(path for path in drift.glob("*") if path.is_dir()) if drift.is_dir() else []
    return [site, *variants]


def pages_of(root: Path) -> list[Page]:
    """Every article page of a tree that has an expected record beside it, sorted."""
    pages = []
    for expected in sorted(root.rglob("t*" + EXPECTED_SUFFIX)):
        stem = expected.name.removesuffix(EXPECTED_SUFFIX)
        for path in sorted(expected.parent.glob(stem + ".*")):
            if ARTICLE_FILE_RE.fullmatch(path.name):
                pages.append(Page(root, path, continuation_parts(path)))
    return pages


def continuation_parts(page: Path) -> tuple[Path, ...]:
    """The continuation pages t…_<id>_1, _2 … of an article page, in order."""
    stem, extension = page.name.split(".")
    matches = [PART_FILE_RE.fullmatch(path.name) for path in page.parent.glob(f"{stem}_*.{extension}")]
    found = sorted((int(match["part"]), page.parent / match.string) for match in matches if match)
    return tuple(path for _, path in found)


def discover(roots: Iterable[Path] | None = None) -> dict[str, list[Page]]:
    """Page sets by name: ``original``, ``drift/<variant>`` …, then ``all``."""
    found = {set_name(root): pages_of(root) for root in (page_roots() if roots is None else roots)}
    sets = {name: pages for name, pages in found.items() if pages or name == "original"}
    sets["all"] = [page for pages in list(sets.values()) for page in pages]
    return sets


@dataclass(frozen=True)
class LoadedPage:
    """A page decoded and ready for extraction: the input both extractors time themselves on."""

    page: Page
    html: str = field(repr=False)
    continuations: tuple[str, ...] = field(repr=False)
    listed: Listed | None


class Loader:
    """Decodes pages (with the served Content-Type) and reads the listings of each tree."""

    def __init__(self) -> None:
        self._content_types: dict[Path, dict[str, str]] = {}
        self._listed: dict[Path, dict[str, Listed]] = {}

    def text(self, path: Path, root: Path) -> str:
        if root not in self._content_types:
            self._content_types[root] = content_type_overrides(root)
        served = self._content_types[root].get("/" + path.relative_to(root).as_posix(), "text/html")
        return decode_page(path.read_bytes(), served)

    def listed(self, root: Path) -> dict[str, Listed]:
        """What each article's listing page shows for it, as the spider passes it on."""
        if root not in self._listed:
            shown: dict[str, Listed] = {}
            for listing in sorted(root.rglob("index*.*html")):
                listing_page = extract_listing(self.text(listing, root), live_url(listing, root))
                for link in listing_page.article_links:
                    if link.listed is not None:
                        shown.setdefault(link.url, link.listed)
            self._listed[root] = shown
        return self._listed[root]

    def load(self, page: Page) -> LoadedPage:
        return LoadedPage(
            page=page,
            html=self.text(page.path, page.root),
            continuations=tuple(self.text(part, page.root) for part in page.parts),
            listed=self.listed(page.root).get(page.url),
        )


def load_all(pages: Iterable[Page]) -> list[LoadedPage]:
    loader = Loader()
    return [loader.load(page) for page in pages]


# ------------------------------------------------------------------------------------------------
# Extractors: LoadedPage -> (Extraction, seconds spent in the extraction call)


@dataclass(frozen=True)
class Extraction:
    title: str | None
    date: str | None
    source: str | None
    body: str
    rungs: dict[str, str | None] = field(default_factory=dict)
    """Ours only: the rung that produced each field (``extracted_by``)."""
    disagreements: tuple[str, ...] = ()
    """Ours only: the fields on which the page and its listing disagree."""
    extract_seconds: float = 0.0
    """Ours only: the time of ``extract_article`` alone (the pipeline's call less its checks)."""


def extract_ours(loaded: LoadedPage) -> tuple[Extraction, float]:
    """The crawler's record of the page, exactly as the extraction pipeline makes it."""
    item = FetchedPage(
        url=loaded.page.url,
        fetched_at=FETCHED_AT,
        html=loaded.html,
        continuations=list(loaded.continuations),
        listed=loaded.listed,
    )
    pipeline = ExtractArticlePipeline()
    start = time.perf_counter()
    try:
        record = pipeline.article_of(item)
    except DropItem:  # a dropped page scores as an empty extraction, it does not stop the run
        record = None
    elapsed = time.perf_counter() - start
    if not isinstance(record, Article):
        return Extraction(None, None, None, ""), elapsed
    # Again, alone and timed apart, the page parsed anew: the pipeline counts disagreements in the
    # crawl's stats, which this run has not.
    forget_pages()
    start = time.perf_counter()
    disagreements = extract_article(item.html, item.url, item.listed, item.continuations).disagreements
    extract_seconds = time.perf_counter() - start
    extraction = Extraction(
        record.title,
        record.date,
        record.source,
        record.body,
        record.extracted_by,
        disagreements,
        extract_seconds,
    )
    return extraction, elapsed


DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def iso_day(value: object) -> str | None:
    """trafilatura's date as YYYY-MM-DD (it already prefers that format), else None."""
    match = DATE_RE.search(str(value)) if value else None
    return f"{match[1]}-{int(match[2]):02d}-{int(match[3]):02d}" if match else None


def extract_trafilatura(loaded: LoadedPage) -> tuple[Extraction, float]:
    """trafilatura's reading of the page, with metadata; every part of the article is read."""
    import trafilatura  # benchmark-only dependency: pip install '.[bench]'

    page = loaded.page
    urls = [page.url, *(live_url(part, page.root) for part in page.parts)]
    documents, elapsed = [], 0.0
    for html, url in zip((loaded.html, *loaded.continuations), urls, strict=True):
        start = time.perf_counter()
        document = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        elapsed += time.perf_counter() - start
        documents.append(document)
    first = documents[0]
    body = "\n".join(document.text or "" for document in documents if document is not None)
    return (
        Extraction(
            title=getattr(first, "title", None),
            date=iso_day(getattr(first, "date", None)),
            # trafilatura has no field for the CNIS Source:/部门: value (its `sitename` and
            # `author` are other things); mapping one of them would invent a figure, so the
            # source column reads "n/a" instead.
            source=None,
            body=body,
        ),
        elapsed,
    )


def trafilatura_available() -> bool:
    try:
        import trafilatura  # noqa: F401
    except ImportError:
        return False
    return True


def trafilatura_version() -> str | None:
    try:
        return version("trafilatura")
    except PackageNotFoundError:
        return None


# ------------------------------------------------------------------------------------------------
# Scoring

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
TOKEN_RE = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")


def tokens(text: str) -> list[str]:
    """Each CJK ideograph is a token; other text is lowercased words, punctuation dropped."""
    return TOKEN_RE.findall(text.lower())


def token_f1(extracted: str, expected: str) -> float:
    got, want = Counter(tokens(extracted)), Counter(tokens(expected))
    if not got and not want:
        return 1.0
    shared = sum((got & want).values())
    if not shared:
        return 0.0
    precision, recall = shared / sum(got.values()), shared / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def fold(text: str | None) -> str | None:
    return None if text is None else " ".join(text.split())


TABLE_ROW_RE = re.compile(r"^\|.*\|$")
CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")
RULE_CELL_RE = re.compile(r"^:?-{3,}:?$")


def cells(line: str) -> list[str]:
    """The cells of a Markdown table row (``| a | b \\| c |``), as trafilatura writes layout
    tables; any other line is its own single cell. Empty and ``---`` cells are dropped."""
    if not TABLE_ROW_RE.match(line):
        return [line]
    found = (" ".join(cell.replace("\\|", "|").split()) for cell in CELL_SPLIT_RE.split(line[1:-1]))
    return [cell for cell in found if cell and not RULE_CELL_RE.match(cell)]


def lines(text: str | None) -> list[str]:
    """The non-blank lines of a body, whitespace folded."""
    folded = (" ".join(line.split()) for line in (text or "").splitlines())
    return [line for line in folded if line and cells(line)]


def line_text(line: str) -> str:
    """A line as compared with the expected body: a table row reads as its cells."""
    return " ".join(cells(line))


_NAV_EN = r"(?:About CNIS|News|Publications|Resources|Links)"
_NAV_ZH = r"(?:首页|本院概况|本院动态|通知公告|科研成果|党建工作)"
BOILERPLATE_SIGNATURES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # footer and copyright
        r"^©|^Copyright\s*(?:©|\(c\)|\d{4})|©\s*China National Institute of Standardization|版权所有",
        r"Privacy Policy\s*\|\s*Contact Us",
        r"^Support\s*[:：]\s*CNIS|技术支持\s*[:：]",
        # ICP and police registration numbers
        r"ICP备|公网安备|公海网安备",
        # the footer's address, telephone and mail lines
        r"^地址\s*[:：].*(?:电话|知春路)|^Email\s*[:：]\s*\S+@cnis\.ac\.cn|邮编\s*[:：]\s*100191$",
        # navigation: menus, header links, "set as home page"
        rf"^{_NAV_EN}(?:\s*[|/]?\s*{_NAV_EN})*$",
        rf"^{_NAV_ZH}(?:\s*[|/]?\s*{_NAV_ZH})*$",
        r"^Mail\s*\|\s*Chinese$|设为首页|收藏本站",
        # breadcrumbs
        r"^Your Location\s*[:：]|当前位置|^(?:CNIS Home|首页)\s*(?:->|>|＞|›)",
        # share and print widgets
        r"^Share(?: to)?\s*[:：]|^分享到\s*[:：]",
        r"\[\s*(?:Print|Close)\s*\]|【\s*(?:打印本页|关闭窗口)\s*】|^(?:打印本页|关闭窗口)$",
        # the Flash banner's fallback text
        r"Adobe Flash Player",
        # attachment label and attachment file names
        r"^(?:Attachments?|附件\s*\d*)\s*[:：]|^附件$",
        r"\.(?:pdf|docx?|xlsx?|rar|zip)$",
        # related-news and related-links headings
        r"^(?:Related (?:news|links|articles?|stories)|相关(?:新闻|链接|文章|阅读))\s*[:：]?$",
    )
)
CUT_MARKS = ("...", "…")
TRAILING_DATE_RE = re.compile(r"\s*[\[(（]?\d{4}-\d{2}-\d{2}[\])）]?$")
MIN_TITLE_PREFIX = 6


def is_other_title(line: str, own_title: str | None, titles: frozenset[str]) -> bool:
    """Is the line another article's title, whole or cut as listings cut it, maybe dated?"""
    core = TRAILING_DATE_RE.sub("", line).strip()
    cut = core.endswith(CUT_MARKS)
    core = core.removesuffix("...").removesuffix("…").strip()
    if not core or core == own_title:
        return False
    if core in titles:
        return True
    return cut and len(core) >= MIN_TITLE_PREFIX and any(t.startswith(core) for t in titles)


def is_boilerplate(line: str, own_title: str | None, titles: frozenset[str]) -> bool:
    """Does the line, or one of its table cells, match a boilerplate signature?"""
    return any(
        any(signature.search(part) for signature in BOILERPLATE_SIGNATURES)
        or is_other_title(part, own_title, titles)
        for part in (line, *cells(line))
    )


@dataclass
class PageScore:
    page: str
    title_ok: bool
    date_ok: bool
    source_ok: bool | None
    """None when the extractor has no source at all (trafilatura)."""
    body_f1: float
    extra: list[str]
    leaked: list[str]
    wrong: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    """Field -> (extracted, expected), for the fields that do not match."""
    seconds: list[float] = field(default_factory=list)
    rungs: dict[str, str | None] = field(default_factory=dict)
    disagreements: tuple[str, ...] = ()
    extract_seconds: list[float] = field(default_factory=list)


def score(page: Page, got: Extraction, titles: frozenset[str], has_source: bool = True) -> PageScore:
    expected = page.expected
    want = lines(expected["body"])
    extra = [line for line in lines(got.body) if not any(line_text(line) in mine for mine in want)]
    own_title = fold(expected["title"])
    values = {"title": (got.title, expected["title"]), "date": (got.date, expected["date"])}
    if has_source:
        values["source"] = (got.source, expected["source"])
    wrong = {name: pair for name, pair in values.items() if fold(pair[0]) != fold(pair[1])}
    return PageScore(
        page=page.id,
        title_ok="title" not in wrong,
        date_ok="date" not in wrong,
        source_ok="source" not in wrong if has_source else None,
        body_f1=token_f1(got.body, expected["body"]),
        extra=extra,
        leaked=[line for line in extra if is_boilerplate(line, own_title, titles)],
        wrong=wrong,
        rungs=got.rungs,
        disagreements=got.disagreements,
    )


def known_titles(pages: Iterable[Page]) -> frozenset[str]:
    return frozenset(title for page in pages if (title := fold(page.expected["title"])))


@dataclass
class Figures:
    pages: int
    title_exact: float
    date_exact: float
    source_exact: float | None
    body_f1: float
    leaked_lines: int
    extra_lines: int
    ms_per_page: float | None
    extract_ms_per_page: float | None = None
    """Ours only: ``extract_article`` alone, the median of the passes."""
    disagreements: int | None = None
    """Ours only: pages whose listing contradicts a title or date the page states."""
    rungs: dict[str, dict[str, int]] = field(default_factory=dict)
    """Ours only: field -> rung -> pages."""


def figures(scores: list[PageScore], timed: bool = True) -> Figures:
    n = len(scores)

    def rate(values: list[bool]) -> float:
        return sum(values) / n if n else 0.0

    sources = [s.source_ok for s in scores]
    passes = min((len(s.seconds) for s in scores), default=0)
    per_pass = [sum(s.seconds[i] for s in scores) / n * 1000 for i in range(passes)] if n else []
    return Figures(
        pages=n,
        title_exact=rate([s.title_ok for s in scores]),
        date_exact=rate([s.date_ok for s in scores]),
        source_exact=None if None in sources else rate([bool(ok) for ok in sources]),
        body_f1=statistics.fmean(s.body_f1 for s in scores) if n else 0.0,
        leaked_lines=sum(len(s.leaked) for s in scores),
        extra_lines=sum(len(s.extra) for s in scores),
        ms_per_page=statistics.median(per_pass) if timed and per_pass else None,
        extract_ms_per_page=median_ms([s.extract_seconds for s in scores]) if timed else None,
        disagreements=sum(bool(s.disagreements) for s in scores) if any(s.rungs for s in scores) else None,
        rungs=rung_counts(scores),
    )


def median_ms(seconds: list[list[float]]) -> float | None:
    """Per pass, the total over the pages divided by their count, in ms; the median pass."""
    passes = min((len(page) for page in seconds), default=0)
    if not seconds or not passes or not any(any(page) for page in seconds):
        return None
    return statistics.median(sum(page[i] for page in seconds) / len(seconds) * 1000 for i in range(passes))


def rung_counts(scores: list[PageScore]) -> dict[str, dict[str, int]]:
    """How many pages each rung of each field produced, in the cascade's order."""
    counts = {name: Counter(s.rungs.get(name) or "none" for s in scores if s.rungs) for name in RUNGS}
    return {
        name: {rung: counts[name][rung] for rung in (*RUNGS[name], "none") if counts[name][rung]}
        for name in RUNGS
        if counts[name]
    }


def run(
    loaded: list[LoadedPage],
    extractor: Callable[[LoadedPage], tuple[Extraction, float]],
    titles: frozenset[str],
    passes: int = PASSES,
    has_source: bool = True,
) -> dict[str, PageScore]:
    """Score every page (the first pass) and time ``passes`` passes over all of them."""
    scores: dict[str, PageScore] = {}
    for _ in range(max(passes, 1)):
        for item in loaded:
            got, seconds = extractor(item)
            if item.page.id not in scores:
                scores[item.page.id] = score(item.page, got, titles, has_source)
            scores[item.page.id].seconds.append(seconds)
            scores[item.page.id].extract_seconds.append(got.extract_seconds)
    return scores


def our_scores(pages: list[Page], titles: frozenset[str] | None = None) -> dict[str, PageScore]:
    """Our scores over ``pages``, one pass (the gate test's figures; its timings are not used)."""
    return run(load_all(pages), extract_ours, known_titles(pages) if titles is None else titles, passes=1)


# ------------------------------------------------------------------------------------------------
# Floors


def read_floors(path: Path = FLOORS) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


def pinned(old: dict[str, Any], ours: Figures) -> dict[str, Any]:
    """New floors: never lower than the old ones; the leak ceiling never higher than the old one."""
    new: dict[str, Any] = {
        "_note": (
            "Floors for tests/test_quality_gate.py, over all fixture and drift pages. Re-pin with "
            "`python -m benchmarks.extraction_quality --pin`: each quality floor becomes "
            f"max(old floor, figure - {EPSILON}) and never drops; max_leaked_lines becomes "
            "min(old ceiling, leaked lines) and never rises. Edit by hand only to raise a floor."
        ),
    }
    for key in QUALITY_FLOORS:
        value = getattr(ours, key)
        new[key] = max(float(old.get(key, 0.0)), round(max(value - EPSILON, 0.0), 6))
    leaked = ours.leaked_lines
    new[LEAK_CEILING] = min(int(old[LEAK_CEILING]), leaked) if LEAK_CEILING in old else leaked
    new["_pinned_over_pages"] = ours.pages
    return new


def below_floors(ours: Figures, floors: dict[str, Any]) -> list[str]:
    """What falls short of the pinned floors, one line each (empty when all hold)."""
    problems = [
        f"{key} {getattr(ours, key):.6f} < floor {floors[key]}"
        for key in QUALITY_FLOORS
        if key in floors and getattr(ours, key) < floors[key]
    ]
    if LEAK_CEILING in floors and ours.leaked_lines > floors[LEAK_CEILING]:
        problems.append(f"leaked_lines {ours.leaked_lines} > ceiling {floors[LEAK_CEILING]}")
    return problems


# ------------------------------------------------------------------------------------------------
# Report


@dataclass
class Target:
    name: str
    passed: bool | None
    """None when it cannot be judged (trafilatura not installed)."""
    detail: str


def targets(ours: Figures, theirs: Figures | None) -> list[Target]:
    found = [
        Target(
            f"{name} exact on >= {TARGET_EXACT:.0%} of pages",
            value is not None and value >= TARGET_EXACT,
            f"{value:.2%}" if value is not None else "n/a",
        )
        for name, value in (
            ("title", ours.title_exact),
            ("date", ours.date_exact),
            ("source", ours.source_exact),
        )
    ]
    found += [
        Target(f"mean body F1 >= {TARGET_F1}", ours.body_f1 >= TARGET_F1, f"{ours.body_f1:.4f}"),
        Target("zero boilerplate lines leaked", ours.leaked_lines == 0, f"{ours.leaked_lines} leaked"),
    ]
    found.append(
        Target(
            f"extract_article <= {TARGET_MS} ms per page (median)",
            ours.extract_ms_per_page is not None and ours.extract_ms_per_page <= TARGET_MS,
            f"{ours.extract_ms_per_page:.3f} ms" if ours.extract_ms_per_page is not None else "not timed",
        )
    )
    found.append(
        Target(
            "no page/listing disagreement where both are right",
            ours.disagreements == 0,
            f"{ours.disagreements} pages",
        )
    )
    if theirs is None:
        return [
            *found,
            *(
                Target(name, None, "trafilatura not installed: pip install '.[bench]'")
                for name in ("body F1 better than trafilatura", "fewer leaked lines than trafilatura")
            ),
            Target(f">= {TARGET_SPEEDUP:g}x faster per page than trafilatura", None, "not installed"),
        ]
    speedup = (
        theirs.ms_per_page / ours.ms_per_page if ours.ms_per_page and theirs.ms_per_page else float("nan")
    )
    return [
        *found,
        Target(
            "body F1 better than trafilatura",
            ours.body_f1 > theirs.body_f1,
            f"{ours.body_f1:.4f} vs {theirs.body_f1:.4f}",
        ),
        Target(
            "fewer leaked lines than trafilatura",
            ours.leaked_lines < theirs.leaked_lines,
            f"{ours.leaked_lines} vs {theirs.leaked_lines}",
        ),
        Target(
            f">= {TARGET_SPEEDUP:g}x faster per page than trafilatura",
            speedup >= TARGET_SPEEDUP,
            f"{speedup:.1f}x ({ours.ms_per_page:.2f} ms vs {theirs.ms_per_page:.2f} ms)",
        ),
    ]


def _cell(value: float | None, kind: str) -> str:
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{value:.1%}"
    if kind == "f1":
        return f"{value:.4f}"
    if kind == "ms":
        return f"{value:.3f}"
    return str(value)


ROWS = (
    ("title exact", "title_exact", "rate"),
    ("date exact", "date_exact", "rate"),
    ("source exact", "source_exact", "rate"),
    ("body F1 (mean)", "body_f1", "f1"),
    ("boilerplate lines leaked", "leaked_lines", "int"),
    ("extra lines", "extra_lines", "int"),
    ("ms per page (median)", "ms_per_page", "ms"),
    ("  extract_article alone", "extract_ms_per_page", "ms"),
    ("page/listing disagreements", "disagreements", "int"),
)


def table(name: str, ours: Figures, theirs: Figures | None) -> str:
    header = f"{name} ({ours.pages} pages)"
    out = [f"{header:<30}{'ours':>12}{'trafilatura':>14}"]
    for label, key, kind in ROWS:
        theirs_cell = _cell(getattr(theirs, key), kind) if theirs is not None else "not installed"
        out.append(f"  {label:<28}{_cell(getattr(ours, key), kind):>12}{theirs_cell:>14}")
    for field_name, counts in ours.rungs.items():
        rungs = ", ".join(f"{rung} {count}" for rung, count in counts.items())
        out.append(f"  rungs: {field_name:<9}{rungs}")
    return "\n".join(out)


def worst(scores: Iterable[PageScore], limit: int = 5) -> list[str]:
    """The pages that drag the figures down, for the report and the gate's messages."""
    out = []
    for s in sorted(scores, key=lambda s: (s.body_f1, -len(s.leaked))):
        if s.wrong or s.body_f1 < 1.0 or s.leaked:
            leaked = f"; leaked {s.leaked[:3]}" if s.leaked else ""
            out.append(f"{s.page}: F1 {s.body_f1:.4f}; wrong {s.wrong or '-'}{leaked}")
    return out[:limit]


def benchmark(passes: int = PASSES) -> dict[str, Any]:
    sets = discover()
    every = sets["all"]
    titles = known_titles(every)
    loaded = load_all(every)
    ours = run(loaded, extract_ours, titles, passes)
    theirs = (
        run(loaded, extract_trafilatura, titles, passes, has_source=False)
        if trafilatura_available()
        else None
    )
    results: dict[str, Any] = {}
    for name, pages in sets.items():
        ids = [page.id for page in pages]
        results[name] = {
            "ours": figures([ours[i] for i in ids]),
            "trafilatura": figures([theirs[i] for i in ids]) if theirs is not None else None,
        }
    all_ours, all_theirs = results["all"]["ours"], results["all"]["trafilatura"]
    return {
        "sets": results,
        "targets": targets(all_ours, all_theirs),
        "worst_ours": worst(ours.values()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--pin", action="store_true", help=f"re-pin {FLOORS.relative_to(ROOT)}")
    parser.add_argument("--passes", type=int, default=PASSES, help="timed passes (median is reported)")
    args = parser.parse_args(argv)
    if not trafilatura_available():
        print("trafilatura is not installed (pip install '.[bench]'): its column is empty", file=sys.stderr)
    result = benchmark(args.passes)
    if args.json:
        print(
            json.dumps(
                {
                    "sets": {
                        name: {who: asdict(f) if f is not None else None for who, f in both.items()}
                        for name, both in result["sets"].items()
                    },
                    "targets": [asdict(target) for target in result["targets"]],
                    "trafilatura_version": trafilatura_version(),
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print(
            f"ours: ExtractArticlePipeline; trafilatura {trafilatura_version() or 'not installed'}: "
            "bare_extraction(with_metadata=True)\n"
        )
        for name, both in result["sets"].items():
            print(table(name, both["ours"], both["trafilatura"]), end="\n\n")
        print("targets (all pages):")
        for target in result["targets"]:
            verdict = {True: "PASS", False: "FAIL", None: "SKIP"}[target.passed]
            print(f"  {verdict}  {target.name}: {target.detail}")
        if result["worst_ours"]:
            print("\nour weakest pages:")
            for line in result["worst_ours"]:
                print(f"  {line}")
    if args.pin:
        floors = pinned(read_floors(), result["sets"]["all"]["ours"])
        FLOORS.write_text(json.dumps(floors, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        shown = {key: value for key, value in floors.items() if not key.startswith("_")}
        print(f"\npinned {FLOORS.relative_to(ROOT)}: {shown}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
