"""One row per rung of each field's cascade: which signal wins, and that each record says so."""

from __future__ import annotations

import pytest

from cnis_crawler.extraction import extract_article

EN_URL = "https://en.cnis.ac.cn/xwdt/bydt/202312/t20231218_56506.shtml"
ZH_URL = "https://www.cnis.ac.cn/bydt/zhxw/202510/t20251022_61816.html"
PROSE = "The meeting reviewed the draft international standard and agreed on the next steps."
ZH_PROSE = "会议总结了前三季度的科研工作，部署了下一阶段的重点任务。"

CASES = [
    pytest.param(
        EN_URL,
        f"""<div>Your Location:<a>CNIS Home</a>-&gt;<a>News</a>-&gt;<a>CNIS news</a></div>
        <h3>Forum held in Xi'an</h3><p>Experts from five countries took part</p>
        <div>Date: 2023-06-02&nbsp;&nbsp;&nbsp;&nbsp;Source:NLS, Standards Information Institute&nbsp;</div>
        <div class="x"><p>{PROSE}</p></div>""",
        {
            "title": ("Forum held in Xi'an", "line-above-date"),
            "subtitle": ("Experts from five countries took part", "line-under-title"),
            "date": ("2023-06-02", "date-label"),
            "source": ("NLS, Standards Information Institute", "source-label"),
            "section": ("News > CNIS news", "breadcrumb"),
            "body": (PROSE, "after-date-line"),
        },
        id="english-layout",
    ),
    pytest.param(
        ZH_URL,
        f"""<div>首页＞本院动态＞标院新闻</div>
        <div class="t">我院召开推进会 <span>时间：2025年10月20日</span><span>部门：科技管理部</span></div>
        <div><p>&#12288;&#12288;{ZH_PROSE}</p></div>""",
        {
            "title": ("我院召开推进会", "title-on-date-line"),
            "date": ("2025-10-20", "date-label"),
            "source": ("科技管理部", "source-label"),
            "section": ("本院动态 > 标院新闻", "breadcrumb"),
            "body": (ZH_PROSE, "after-date-line"),
        },
        id="chinese-one-line-title-full-width",
    ),
    pytest.param(
        ZH_URL,
        f"""<h1>标题一</h1><p>发布时间:2025-10-21 来源:新华社 浏览次数:12</p><p>{ZH_PROSE}</p>""",
        {"date": ("2025-10-21", "date-label"), "source": ("新华社", "source-label")},
        id="other-labels-end-the-source",
    ),
    pytest.param(
        EN_URL,
        f"""<html><head><title>Only in the head--CNIS</title>
        <meta name="PubDate" content="2023-06-01 09:30"><meta name="ContentSource" content="CEN"></head>
        <body><div class="TRS_Editor"><style>.TRS_Editor P{{margin:0}}</style><p>{PROSE}</p>
        <script>document.write("share")</script></div></body></html>""",
        {
            "title": ("Only in the head", "html-title"),
            "date": ("2023-06-01", "meta"),
            "source": ("CEN", "meta"),
            "section": ("News > CNIS news", "url-section"),
            "body": (PROSE, "known-container"),
        },
        id="head-only-signals-and-known-container",
    ),
    pytest.param(
        EN_URL,
        f"""<html><head><meta property="og:title" content="From og"></head><body>
        <div><a href="/">Home</a> <a href="/news">News</a></div>
        <section><div><p>{PROSE}</p><p>(Source: ISO)</p></div></section></body></html>""",
        {
            "title": ("From og", "meta"),
            "date": ("2023-12-18", "url"),
            "source": ("ISO", "source-note"),
            "body": (PROSE, "density"),
        },
        id="no-date-line-url-date-and-density",
    ),
]


@pytest.mark.parametrize(("url", "html", "expected"), CASES)
def test_cascade_rung(url: str, html: str, expected: dict[str, tuple[str, str]]) -> None:
    fields = extract_article(html, url)
    for name, (value, rung) in expected.items():
        assert getattr(fields, name) == value, name
        assert fields.extracted_by[name] == rung, name


def test_listing_title_is_the_last_title_rung() -> None:
    fields = extract_article(f"<div><p>{ZH_PROSE}</p></div>", ZH_URL, listing_title="我院召开工作会议")
    assert (fields.title, fields.extracted_by["title"]) == ("我院召开工作会议", "listing-link")
    assert (fields.date, fields.date_source) == ("2025-10-22", "url")


def test_shown_date_wins_over_url_date() -> None:
    fields = extract_article(f"<p>Title</p><p>Date: 2023-06-02</p><p>{PROSE}</p>", EN_URL)
    assert (fields.date, fields.date_source) == ("2023-06-02", "page")


def test_impossible_shown_date_falls_back_to_the_url() -> None:
    fields = extract_article(f"<p>Title</p><p>Date: 2023-02-30</p><p>{PROSE}</p>", EN_URL)
    assert (fields.date, fields.date_source) == ("2023-12-18", "url")


def test_attachments_only_from_the_article_folder() -> None:
    html = f"""<p>T</p><p>时间:2025-10-22</p><p>{ZH_PROSE}</p><p>附件:</p>
    <a href="./P020251022123456789.pdf">附件1：名单.pdf</a>
    <a href="./P020251022123456789.pdf">again</a>
    <a href="../202401/P020240101999999999.doc">old folder</a>"""
    fields = extract_article(html, ZH_URL)
    assert fields.attachments == [
        {"name": "附件1：名单.pdf", "url": "https://www.cnis.ac.cn/bydt/zhxw/202510/P020251022123456789.pdf"}
    ]
    assert fields.body == ZH_PROSE


def test_heading_of_a_link_box_is_not_body() -> None:
    html = f"""<p>Title</p><p>Date: 2023-06-02</p><article><p>{PROSE}</p><p>Photo by CNIS.</p></article>
    <aside><div>Editor's picks</div><ul><li><a href="/a">Forum on smart cities held</a></li>
    <li><a href="/b">Training on food standards</a></li></ul></aside>"""
    assert extract_article(html, EN_URL).body == f"{PROSE}\n\nPhoto by CNIS."
