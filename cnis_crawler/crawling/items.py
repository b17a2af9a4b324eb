"""What the spider yields (:class:`FetchedPage`) and what the crawl exports (:class:`Article`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from enum import Enum
from typing import TYPE_CHECKING

from cnis_crawler.memory.state import Validators

if TYPE_CHECKING:
    from cnis_crawler.extraction import Listed
    from cnis_crawler.extraction.reading import Reading

WORK_META = "cnis_work"
"""Request meta ``(kind, live URL as listed)`` of the pages whose progress the crawl state
tracks, and by which a page's outcome is counted in the section that listed it."""


class FetchProblem(Enum):
    FAILED = "failed"
    """HTTP error, timeout, refused connection, request filtered."""
    GONE = "gone"
    """HTTP 404 or 410: the server says the page does not exist."""
    NOT_MODIFIED = "not-modified"
    """HTTP 304 to a revalidating request: the known version is still current."""
    NOT_HTML = "not-html"
    REDIRECTED_AWAY = "redirected-away"
    """Redirected to something that is not a news article of the crawled sites."""
    MISSING_PART = "missing-part"
    """A continuation page of a multi-page article could not be fetched."""


@dataclass(frozen=True)
class Fetch:
    """What the crawl state keeps of a fetch besides the record: rides on the item to the end."""

    listed_url: str
    """The live URL the page was listed (and requested) under; a redirect may have led elsewhere."""
    validators: Validators = field(default_factory=Validators)
    """What the server sent to ask it next time whether the page changed."""

    def urls(self, url: str) -> tuple[str, ...]:
        """The page's URL, and the URL it was listed under when a redirect led to it."""
        return (url,) if self.listed_url == url else (self.listed_url, url)


@dataclass
class FetchedPage:
    """An article page as fetched, or why it could not be; pipelines turn it into an Article."""

    url: str
    """The live URL the page stands for, also when it was fetched from a mirror."""
    fetched_at: str
    html: str = field(default="", repr=False)
    continuations: list[str] = field(default_factory=list, repr=False)
    """The HTML of the article's further pages (``t…_<id>_1`` …), in order."""
    listed: Listed | None = None
    """What the listing showed for the article (its second witness of title and date); from the
    crawl state only the title (retries, revalidation); None when nothing linked it."""
    problem: FetchProblem | None = None
    detail: str = ""
    fetch: Fetch | None = None
    reading: Reading | None = field(default=None, repr=False)
    """The page read already (by the spider, with its links), for an article of one page."""


@dataclass
class Article:
    url: str
    site: str
    lang: str
    section: str
    title: str
    subtitle: str | None
    date: str
    date_source: str
    url_date: str
    source: str | None
    body: str = field(repr=False)
    attachments: list[dict[str, str]] = field(repr=False)
    """Files the article links in its folder: ``name`` and ``url`` (``path``, ``checksum`` once
    downloaded, see :mod:`cnis_crawler.crawling.files`)."""
    images: list[dict[str, str | None]] = field(repr=False)
    """The article's pictures in order: ``url``, ``caption``, ``alt`` (and ``path``, ``checksum``)."""
    standards: list[str]
    """Standards the title, subtitle and body name, normalised (``GB/T 19001-2016``, ``ISO 9001:2015``)."""
    committees: list[str]
    """Committees they name (``ISO/TC 268/SC 1``, ``SAC/TC 28``)."""
    doc_id: int
    fetched_at: str
    content_hash: str = field(repr=False)
    extracted_by: dict[str, str | None] = field(repr=False)
    """Which rung of each field's cascade produced it (see extraction.article.RUNGS)."""
    # Set by cnis_crawler.crawling.versions when the record is accepted.
    key: str = ""
    """The article's identity across URLs: ``<site>/<doc id>`` of the first copy written."""
    version: int = 0
    """1 for the first record of an article, +1 for each record with changed content."""
    change: str = ""
    """``new`` or ``changed``."""
    fetch: Fetch | None = field(default=None, repr=False, metadata={"record": False})
    """Not in the record (see :data:`RECORD_FIELDS`): for the crawl state."""


RECORD_FIELDS = tuple(item.name for item in fields(Article) if item.metadata.get("record", True))
"""The fields a record holds, in order: ``FEED_EXPORT_FIELDS`` (also for ``-o``/``-O``)."""


def record_of(article: Article) -> dict[str, object]:
    """The record a feed writes of ``article`` (before its JSON encoding)."""
    return {name: getattr(article, name) for name in RECORD_FIELDS}


def page_urls(item: object) -> tuple[str, ...]:
    """The URLs an item's page stands for: its own, and the one it was listed under when a
    redirect led elsewhere (a FetchedPage or an Article; any other item: its url alone)."""
    url = str(getattr(item, "url", ""))
    fetch: Fetch | None = getattr(item, "fetch", None)
    return fetch.urls(url) if fetch else (url,)


def content_hash(title: str, body: str) -> str:
    """sha256 of title and body with every whitespace run folded to one space."""
    normalised = " ".join(f"{title}\n{body}".split())
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()
