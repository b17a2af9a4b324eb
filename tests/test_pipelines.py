"""The pipelines, built the way Scrapy builds them: every non-record ends as a named drop."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from cnis_crawler.crawling.drops import (
    EmptyBody,
    ExtractionFailed,
    FetchFailed,
    Gone,
    MissingPart,
    MissingTitle,
    NotHtml,
    NotNewsArticle,
    Redirected,
    Unchanged,
)
from cnis_crawler.crawling.extensions import section_table
from cnis_crawler.crawling.items import Article, FetchedPage, FetchProblem, content_hash
from cnis_crawler.crawling.pipelines import ExtractArticlePipeline, ValidateArticlePipeline
from cnis_crawler.crawling.spider import CnisSpider
from cnis_crawler.extraction import Listed

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.exceptions import DropItem

URL = "https://en.cnis.ac.cn/kycg/202001/t20200115_40001.shtml"


def whole(body: str) -> str:
    """A page around ``body``, ending as a page does: one without its end is Truncated."""
    return f"<html><body>{body}</body></html>"


PAGE_HTML = whole("""<div>Your Location:CNIS Home-&gt;Research</div><h2>Report released</h2>
<div>Date: 2020-01-10&nbsp;&nbsp;Source:CNIS</div><p>The report maps 120 national standards.</p>""")


def pipeline_chain(crawler: Crawler | None = None) -> list[object]:
    """The pipelines that turn a page into a record; versions are tested in test_incremental."""
    crawler = crawler or get_crawler(CnisSpider)
    return [build_from_crawler(cls, crawler) for cls in (ExtractArticlePipeline, ValidateArticlePipeline)]


def run_chain(item: object, chain: list[object]) -> object:
    """As Scrapy runs them, awaiting a pipeline's process_item where it is a coroutine."""
    for pipeline in chain:
        item = pipeline.process_item(item)  # type: ignore[attr-defined]
        if asyncio.iscoroutine(item):
            item = asyncio.run(item)
    return item


def fetched(url: str = URL, html: str = PAGE_HTML, **changes: object) -> FetchedPage:
    page = FetchedPage(url=url, fetched_at="2026-11-24T05:00:00Z", html=html)
    return replace(page, **changes)


def test_chain_turns_a_page_into_an_article() -> None:
    article = run_chain(fetched(), pipeline_chain())
    assert isinstance(article, Article)
    assert (article.title, article.date, article.source, article.section) == (
        "Report released",
        "2020-01-10",
        "CNIS",
        "Research",
    )
    assert article.content_hash == content_hash("Report released", "The report maps 120 national standards.")


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        pytest.param(fetched(problem=FetchProblem.FAILED, detail="HTTP 503"), FetchFailed, id="fetch-failed"),
        pytest.param(fetched(problem=FetchProblem.GONE, detail="HTTP 404"), Gone, id="gone"),
        pytest.param(
            fetched(problem=FetchProblem.NOT_MODIFIED, detail="HTTP 304"), Unchanged, id="not-modified"
        ),
        pytest.param(fetched(problem=FetchProblem.NOT_HTML, detail="not HTML"), NotHtml, id="not-html"),
        pytest.param(
            fetched(problem=FetchProblem.REDIRECTED_AWAY, detail="redirected to https://x.org/"),
            Redirected,
            id="redirected-away",
        ),
        pytest.param(
            fetched(problem=FetchProblem.MISSING_PART, detail="part failed (HTTP 404)"),
            MissingPart,
            id="missing-part",
        ),
        pytest.param(
            fetched(url="https://en.cnis.ac.cn/bzygk_329/yjjg/201312/t20131231_35948.shtml"),
            NotNewsArticle,
            id="profile-page",
        ),
        pytest.param(fetched(html=whole("<p>Date: 2020-01-10</p>")), MissingTitle, id="no-title"),
        pytest.param(fetched(html=whole("<h2>Report</h2><p>Date: 2020-01-10</p>")), EmptyBody, id="no-body"),
    ],
)
def test_drops_name_their_reason_and_url(page: FetchedPage, reason: type[DropItem]) -> None:
    with pytest.raises(reason, match=page.url.replace(".", r"\.")):
        run_chain(page, pipeline_chain())


