"""What a URL means on the CNIS sites, and where to fetch it from.

Records always carry the *live* URL a page stands for. When crawling a mirror, pages are fetched
from ``<mirror>/<host>/<path>`` instead; :class:`Addressing` maps between the two, so everything
else in the crawler only ever sees live URLs.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from cnis_crawler.site import (
    ARTICLE_PATH_RE,
    ATTACHMENT_EXTENSIONS,
    ATTACHMENT_NAME_RE,
    HOSTS,
    IMAGE_EXTENSIONS,
    LISTING_FILE_STEM,
    LISTING_PATH_RE,
    MAX_FOLDER_DEPTH,
    MONTH_FOLDER_RE,
    SECTIONS,
    Host,
    Section,
)


@dataclass(frozen=True)
class ArticleUrl:
    url: str
    host: str
    section: Section
    url_date: date
    doc_id: int
    part: int
    """0 for the first page of an article, k for its ``_k`` continuation page."""

    @property
    def directory(self) -> str:
        return self.url.rsplit("/", 1)[0] + "/"


KNOWN_SECTIONS: dict[tuple[str, str], Section] = {
    (section.host, section.path): section for section in SECTIONS
}


def is_section_folder(folder: str) -> bool:
    """Whether a folder path (no slash at either end) may be a section: none of its folders is a
    month folder, and it is no deeper than any section can be (``MAX_FOLDER_DEPTH``)."""
    return not MONTH_FOLDER_RE.search(folder) and folder.count("/") < MAX_FOLDER_DEPTH


def section_named(key: str) -> Section:
    """The section ``<host>/<path>`` names: one of ``site.SECTIONS``, or one found on the site (no
    trail)."""
    host, _, path = key.partition("/")
    return KNOWN_SECTIONS.get((host, path)) or Section(host, path, "")


# Pure, and asked about the same URLs (a site's navigation) on every page: memoized.
@lru_cache(maxsize=4096)
def section_of(url: str) -> Section | None:
    """The section of a live listing or article URL of a CNIS host: the folder its shape names
    (``/<folder>/index_2.html``, ``/<folder>/<YYYYMM>/t…``), one of ``site.SECTIONS`` or one found
    on the site (no trail then); for any other URL, the known section whose folder holds it
    (longest path wins); None outside them all. Which sections a crawl reads is the spider's
    choice, not this function's."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host not in HOSTS:
        return None
    shaped = ARTICLE_PATH_RE.match(parts.path) or LISTING_PATH_RE.match(parts.path)
    if shaped is not None and is_section_folder(folder := shaped["section"]):
        return section_named(f"{host}/{folder}")
    best: Section | None = None
    for section in SECTIONS:
        inside = section.host == host and parts.path.startswith(f"/{section.path}/")
        if inside and (best is None or len(section.path) > len(best.path)):
            best = section
    return best


# Pure, and asked about the same URLs (a site's navigation) on every page: memoized.
@lru_cache(maxsize=512)
def parse_article_url(url: str) -> ArticleUrl | None:
    """The parts of an article URL of a CNIS host (in any section: news or not is the crawl's
    choice), or None for anything else (listings, files, other hosts)."""
    parts = urlsplit(url)
    match = ARTICLE_PATH_RE.match(parts.path)
    section = section_of(url)
    if not match or section is None or match["section"] != section.path:
        return None
    try:
        url_date = date(int(match["date"][:4]), int(match["date"][4:6]), int(match["date"][6:]))
    except ValueError:
        return None
    if match["month"] != match["date"][:6]:
        return None
    return ArticleUrl(
        url=canonical_url(url),
        host=section.host,
        section=section,
        url_date=url_date,
        doc_id=int(match["doc_id"]),
        part=int(match["part"] or 0),
    )


def first_page_url(part_url: str) -> str:
    """The first page of a multi-page article, of one of its further pages (``t…_<id>_2.html``)."""
    stem, extension = part_url.rsplit(".", 1)
    return f"{stem.rsplit('_', 1)[0]}.{extension}"


def listing_page_number(url: str) -> int | None:
    """0 for a section's first listing page, k for ``index_k``; None if not a listing page."""
    match = LISTING_PATH_RE.match(urlsplit(url).path)
    section = section_of(url)
    if not match or section is None or match["section"] != section.path:
        return None
    return int(match["page"] or 0)


