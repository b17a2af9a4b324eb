"""The account of a crawl's sections (SectionFinder), alone: what it reads, what it may leave."""

from __future__ import annotations

from cnis_crawler.crawling.discovery import SectionFinder
from cnis_crawler.extraction.sections import LISTING_LINK, FoundSection
from cnis_crawler.site import SECTIONS, Section

HOST = "www.cnis.ac.cn"


def found(*paths: str) -> list[FoundSection]:
    return [FoundSection(HOST, path, LISTING_LINK) for path in paths]


def test_a_folder_whose_links_went_unread_may_not_rest() -> None:
    finder = SectionFinder([HOST], SECTIONS, discover=True, max_folders=2)
    assert [section.path for section in finder.met(found("ynbm", "bygk"))] == ["ynbm", "bygk"]
    landing = Section(HOST, "ynbm", "")
    finder.first_page(landing, 0)
    finder.first_page(Section(HOST, "bygk", ""), 0)
    # The department, linked only from the landing page, is over the limit: not read this run.
    assert finder.met(found("ynbm/spynyzlyjs", "djgz"), on=landing) == []
    assert finder.met(found("ynbm/spynyzlyjs", "djgz"), on=landing) == []
    assert finder.over_limit == {f"{HOST}/ynbm/spynyzlyjs", f"{HOST}/djgz"}  # folders, not links
    assert set(finder.not_listings()) == {f"{HOST}/ynbm", f"{HOST}/bygk"}
    # The landing page is read again next run, so that what it leads to is reached; the other rests.
    assert not finder.may_rest(f"{HOST}/ynbm")
    assert finder.may_rest(f"{HOST}/bygk")


def test_a_resting_folder_is_not_read_and_no_section() -> None:
    finder = SectionFinder([HOST], SECTIONS, discover=True)
    finder.remember({f"{HOST}/ynbm/spynyzlyjs/kydt": "crawled"}, resting=[f"{HOST}/ynbm"])
    assert [section.key for section in finder.remembered()] == [f"{HOST}/ynbm/spynyzlyjs/kydt"]
    assert finder.met(found("ynbm", "tzgg/zbgg")) == [Section(HOST, "tzgg/zbgg", "")]
    assert f"{HOST}/ynbm" not in finder.verdicts()
    assert f"{HOST}/ynbm" not in finder.not_listings()
    # A found section crawled before, gone or not, has its articles fetched (resumed, revalidated).
    assert finder.crawls(Section(HOST, "ynbm/spynyzlyjs/kydt", ""))