def test_an_article_of_pictures_alone_is_a_record() -> None:
    html = whole(
        "<div>Your Location:CNIS Home-&gt;Research</div><h2>Report released</h2>"
        "<div>Date: 2020-01-10&nbsp;&nbsp;Source:CNIS</div><p><img src='./W020200110.jpg' width='600'></p>"
    )
    article = run_chain(fetched(html=html), pipeline_chain())
    assert isinstance(article, Article)
    assert (article.body, [image["url"] for image in article.images]) == (
        "",
        [URL.rsplit("/", 1)[0] + "/W020200110.jpg"],
    )


def test_pipelines_pass_other_items_through() -> None:
    item = {"not": "ours"}
    assert run_chain(item, [ExtractArticlePipeline(), ValidateArticlePipeline()]) is item


def test_rungs_are_counted_in_the_stats() -> None:
    crawler = get_crawler(CnisSpider)
    crawler.stats.open_spider()
    run_chain(fetched(), pipeline_chain(crawler))
    stats = crawler.stats.get_stats()
    assert stats["extraction/rung/title/line-above-date"] == 1
    assert stats["extraction/rung/date/date-label"] == 1
    assert stats["extraction/rung/body/after-date-line"] == 1


def test_what_page_and_listing_state_otherwise_is_counted_logged_and_the_page_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = get_crawler(CnisSpider)
    crawler.stats.open_spider()
    listed = Listed("Report on standards...", "Report on standards for services", "2020-01-09")
    with caplog.at_level(logging.INFO, logger="cnis_crawler.crawling.pipelines"):
        article = run_chain(fetched(listed=listed), pipeline_chain(crawler))
    assert isinstance(article, Article)
    assert (article.title, article.date) == ("Report released", "2020-01-10")
    stats = crawler.stats.get_stats()
    assert (stats["extraction/disagreement/title"], stats["extraction/disagreement/date"]) == (1, 1)
    assert stats["cnis/en.cnis.ac.cn/kycg/disagreements"] == 2
    assert section_table(crawler.stats)["en.cnis.ac.cn/kycg"]["disagreements"] == 2
    assert [record.getMessage() for record in caplog.records] == [
        (
            f"Page and listing disagree on the title of {URL}: page 'Report released',"
            " listing 'Report on standards for services / Report on standards...'"
        ),
        f"Page and listing disagree on the date of {URL}: page '2020-01-10', listing '2020-01-09'",
    ]


@pytest.mark.parametrize(
    "listed",
    [
        pytest.param(Listed("Report rel...", "Report released", "2020-01-10"), id="title-cut-date-same"),
        pytest.param(Listed("Report released"), id="text-only-no-date"),
        pytest.param(None, id="nothing-listed"),
    ],
)
def test_a_listing_that_agrees_counts_nothing(
    listed: Listed | None, caplog: pytest.LogCaptureFixture
) -> None:
    crawler = get_crawler(CnisSpider)
    crawler.stats.open_spider()
    with caplog.at_level(logging.INFO, logger="cnis_crawler.crawling.pipelines"):
        run_chain(fetched(listed=listed), pipeline_chain(crawler))
    assert not [key for key in crawler.stats.get_stats() if "disagree" in key]
    assert not caplog.records


def test_an_extraction_crash_is_a_named_drop(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RecursionError("too deep")

    monkeypatch.setattr("cnis_crawler.extraction.reading.extract_article", broken)
    with pytest.raises(ExtractionFailed, match=f"RecursionError: {URL}"):
        run_chain(fetched(), pipeline_chain())


def test_continuation_pages_join_the_body() -> None:
    part = PAGE_HTML.replace("The report maps 120 national standards.", "It lists 35 gaps.")
    article = run_chain(fetched(continuations=[part]), pipeline_chain())
    assert isinstance(article, Article)
    assert article.body == "The report maps 120 national standards.\n\nIt lists 35 gaps."


def test_a_closing_source_note_on_the_last_page_is_the_source() -> None:
    first = PAGE_HTML.replace("Source:CNIS", "")
    last = first.replace("The report maps 120 national standards.", "It lists 35 gaps.</p><p>(Source: ISO)")
    article = run_chain(fetched(html=first, continuations=[last]), pipeline_chain())
    assert isinstance(article, Article)
    assert article.source == "ISO"
    assert "Source" not in article.body
