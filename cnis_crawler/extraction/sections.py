"""The sections a page shows the way to: folders of the crawled sites, found by their links.

A page names a folder as a section when it links the folder's listing (``/<folder>/``,
``/<folder>/index.<ext>``: menus, breadcrumbs, "more"/"更多" links) or an article under it
(``/<folder>/<YYYYMM>/t<date>_<id>.<ext>``). A folder is a listing section when its first
listing page links articles of that shape under it (:func:`articles_listed_under`); whether such
a section is news is the site data's word (:func:`news_verdict`), never a menu's wording.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from cnis_crawler.site import (
    ARTICLE_PATH_RE,
    HOSTS,
    LISTING_PATH_RE,
    SECTION_RULES,
    SectionRule,
)
from cnis_crawler.urls import KNOWN_SECTIONS, is_section_folder

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cnis_crawler.site import Section

LISTING_LINK = "listing link"
ARTICLE_LINK = "article link"


@dataclass(frozen=True)
class FoundSection:
    host: str
    path: str
    """The folder, no slash at either end: ``ynbm/spynyzlyjs/kydt``."""
    via: str
    """:data:`LISTING_LINK` or :data:`ARTICLE_LINK`: what on the page named it."""

    @property
    def key(self) -> str:
        return f"{self.host}/{self.path}"


def section_rule(path: str) -> SectionRule | None:
    """The first rule of the site data naming the folder ``path``, or None."""
    return next((rule for rule in SECTION_RULES if rule.path.fullmatch(path)), None)


def news_verdict(section: Section) -> tuple[bool, str]:
    """Whether the site data says ``section`` holds news, and why: a section of ``site.SECTIONS``
    does; a found one as the first rule naming its folder says; one no rule names does not."""
    if (section.host, section.path) in KNOWN_SECTIONS:
        return True, "a section of site.py"
    if (rule := section_rule(section.path)) is not None:
        return rule.news, rule.why
    return False, "no site rule names its folder news"


# Pure, and asked about the same URLs (a site's menus) on every page: memoized.
@lru_cache(maxsize=4096)
def folder_of(url: str) -> tuple[str, str, str] | None:
    """(host, folder, what names it) of a crawled site's listing or article URL, or None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host not in HOSTS:
        return None
    if (article := ARTICLE_PATH_RE.match(parts.path)) is not None:
        return (host, article["section"], ARTICLE_LINK) if is_section_folder(article["section"]) else None
    listing = LISTING_PATH_RE.match(parts.path)
    if listing is None or not is_section_folder(listing["section"]):
        return None
    return host, listing["section"], LISTING_LINK


def sections_linked(live_urls: Iterable[str]) -> tuple[FoundSection, ...]:
    """The folders that a page's links (at their live URLs) name as sections, in the order first
    met; a folder named both ways is taken as its listing link names it."""
    found: dict[tuple[str, str], FoundSection] = {}
    for url in live_urls:
        if (folder := folder_of(url)) is None:
            continue
        host, path, via = folder
        known = found.get((host, path))
        if known is None or (known.via != via and via == LISTING_LINK):
            found[(host, path)] = FoundSection(host, path, via)
    return tuple(found.values())


def articles_listed_under(live_urls: Iterable[str], host: str, folder: str) -> int:
    """How many distinct articles of the article URL shape under ``host``/``folder`` the links
    name (first pages only): a folder's first listing page linking some is a listing section."""
    listed = set()
    for url in live_urls:
        parts = urlsplit(url)
        article = ARTICLE_PATH_RE.match(parts.path)
        if (
            article is not None
            and parts.hostname == host
            and article["section"] == folder
            and not article["part"]
        ):
            listed.add(parts.path)
    return len(listed)
