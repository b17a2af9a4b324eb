"""The parsed page every extraction reads: its lines, links, and one parse shared by its readers."""

from __future__ import annotations

import dataclasses

import pytest

from cnis_crawler.extraction import extract_article, extract_article_page_links
from cnis_crawler.extraction.document import KEPT_MAX_CHARS, Document, link_text, parse_html, read_page
from cnis_crawler.urls import Addressing, canonical_url, parse_article_url, section_of
from tests.conftest import article_pages, expected_record, live_url, page_text

URL = "http://www.cnis.ac.cn/bydt/zhxw/202510/t20251020_61774.shtml"


def lines(html: str) -> list[tuple[str, int]]:
    return [(line.text, line.link_chars) for line in Document(html, URL).lines]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            "<div>a<b>b</b><p>p1</p>c<br>d</div>",
            [("ab", 0), ("p1", 0), ("c", 0), ("d", 0)],
            id="blocks-and-breaks",
        ),
        # The text after a comment or a processing instruction is the comment's tail in the tree.
        pytest.param("<p>before <!-- note --> after</p>", [("before after", 0)], id="comment-tail"),
        pytest.param("<p>one<?php echo 1 ?>two</p>", [("onetwo", 0)], id="processing-instruction-tail"),
        pytest.param(
            "<p>a<script>s()</script>b<span hidden>h</span>c<em style='DISPLAY: none'>x</em>d</p>",
            [("abcd", 0)],
            id="invisible-skipped-tails-kept",
        ),
        pytest.param(
            "<p><a href='/x'>Link</a> and prose</p><p><a>no href</a></p>",
            [("Link and prose", 4), ("no href", 0)],
            id="link-text-counted",
        ),
        pytest.param(
            "<ul><li>one</li><li> </li><li>two</li></ul>", [("one", 0), ("two", 0)], id="blank-lines"
        ),
        pytest.param("", [], id="empty"),
        pytest.param(" \n\t ", [], id="whitespace"),
        pytest.param("<!-- only a comment -->", [], id="only-a-comment"),
        pytest.param("<p>a\x00b</p>", [("ab", 0)], id="nul-byte"),
    ],
)
def test_lines(html: str, expected: list[tuple[str, int]]) -> None:
    assert lines(html) == expected


def test_deep_markup_does_not_overflow() -> None:
    depth = 2000  # lxml keeps 2,000 levels (more are cut off); Python's recursion limit is 1,000
    assert lines("<div>" * depth + "deep" + "</div>" * depth) == [("deep", 0)]


def test_a_line_knows_its_block() -> None:
    doc = Document("<div id='body'><p id='first'>One <b>two</b></p>three</div>", URL)
    assert [(line.text, line.block.get("id")) for line in doc.lines] == [
        ("One two", "first"),
        ("three", "body"),
    ]


def test_anchors_resolve_against_the_base_and_skip_non_links() -> None:
    html = """<html><head><base href="http://www.cnis.ac.cn/bydt/"></head><body>
    <a href="zhxw/">relative</a> <a href="/root.shtml">root</a> <a href="?page=2">query</a>
    <a href="//en.cnis.ac.cn/x">scheme-relative</a> <a href="#top">fragment</a>
    <a href="javascript:void(0)">script</a> <a href="mailto:a@b.c">mail</a> <a>none</a>
    <a href=" https://www.cnis.ac.cn/a.shtml " title="Its title">text</a></body></html>"""
    doc = Document(html, URL)
    assert [url for url, _ in doc.anchors] == [
        "http://www.cnis.ac.cn/bydt/zhxw/",
        "http://www.cnis.ac.cn/root.shtml",
        "http://www.cnis.ac.cn/bydt/?page=2",
        "http://en.cnis.ac.cn/x",
        "https://www.cnis.ac.cn/a.shtml",
    ]
    assert [link_text(anchor) for _, anchor in doc.anchors] == [
        "relative",
        "root",
        "query",
        "scheme-relative",
        "Its title",
    ]


