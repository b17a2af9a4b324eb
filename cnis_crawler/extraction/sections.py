"""The sections a page shows the way to: folders of the crawled sites, found by their links.

A page names a folder as a section when it links the folder's listing (``/<folder>/``,
``/<folder>/index.<ext>``: menus, breadcrumbs, "more"/"更多" links) or an article under it
(``/<folder>/<YYYYMM>/t<date>_<id>.<ext>``). A folder is a listing section when its first
listing page links articles of that shape under it (:func:`articles_listed_under`); whether such
a section is news is the site data's word (:func:`section_rule`), never a menu's wording.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from cnis_crawler.extraction.document import read_page
from cnis_crawler.site import ARTICLE_PATH_RE, HOSTS, LISTING_PATH_RE, SECTION_RULES, SectionRule
from cnis_crawler.urls import canonical_url

MONTH_FOLDER_RE = re.compile(r"(?:^|/)\d{6}$")
"""An article's month folder (``…/202403``): where articles sit, no section of its own."""


@dataclass(frozen=True)
class FoundSection:
    host: str
    path: str
    """The folder, no slash at either end: ``ynbm/spynyzlyjs/kydt``."""
    via: str
    """``listing link`` or ``article link``: what on the page named it."""

    @property
    def key(self) -> str:
        return f"{self.host}/{self.path}"


def section_rule(path: str) -> SectionRule | None:
    """The first rule of the site data naming the folder ``path``, or None."""
    return next((rule for rule in SECTION_RULES if rule.path.fullmatch(path)), None)


def folder_of(url: str) -> tuple[str, str, str] | None:
    """(host, folder, what names it) of a crawled site's listing or article URL, or None."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if host not in HOSTS:
        return None
    if (article := ARTICLE_PATH_RE.match(parts.path)) is not None:
        return host, article["section"], "article link"
    listing = LISTING_PATH_RE.match(parts.path)
    if listing is None or MONTH_FOLDER_RE.search(listing["section"]):
        return None
    return host, listing["section"], "listing link"


def sections_linked(html: str, url: str) -> tuple[FoundSection, ...]:
    """The folders the page at ``url`` (its live URL) links as sections, in the order first met;
    a folder named both ways is taken as its listing link names it."""
    found: dict[tuple[str, str], FoundSection] = {}
    for link_url, _ in read_page(html, url).anchors:
        if (folder := folder_of(canonical_url(link_url))) is None:
            continue
        host, path, via = folder
        known = found.get((host, path))
        if known is None or (known.via != via and via == "listing link"):
            found[(host, path)] = FoundSection(host, path, via)
    return tuple(found.values())


def articles_listed_under(html: str, url: str, folder: str) -> int:
    """How many distinct articles of the article URL shape under ``folder`` the page links:
    a folder's first listing page linking some is a listing section."""
    urls = set()
    for link_url, _ in read_page(html, url).anchors:
        live = canonical_url(link_url)
        article = ARTICLE_PATH_RE.match(urlsplit(live).path)
        if article is not None and article["section"] == folder and not article["part"]:
            urls.add(live)
    return len(urls)