def listing_page_url(section: Section, page: int) -> str:
    host = HOSTS[section.host]
    name = LISTING_FILE_STEM if page == 0 else f"{LISTING_FILE_STEM}_{page}"
    return f"{host.scheme}://{host.name}/{section.path}/{name}.{host.extension}"


# Pure, and asked about the same URLs (a site's navigation) on every page: memoized.
@lru_cache(maxsize=512)
def canonical_url(url: str, *, keep_query: bool = False) -> str:
    """The form a live URL is recorded under: the host's own scheme and no port for a CNIS host,
    no fragment, no query (unless kept: a picture served by a script, ``getpic.jsp?id=1``)."""
    parts = urlsplit(url)
    host = HOSTS.get((parts.hostname or "").lower())
    if host is None:
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, parts.query, ""))
    return urlunsplit((host.scheme, host.name, parts.path or "/", parts.query if keep_query else "", ""))


def is_attachment(url: str, article: ArticleUrl) -> bool:
    """A file stored beside the article (its month folder), by TRS name or file extension."""
    if not canonical_url(url).startswith(article.directory):
        return False
    name = posixpath.basename(urlsplit(url).path)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension in IMAGE_EXTENSIONS:
        return False
    return bool(ATTACHMENT_NAME_RE.match(name)) or extension in ATTACHMENT_EXTENSIONS


def could_be_attachment(href: str) -> bool:
    """Whether a link as written (unresolved) may name an attachment: a TRS file name or a file
    extension of one. Spares resolving every link of a page that has none."""
    name = href.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1].strip()
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return name.startswith("P0") or extension in ATTACHMENT_EXTENSIONS


def mirrored_live_url(path: str, query: str = "") -> str | None:
    """The live URL a mirror's path ``/<host>/<rest>`` (and query) stands for; None for a path
    that starts with no site host (the mirror's own robots.txt)."""
    if (mirrored := mirrored_host(path)) is None:
        return None
    host, rest = mirrored
    return f"{host.scheme}://{host.name}/{rest}" + (f"?{query}" if query else "")


def mirrored_host(path: str) -> tuple[Host, str] | None:
    """The site host a mirror path starts with (``/<host>/<rest>``) and the rest, or None."""
    first, _, rest = path.lstrip("/").partition("/")
    host = HOSTS.get(first.lower())
    return (host, rest) if host is not None else None


@dataclass(frozen=True)
class Addressing:
    """Maps live URLs to the URLs actually fetched: the live site itself, or a mirror of it."""

    mirror: str | None = None

    def __post_init__(self) -> None:
        if self.mirror is not None:
            parts = urlsplit(self.mirror)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"mirror must be an http(s) base URL, got {self.mirror!r}")
            object.__setattr__(self, "mirror", self.mirror.rstrip("/"))

    def fetch_url(self, live_url: str) -> str:
        if self.mirror is None:
            return live_url
        parts = urlsplit(live_url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.mirror}/{parts.netloc}{parts.path or '/'}{query}"

    def refetch_url(self, url: str) -> str:
        """``url`` as this addressing fetches it, when another one made it: a request that a
        killed run queued for the live site, or for a mirror served then at another port."""
        parts = urlsplit(url)
        if (parts.hostname or "") in HOSTS:
            live = url
        elif (mirrored := mirrored_live_url(parts.path, parts.query)) is not None:
            live = mirrored
        else:
            return url
        return self.fetch_url(live)

    @lru_cache(maxsize=512)  # noqa: B019 (one Addressing per crawl, kept for the crawl anyway)
    def live_url(self, url: str, context_host: str) -> str:
        """The live URL that a fetched URL, or a link found on a page of ``context_host``, stands for.

        On a mirror, ``<mirror>/<host>/<path>`` is ``<host>/<path>``, and a mirror path that does
        not start with a host is a root-relative link of the page's own host.
        """
        if self.mirror is None or not url.startswith(f"{self.mirror}/"):
            return canonical_url(url)
        path = url[len(self.mirror) :].split("?", 1)[0].split("#", 1)[0]
        if mirrored := mirrored_host(path):
            host, path = mirrored[0], f"/{mirrored[1]}"
        else:
            host = HOSTS[context_host]
        return canonical_url(f"{host.scheme}://{host.name}{path}")

    @property
    def allowed_domains(self) -> list[str]:
        if self.mirror is None:
            return list(HOSTS)
        return [urlsplit(self.mirror).hostname or ""]