def test_relative_links_resolve_as_urljoin_does_on_a_page_without_base() -> None:
    html = '<a href="../../202509/t1.shtml">up</a><a href="./t2.shtml?x=1">same</a><a href=".">folder</a>'
    assert [url for url, _ in Document(html, URL + "?from=list").anchors] == [
        "http://www.cnis.ac.cn/bydt/202509/t1.shtml",
        "http://www.cnis.ac.cn/bydt/zhxw/202510/t2.shtml?x=1",
        "http://www.cnis.ac.cn/bydt/zhxw/202510/",
    ]


def test_a_page_with_an_xml_declaration_is_read_as_html() -> None:
    """parsel reads a text starting with ``<?xml`` as XML: an XHTML article's elements would all
    be namespaced, no tag a block, and the page one line. Pages are parsed as browsers do."""
    page = next(page for page in article_pages() if 'xmlns="http://www.w3.org/1999/xhtml"' in page_text(page))
    html, url = page_text(page), live_url(page)
    declared = extract_article('<?xml version="1.0" encoding="utf-8"?>\n' + html, url)
    assert declared == extract_article(html, url)
    assert declared.title == expected_record(page)["title"]
    assert declared.date_source == "page"


def test_the_spider_and_the_pipeline_share_one_parse_of_a_page() -> None:
    """The spider reads a mirrored page at its mirror URL, the pipeline at its live URL: one tree
    and one set of lines serve both; the links are resolved for each URL."""
    page = article_pages()[0]
    html, url = page_text(page), live_url(page)
    mirrored = "http://127.0.0.1:8123/" + url.split("://", 1)[1]
    extract_article_page_links(html, mirrored)
    spider_doc = read_page(html, mirrored)
    extract_article(html, url)
    pipeline_doc = read_page(html, url)
    assert pipeline_doc.selector is spider_doc.selector
    assert pipeline_doc.lines is spider_doc.lines
    assert "127.0.0.1:8123" in {anchor_url.split("/")[2] for anchor_url, _ in spider_doc.anchors}
    assert "127.0.0.1:8123" not in {anchor_url.split("/")[2] for anchor_url, _ in pipeline_doc.anchors}


def test_a_long_page_is_not_kept() -> None:
    html = "<p>" + "x" * KEPT_MAX_CHARS + "</p>"
    assert parse_html(html) is not parse_html(html)
    assert read_page(html, URL) is not read_page(html, URL)
    short = "<p>short</p>"
    assert parse_html(short) is parse_html(short)


def test_what_readers_share_cannot_be_changed_by_one_of_them() -> None:
    doc = Document('<meta name="title" content="T"><p>Line</p><a href="/a">a</a>', URL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.lines[0].text = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        doc.meta["title"] = "changed"  # type: ignore[index]
    assert isinstance(doc.lines, tuple)
    assert isinstance(doc.anchors, tuple)


def test_live_urls_are_answered_per_mirror() -> None:
    """Addressing.live_url is memoized across instances: each mirror must keep its own answers."""
    live = "https://en.cnis.ac.cn/xwdt/bydt/index.shtml"
    for port in (8001, 8002, 8001):
        addressing = Addressing(f"http://127.0.0.1:{port}")
        assert (
            addressing.live_url(f"http://127.0.0.1:{port}/en.cnis.ac.cn/xwdt/bydt/index.shtml", "x") == live
        )
        other = f"http://127.0.0.1:{8003 - port + 8000}/en.cnis.ac.cn/xwdt/bydt/index.shtml"
        assert addressing.live_url(other, "en.cnis.ac.cn") == other  # another mirror: not this one's


@pytest.mark.parametrize("memoized", [section_of, parse_article_url, canonical_url])
def test_memoized_url_helpers_answer_as_computed(memoized: object) -> None:
    urls = [live_url(page) for page in article_pages()] + [
        "http://www.cnis.ac.cn/bydt/zhxw/",
        "http://WWW.CNIS.AC.CN:80/bydt/index_2.shtml#x",
        "https://example.org/a?b",
    ]
    for url in urls * 2:
        assert memoized(url) == memoized.__wrapped__(url)  # type: ignore[attr-defined]
