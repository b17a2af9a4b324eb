"""Which sections a crawl reads: those of ``site.py``, and those it finds on the sites.

Each page the crawl fetches (the hosts' home pages first) names folders by its links
(:mod:`cnis_crawler.extraction.sections`). A folder met for the first time, or remembered by the
crawl state from an earlier run, has its first listing page read once: when that page lists
articles under the folder, it is a section, crawled when the site data says it holds news
(:func:`~cnis_crawler.extraction.sections.news_verdict`), reported as skipped otherwise; when it
lists none, the folder is no listing section (a landing page, a profile).

What each section turned out to be is a *verdict*, told in the per-section stats
(``cnis/<host>/<path>/section``, ``…/why``, ``…/first_page_articles``): the closing table, the
run summary, the crawl state and the report read it there. A section remembered from an earlier
run (or one of ``site.py``) that no page links any more and that yields nothing is ``gone``.
No Scrapy here: the spider asks and tells, this module keeps the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from cnis_crawler.extraction.sections import news_verdict
from cnis_crawler.memory.state import CRAWLED, GONE, KNOWN, SKIPPED
from cnis_crawler.site import Section
from cnis_crawler.urls import section_named

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from cnis_crawler.extraction.sections import FoundSection

DISCOVERED_KINDS = (CRAWLED, SKIPPED, GONE)
"""The kinds the crawl state remembers a found section by, to read it again in every run."""


@dataclass(frozen=True)
class Verdict:
    kind: str
    """:data:`KNOWN`, :data:`CRAWLED`, :data:`SKIPPED` or :data:`GONE`."""
    why: str
    first_page_articles: int | None
    """How many articles under the section its first listing page links; None: not read."""
    broken: bool = False
    """A crawled section still linked whose first page failed or lists nothing: a site change."""


@dataclass
class Folder:
    section: Section
    known: bool
    remembered: str | None = None
    """The kind the crawl state had for it, from an earlier run."""
    linked: bool = False
    first_page_articles: int | None = None
    failure: str | None = None
    rest: bool = False
    """A folder found no listing lately: not read in this run (see :data:`NO_LISTING`)."""
    cut: bool = False
    """Some folders its page links were not read (``CNIS_MAX_FOLDERS``): it may not rest."""


class SectionFinder:
    """The account of one crawl's sections, per folder of the crawled ``sites``."""

    def __init__(
        self, sites: Iterable[str], known: Iterable[Section], discover: bool, max_folders: int = 500
    ) -> None:
        self.sites = set(sites)
        self.discover = discover
        self.max_folders = max_folders
        """Folders read at most in one run (``CNIS_MAX_FOLDERS``): a bound on discovery."""
        self.over_limit: set[str] = set()
        """Folders met once the limit was reached, not read."""
        self.read = 0
        self.folders: dict[str, Folder] = {
            section.key: Folder(section, known=True) for section in known if section.host in self.sites
        }

    def remember(self, remembered: Mapping[str, str], resting: Iterable[str] = ()) -> None:
        """The found sections of earlier runs, by key: their kind then (the crawl state's); and
        ``resting``, folders found no listing lately, not to be read in this run."""
        for key, kind in remembered.items():
            if kind in DISCOVERED_KINDS and self.unmet(key):
                self.folders[key] = Folder(section_named(key), known=False, remembered=kind)
        for key in resting:
            if self.unmet(key):
                self.folders[key] = Folder(section_named(key), known=False, rest=True)

    def unmet(self, key: str) -> bool:
        """A folder of a crawled site this run has no account of yet."""
        return key.partition("/")[0] in self.sites and key not in self.folders

    def remembered(self) -> list[Section]:
        """The found sections of earlier runs, read again in this one whatever links them."""
        return [folder.section for folder in self.folders.values() if folder.remembered]

    def met(self, found: Iterable[FoundSection], on: Section | None = None) -> list[Section]:
        """Tells the folders a page (the first page of folder ``on``, or another) links; returns
        those never met before, to read page 1 of."""
        if not self.discover:
            return []
        new = []
        for linked in found:
            if linked.host not in self.sites:
                continue
            folder = self.folders.get(linked.key)
            if folder is None:
                if self.read >= self.max_folders:
                    self.over_limit.add(linked.key)
                    if on is not None and (page := self.folders.get(on.key)) is not None:
                        page.cut = True
                    continue
                self.read += 1
                folder = self.folders[linked.key] = Folder(Section(linked.host, linked.path, ""), known=False)
                new.append(folder.section)
            folder.linked = True
        return new

    def first_page(self, section: Section, articles: int | None, failure: str | None = None) -> bool:
        """Tells what the first listing page of ``section`` linked (None and why: it failed);
        returns whether its articles are to be crawled."""
        folder = self.folders.get(section.key) or self.folders.setdefault(
            section.key, Folder(section, known=False)
        )
        folder.first_page_articles, folder.failure = articles, failure
        return folder.known or lists_news(folder)

    def crawls(self, section: Section) -> bool:
        """Whether the articles of ``section`` are fetched: a known section, a found one an earlier
        run crawled, gone or not (what it left undone, what a revalidation asks about: the pages
        may live on), or a found one whose first page lists articles and that the site data calls
        news."""
        folder = self.folders.get(section.key)
        if folder is None:
            return False
        return folder.known or folder.remembered in (CRAWLED, GONE) or lists_news(folder)

    def verdicts(self) -> dict[str, Verdict]:
        """Every section's verdict so far (final once the crawl is idle): folders no listing."""
        verdicts = {}
        for key, folder in self.folders.items():
            if (verdict := self.verdict(folder)) is not None:
                verdicts[key] = verdict
        return dict(sorted(verdicts.items()))

    def verdict(self, folder: Folder) -> Verdict | None:
        listed = folder.first_page_articles
        yielded = bool(listed)
        if folder.known:
            if self.discover and not folder.linked and not yielded:
                return Verdict(
                    KNOWN, "gone: no page links it any more and its listing yields nothing", listed
                )
            return Verdict(KNOWN, "a section of site.py", listed)
        if yielded:
            news, why = news_verdict(folder.section)
            return Verdict(CRAWLED if news else SKIPPED, why, listed)
        if folder.remembered is None:
            return None  # never a listing section: a landing page, a profile, a missing page
        if not folder.linked:
            return Verdict(GONE, f"no page links it any more and {describe_first_page(folder)}", listed)
        if folder.remembered == CRAWLED:
            return Verdict(CRAWLED, f"still linked, but {describe_first_page(folder)}", listed, broken=True)
        return Verdict(folder.remembered, f"still linked, but {describe_first_page(folder)}", listed)

    def not_listings(self) -> dict[str, str]:
        """The folders read in this run whose first page lists no article under them: why, by key."""
        return {
            key: describe_first_page(folder)
            for key, folder in sorted(self.folders.items())
            if not (folder.known or folder.first_page_articles or folder.remembered or folder.rest)
        }

    def may_rest(self, key: str) -> bool:
        """Whether a folder found no listing may be left alone by the next runs: not when some
        folders its page links went unread (the limit), which only it leads to."""
        return not self.folders[key].cut


def lists_news(folder: Folder) -> bool:
    """A found folder whose first page lists articles under it, which the site data calls news."""
    return bool(folder.first_page_articles) and news_verdict(folder.section)[0]


def describe_first_page(folder: Folder) -> str:
    if folder.failure:
        return f"its first page failed ({folder.failure})"
    if folder.first_page_articles is None:
        return "its first page was not read"
    return "its first page lists no article under it"
