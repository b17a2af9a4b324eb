"""One row per rung of each field's cascade: which signal wins, and that each record says so."""

from __future__ import annotations

import pytest

from cnis_crawler.extraction import Listed, extract_article

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


def test_the_listings_title_is_the_last_title_rung() -> None:
    listed = Listed(text="我院召开工作…", title="我院召开工作会议")
    fields = extract_article(f"<div><p>{ZH_PROSE}</p></div>", ZH_URL, listed)
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
    <a href="../202401/P020240101999999999.doc">old folder</a>
    <a href="./P020251022555555555.jpg"><img src="./P020251022555555555.jpg"></a>"""
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


CRUMB = "<div>Your Location:CNIS Home-&gt;News-&gt;CNIS news</div>"
NOTICE_URL = "https://www.cnis.ac.cn/tzgg/202503/t20250314_60990.html"
LIVE_SITE_EDGES = [
    pytest.param(
        EN_URL,
        f"<div>日期：2023年12月18日 星期一</div>{CRUMB}"
        f"<h2>Forum held</h2><div>Date: 2023-06-02</div><p>{PROSE}</p>",
        {"title": "Forum held", "date": "2023-06-02", "body": PROSE},
        id="header-date-before-breadcrumb",
    ),
    pytest.param(
        EN_URL,
        f"{CRUMB}<h2>Forum held</h2><div>Source: CNIS&nbsp;&nbsp;Date: 2023-06-02</div><p>{PROSE}</p>",
        {"title": "Forum held", "source": "CNIS", "date": "2023-06-02"},
        id="source-label-before-date",
    ),
    pytest.param(
        ZH_URL,
        "<div>首页>本院动态>标院新闻</div>"
        f"<div>标题 时间:2025-10-22 作者：张三 来源：新华社</div><p>{ZH_PROSE}</p>",
        {"title": "标题", "source": "新华社"},
        id="author-is-not-the-source",
    ),
    pytest.param(
        NOTICE_URL,
        "<div>首页>通知公告</div><div>关于发布报告的通知 时间:2025-03-14</div>"
        "<div><p>本次调查数据来源：国家统计局。</p></div>",
        {"source": None, "body": "本次调查数据来源：国家统计局。"},
        id="label-inside-a-sentence-is-body",
    ),
    pytest.param(
        NOTICE_URL,
        "<div>首页>通知公告</div>"
        "<div>关于举办培训班的通知 时间:2025-03-14部门:科技管理部</div>"
        "<div class='c'><p>一、培训时间：2025年4月10日至11日</p>"
        "<p>地址：北京市海淀区知春路4号 邮编：100191</p>"
        "<p>中国标准化研究院</p></div><div class='f'><p>版权所有:中国标准化研究院</p></div>",
        {
            "source": "科技管理部",
            "body": "一、培训时间：2025年4月10日至11日\n\n"
            "地址：北京市海淀区知春路4号 邮编：100191\n\n中国标准化研究院",
        },
        id="notice-lines-stay-in-body-footer-does-not",
    ),
    pytest.param(
        "https://www.cnis.ac.cn/bydt/zhxw/201103/t20110315_18972.html",
        "<title>培训通知</title><p>各有关单位：我院定于近期举办培训班。</p>"
        "<p>培训时间：2011年3月20日至22日</p>",
        {"title": "培训通知", "date": "2011-03-15", "date_source": "url"},
        id="body-only-page-with-a-dated-line",
    ),
    pytest.param(
        NOTICE_URL,
        "<div>首页>通知公告</div><h1>关于举办培训班的通知</h1><table><tr><td>发布时间：</td><td>2025-03-14</td>"
        "<td>来源：</td><td>科技管理部</td></tr></table><div><p>各有关单位：现将有关事项通知如下。</p></div>",
        {"title": "关于举办培训班的通知", "date": "2025-03-14", "source": "科技管理部"},
        id="labels-and-values-in-separate-cells",
    ),
    pytest.param(
        NOTICE_URL,
        "<div>首页>通知公告</div><h1>关于举办培训班的通知</h1>"
        "<div>时间：2025-03-14<span>来源：科技管理部</span><span>浏览次数：88</span>"
        "<span>字号：大 中 小</span></div>"
        "<div><p>各有关单位：现将有关事项通知如下。</p></div>",
        {"source": "科技管理部", "body": "各有关单位：现将有关事项通知如下。"},
        id="cjk-value-runs-into-next-label",
    ),
    pytest.param(
        EN_URL,
        f"{CRUMB}<h2>Forum held</h2><dl><dt>Date:</dt><dd>2023-06-02</dd><dt>Source:</dt><dd>CNIS</dd></dl>"
        f"<div><p>{PROSE}</p></div>",
        {"title": "Forum held", "date": "2023-06-02", "source": "CNIS", "body": PROSE},
        id="definition-list-metadata",
    ),
    pytest.param(
        EN_URL,
        f"{CRUMB}<table><tr><td><h2>Forum held</h2><div>Date: 2023-06-02</div><p>{PROSE}</p></td>"
        "<td><div>Contact</div><div>Tel: 86-10-58811536</div></td></tr></table><div>About CNIS</div>",
        {"body": PROSE},
        id="text-sidebar-after-body",
    ),
    pytest.param(
        EN_URL,
        f"{CRUMB}<h2>T</h2><div>Date: 2023-06-02</div><div><p>{PROSE}</p>"
        "<div style='display: none'>hidden text</div><p>Share of exports rose.</p></div>",
        {"body": f"{PROSE}\n\nShare of exports rose."},
        id="hidden-text-and-share-of-sentence",
    ),
]


@pytest.mark.parametrize(("url", "html", "expected"), LIVE_SITE_EDGES)
def test_live_site_edge_case(url: str, html: str, expected: dict[str, str | None]) -> None:
    fields = extract_article(html, url)
    assert {name: getattr(fields, name) for name in expected} == expected


def test_deeply_nested_markup_does_not_overflow() -> None:
    html = f"<h2>T</h2><p>Date: 2023-06-02</p>{'<div>' * 5000}<p>{PROSE}</p>{'</div>' * 5000}"
    assert extract_article(html, EN_URL).title == "T"


# A redesign changes the date line's label, drops it, or splits it over elements, and puts
# controls between the date line and the body: each field still stands on another signal.
TOOLBAR = "<div>Your Location:<a>CNIS Home</a>-&gt;<a>News</a>-&gt;<a>CNIS news</a></div>"
ZH_CRUMB = "<div>首页>本院动态>标院新闻</div>"
FOOTER = "<div>©China National Institute of Standardization | Privacy Policy</div>"
EN_BODY = f"<div class='c'><p>{PROSE}</p><p>Delegates from twelve countries attended.</p></div>"
EN_BODY_TEXT = f"{PROSE}\n\nDelegates from twelve countries attended."
ZH_BODY = f"<div class='c'><p>{ZH_PROSE}</p><p>与会人员进行了深入交流。</p></div>"
ZH_BODY_TEXT = f"{ZH_PROSE}\n\n与会人员进行了深入交流。"
REDESIGNS = [
    pytest.param(
        EN_URL,
        f"<title>China National Institute of Standardization</title>{TOOLBAR}<h2>Forum held</h2>"
        f"<div>Release time: 2023-06-02 09:30 &nbsp; Source: CNIS &nbsp; Views: 1024</div>{EN_BODY}{FOOTER}",
        None,
        {
            "title": ("Forum held", "line-above-date"),
            "date": ("2023-06-02", "date-any-label"),
            "source": ("CNIS", "source-label"),
            "body": (EN_BODY_TEXT, "after-date-line"),
        },
        id="unknown-date-label-and-generic-title",
    ),
    pytest.param(
        EN_URL,
        f"<title>CNIS news - CNIS</title>{TOOLBAR}<h2>Forum held</h2><div>2023-06-02 | CNIS</div>{EN_BODY}",
        None,
        {
            "title": ("Forum held", "line-above-date"),
            "date": ("2023-06-02", "date-unlabelled"),
            "source": ("CNIS", "after-date"),
        },
        id="unlabelled-date-after-the-headline-with-a-bare-source",
    ),
    pytest.param(
        EN_URL,
        f"<title>CNIS</title>{TOOLBAR}<div>June 2, 2023</div><h3>Forum held in Xi'an</h3>{EN_BODY}{FOOTER}",
        Listed(text="Forum held in...", title="", date="2023-06-02"),
        {
            "title": ("Forum held in Xi'an", "line-below-date"),
            "date": ("2023-06-02", "date-unlabelled"),
            "source": (None, None),
            "body": (EN_BODY_TEXT, "after-date-line"),
        },
        id="unlabelled-date-before-the-headline",
    ),
    pytest.param(
        ZH_URL,
        f"<title>中国标准化研究院</title>{ZH_CRUMB}<h1>我院召开推进会</h1>"
        "<dl><dt>发稿时间</dt><dd>2025年10月20日</dd><dt>信息来源</dt><dd>科技管理部</dd></dl>"
        '<div>【字体：<a href="javascript:z(16)">大</a> <a href="javascript:z(14)">中</a> '
        '<a href="javascript:z(12)">小</a>】</div><div>扫一扫在手机打开当前页</div>'
        f"{ZH_BODY}<div>责任编辑：王强</div>"
        '<div>上一篇：<a href="./t1.html">我院举办标准化大讲堂</a></div><div>下一篇：没有了</div>'
        '<ul><li><a href="./t2.html">相关新闻一</a> [10-01]</li>'
        '<li><a href="./t3.html">相关新闻</a> 2025-09-01</li></ul>',
        None,
        {
            "title": ("我院召开推进会", "line-above-date"),
            "date": ("2025-10-20", "date-any-label"),
            "source": ("科技管理部", "source-label"),
            "body": (ZH_BODY_TEXT, "after-date-line"),
        },
        id="definition-list-widgets-credits-prev-next-dated-links",
    ),
    pytest.param(
        ZH_URL,
        f"<title>标院新闻_中国标准化研究院</title>{ZH_CRUMB}<h1>我院召开推进会</h1>"
        "<div><span>更新时间：</span><span>2025-10-20</span><span>发布部门：</span><span>科技管理部</span>"
        f"<span>点击数：356</span></div>{ZH_BODY}",
        None,
        {
            "title": ("我院召开推进会", "line-above-date"),
            "date": ("2025-10-20", "date-any-label"),
            "source": ("科技管理部", "source-label"),
            "body": (ZH_BODY_TEXT, "after-date-line"),
        },
        id="labels-and-values-in-separate-spans",
    ),
    pytest.param(
        EN_URL,
        f"{TOOLBAR}<h2>Forum held</h2><div>Online since: Jun. 2, 2023</div>"
        "<div>[Font size: A+ A A-] Print | Close</div>"
        f"<div>Scan the QR code to read on your phone</div>{EN_BODY}<div>Editor: Li Wei</div>"
        '<div>Previous: <a href="./a.shtml">Another article</a></div><div>Next: none</div>',
        None,
        {
            "date": ("2023-06-02", "date-any-label"),
            "source": (None, None),
            "body": (EN_BODY_TEXT, "after-date-line"),
        },
        id="english-month-controls-credit-previous-next",
    ),
    pytest.param(
        ZH_URL,
        f"{ZH_CRUMB}<div>我院召开推进会 <span>发稿时间：2025-10-20</span>"
        f"<span>作者：李明</span></div>{ZH_BODY}",
        Listed(title="我院召开推进会", date="2025-10-20"),
        {
            "title": ("我院召开推进会", "title-on-date-line"),
            "date": ("2025-10-20", "date-any-label"),
            "source": (None, None),
        },
        id="title-on-a-date-line-with-an-unknown-label",
    ),
    pytest.param(
        EN_URL,
        f"{TOOLBAR}<div>Photo: training course opens in Hangzhou</div><div>Date: 2023-06-02 Source:CNIS</div>"
        f"{EN_BODY}",
        None,
        {
            "title": ("Photo: training course opens in Hangzhou", "line-above-date"),
            "source": ("CNIS", "source-label"),
        },
        id="a-headline-with-a-colon-is-no-label",
    ),
    pytest.param(
        EN_URL,
        f"{TOOLBAR}<table><tr><td>Forum held</td></tr><tr><td>Experts from five countries took part</td></tr>"
        "<tr><td><dl><dt>Release Date：June 2, 2023</dt><dt>Source：CNIS</dt></dl></td></tr></table>"
        f"{EN_BODY}",
        None,
        {
            "title": ("Forum held", "line-above-date"),
            "subtitle": ("Experts from five countries took part", "line-under-title"),
            "date": ("2023-06-02", "date-any-label"),
            "source": ("CNIS", "source-label"),
        },
        id="a-word-before-date-makes-another-label",
    ),
    pytest.param(
        EN_URL,
        f"{TOOLBAR}<header><div>2 June 2023 | CNIS Editor: Zhang Min</div><h1>Forum held</h1>"
        "<h2>Experts from five countries took part</h2></header><div>Print | Close</div>"
        f"<section>{EN_BODY}</section>",
        Listed(text="Forum held", date="2023-06-02"),
        {
            "title": ("Forum held", "line-below-date"),
            "subtitle": ("Experts from five countries took part", "line-under-title"),
            "source": ("CNIS", "after-date"),
            "body": (EN_BODY_TEXT, "after-date-line"),
        },
        id="subtitle-under-a-headline-under-the-date",
    ),
]


@pytest.mark.parametrize(("url", "html", "listed", "expected"), REDESIGNS)
def test_redesigned_date_line(
    url: str, html: str, listed: Listed | None, expected: dict[str, tuple[str | None, str | None]]
) -> None:
    fields = extract_article(html, url, listed)
    for name, (value, rung) in expected.items():
        assert (getattr(fields, name), fields.extracted_by[name]) == (value, rung), name
    assert fields.disagreements == ()


def test_a_notices_closing_date_is_no_date_line() -> None:
    """A notice signs off with its issuer and a date; the page's own date line has gone."""
    html = (
        f"<title>关于举办培训班的通知</title>{ZH_CRUMB}<h1>关于举办培训班的通知</h1>"
        f"<div class='c'><p>{ZH_PROSE}</p><p>中国标准化研究院</p><p>2025年10月8日</p></div>{FOOTER}"
    )
    fields = extract_article(html, ZH_URL)
    assert (fields.date, fields.date_source) == ("2025-10-22", "url")
    assert fields.title == "关于举办培训班的通知"
    assert fields.body.endswith("2025年10月8日")


def test_a_dated_sidebar_is_no_date_line() -> None:
    html = (
        f"{ZH_CRUMB}<ul><li><a href='./t1.html'>我院举办标准化大讲堂</a><div>2025-09-01</div></li>"
        f"<li><a href='./t2.html'>我院召开工作会</a><div>2025-08-01</div></li></ul>"
        f"<h1>我院召开推进会</h1><div>2025-10-20</div>{ZH_BODY}"
    )
    fields = extract_article(html, ZH_URL)
    assert (fields.title, fields.date) == ("我院召开推进会", "2025-10-20")


def test_the_listing_date_picks_between_dates_found_by_shape() -> None:
    html = f"{ZH_CRUMB}<div>2025-10-21</div><h1>我院召开推进会</h1><div>2025-10-20</div>{ZH_BODY}"
    assert extract_article(html, ZH_URL).date == "2025-10-21"
    assert extract_article(html, ZH_URL, Listed(date="2025-10-20")).date == "2025-10-20"


def test_page_and_listing_disagreeing_keeps_the_pages_values() -> None:
    html = f"{TOOLBAR}<h2>Forum held</h2><div>Date: 2023-06-02</div>{EN_BODY}"
    fields = extract_article(
        html, EN_URL, Listed(text="Workshop on...", title="Workshop on", date="2023-06-01")
    )
    assert (fields.title, fields.date) == ("Forum held", "2023-06-02")
    assert fields.disagreements == ("title", "date")
    agreeing = extract_article(html, EN_URL, Listed(text="Forum...", date="2023-06-02"))
    assert agreeing.disagreements == ()
    # A link in another article's prose ("see the workshop report") is no listing.
    prose_link = extract_article(html, EN_URL, Listed(text="see the workshop report", on_listing=False))
    assert (prose_link.title, prose_link.disagreements) == ("Forum held", ())


# Found by an independent review on templates of its own (each failed before its fix).
NOTICE = "https://www.cnis.ac.cn/bydt/zhxw/202510/t20251022_70003.html"
B1, B2 = (
    "10月21日下午，我院举办第八十一期标准化大讲堂，全院职工参加学习。",
    "讲座系统解读了国家标准化发展纲要。",
)
REVIEW_BODY = f"<p>{B1}</p><p>{B2}</p>"
REVIEW_BODY_TEXT = f"{B1}\n\n{B2}"
REVIEWED = [
    pytest.param(
        f"<h1>标准化大讲堂（2025年10月21日）</h1><p>发布时间：2025-10-22</p>{REVIEW_BODY}",
        {"title": "标准化大讲堂（2025年10月21日）", "date": "2025-10-22"},
        id="a-date-in-the-headline-is-no-date-line",
    ),
    pytest.param(
        "<ul><li>2025-01-01 甲新闻</li><li>2025-02-01 乙新闻</li></ul>"
        f"<h2>大讲堂举办</h2><p>2025-10-22</p>{REVIEW_BODY}",
        {
            "title": "大讲堂举办",
            "subtitle": None,
            "date": "2025-10-22",
            "source": None,
            "body": REVIEW_BODY_TEXT,
        },
        id="an-unlinked-dated-sidebar",
    ),
    pytest.param(
        f"<title>新闻详情</title><h1>新闻详情</h1><div>大讲堂举办</div><p>2025-10-22</p>{REVIEW_BODY}",
        {"title": "大讲堂举办", "subtitle": None},
        id="a-generic-page-heading-is-no-title",
    ),
    pytest.param(
        "<table><tr><td>成文日期：</td><td>2025年10月20日</td></tr>"
        "<tr><td>发布日期：</td><td>2025年10月22日</td></tr>"
        f"<tr><td>发文机关：</td><td>人力资源部</td></tr></table><h1>大讲堂举办</h1><div>{REVIEW_BODY}</div>",
        {"title": "大讲堂举办", "date": "2025-10-22", "source": "人力资源部", "body": REVIEW_BODY_TEXT},
        id="an-information-table-with-two-dates",
    ),
    pytest.param(
        f"<p>2025-10-22</p><h1>大讲堂举办</h1><p>来源：人力资源部</p>{REVIEW_BODY}",
        {"title": "大讲堂举办", "source": "人力资源部", "body": REVIEW_BODY_TEXT},
        id="the-source-under-a-headline-under-the-date",
    ),
    pytest.param(
        f"<h1>T</h1><p>时间：2025-10-22</p>{REVIEW_BODY}"
        "<table><tr><td>2016-07-01</td><td>中</td><td>Large</td><td>10-20</td></tr></table>",
        {"body": f"{REVIEW_BODY_TEXT}\n\n2016-07-01\n\n中\n\nLarge\n\n10-20"},
        id="table-cells-are-no-controls",
    ),
    pytest.param(
        f"<h1>T</h1><p>时间：2025-10-22</p>{REVIEW_BODY}<p>供稿：人力资源部</p><p>文/李明 图/王芳</p>"
        "<p>Reporter: Zhang Wei</p><p>Edited by Li Na</p><p>阅读量：1234</p><p>【我要打印】【关闭】</p>"
        "<p>视力保护色：</p>",
        {"body": REVIEW_BODY_TEXT},
        id="credits-counts-and-widgets",
    ),
    pytest.param(
        "<h1>T</h1><p><span>发布日期</span><span>2025-10-22</span> "
        f"<span>来源</span><span>人力资源部</span></p>{REVIEW_BODY}",
        {"date": "2025-10-22", "source": "人力资源部", "body": REVIEW_BODY_TEXT},
        id="known-labels-without-a-colon",
    ),
    pytest.param(
        f"<h1>T</h1><p>[发布时间] 2025/10/22 [文章来源] 人力资源部</p>{REVIEW_BODY}",
        {"date": "2025-10-22", "source": "人力资源部"},
        id="labels-in-brackets",
    ),
    pytest.param(
        f"<h1>T</h1><p>发布时间：2025-10-22</p><p>各有关单位：</p><p>摘要：报告梳理了发展现状。</p>{REVIEW_BODY}",
        {"body": f"各有关单位：\n\n摘要：报告梳理了发展现状。\n\n{REVIEW_BODY_TEXT}"},
        id="a-salutation-and-an-abstract-open-the-body",
    ),
    pytest.param(
        f"<html><head><title>大讲堂举办--中国标准化研究院门户网站</title></head><body>{REVIEW_BODY}</body></html>",
        {"title": "大讲堂举办"},
        id="a-title-segment-holding-the-sites-name",
    ),
    pytest.param(
        f"<h1>T</h1><p>来源：人力资源部　发表时间：2025-10-22</p>{REVIEW_BODY}",
        {"date": "2025-10-22", "source": "人力资源部"},
        id="a-value-ends-where-a-longer-label-starts",
    ),
    pytest.param(
        f"<h1>T</h1><p>Release date: 21-Oct-2025 Source: CNIS</p>{REVIEW_BODY}",
        {"date": "2025-10-21", "source": "CNIS", "body": REVIEW_BODY_TEXT},
        id="day-month-year-with-dashes",
    ),
]


@pytest.mark.parametrize(("html", "expected"), REVIEWED)
def test_reviewed_template(html: str, expected: dict[str, str | None]) -> None:
    fields = extract_article(html, NOTICE)
    assert {name: getattr(fields, name) for name in expected} == expected


def test_a_listing_that_quotes_or_cuts_otherwise_agrees() -> None:
    html = f"<h1>“标准化大讲堂”举办</h1><p>时间：2025-10-22</p>{REVIEW_BODY}"
    for listed in (Listed('"标准化大讲堂"举办', "", "2025-10-22"), Listed("“标准化大讲堂”举办。")):
        assert extract_article(html, NOTICE, listed).disagreements == (), listed
    long_title = "中国标准化研究院举办第八十一期标准化大讲堂专题辅导报告会"
    page = f"<h1>{long_title}</h1><p>时间：2025-10-22</p>{REVIEW_BODY}"
    assert extract_article(page, NOTICE, Listed(long_title[:14])).disagreements == ()
    # Cut with no mark and too short to tell from another title.
    assert extract_article(page, NOTICE, Listed(long_title[:6])).disagreements == ("title",)


# Found by a blind test on three template families of its own (portals, provincial CMSs, off-the-
# shelf CMSs); each failed before its fix.
EN_PARA = "<p>CNIS held its 2024 work conference in Beijing on March 27, with all departments present.</p>"
EN_PARA_TEXT = "CNIS held its 2024 work conference in Beijing on March 27, with all departments present."
BLIND = [
    pytest.param(
        EN_URL,
        "<h1>Forum held</h1>"
        '<div>Posted on <a href="/p/1"><time>June 2, 2023</time><time>June 5, 2023</time></a> by '
        f'<a href="/author/x">cnis-editor</a> · Source: CNIS</div>{EN_PARA}'
        "<h3>Share this:</h3><ul><li><a href='#'>Twitter</a></li></ul>"
        "<h3>Like this:</h3><div>Like Loading...</div>",
        {"date": "2023-06-02", "source": "CNIS", "body": EN_PARA_TEXT},
        id="wordpress-linked-dates-and-share-block",
    ),
    pytest.param(
        EN_URL,
        "<h1>Forum held</h1><div>Submitted by <a>webmaster</a> on Fri, 06/02/2023 - 08:10</div>"
        "<div>Experts from five countries took part</div><div>Source</div><div>CHIS</div>"
        f"{EN_PARA}<div>Tags</div><div>standardization</div>"
        "<ul><li><a href='/user/login'>Log in</a> to post comments</li></ul>",
        {
            "date": "2023-06-02",
            "subtitle": "Experts from five countries took part",
            "source": "CHIS",
            "body": EN_PARA_TEXT,
        },
        id="drupal-fields",
    ),
    pytest.param(
        ZH_URL,
        "<h1>我院召开推进会</h1><p>发布者：王强发布时间：2025-10-20浏览次数：2980</p>"
        f"<p>{ZH_PROSE}</p><p>（供稿单位：科技管理部　撰稿：刘洋　审核：王强）</p>",
        {"source": "科技管理部", "body": ZH_PROSE},
        id="a-closing-attribution-in-brackets",
    ),
    pytest.param(
        ZH_URL,
        '<div class="time"><span class="year"><em>2025</em></span><span class="day"><em>10</em>/<em>20</em>'
        f"</span></div><h1>我院召开推进会</h1><p>{ZH_PROSE}</p>",
        {"date": "2025-10-20", "title": "我院召开推进会", "body": ZH_PROSE},
        id="year-and-day-in-elements-of-their-own",
    ),
    pytest.param(
        ZH_URL,
        "<table><tr><td>索 引 号：</td><td>12100000400011364N/2025-00540</td></tr>"
        "<tr><td>发布机构：</td><td>科技管理部</td><td>发文日期：</td><td>2025-10-20</td></tr>"
        "<tr><td>名　　称：</td><td>我院召开推进会</td></tr><tr><td>文　　号：</td><td></td></tr></table>"
        f"<h1>我院召开推进会</h1><div><p>{ZH_PROSE}</p></div>",
        {"date": "2025-10-20", "title": "我院召开推进会", "source": "科技管理部", "body": ZH_PROSE},
        id="an-information-table-with-spaced-labels",
    ),
    pytest.param(
        EN_URL,
        "<table><tr><td>Issued by：NLS</td></tr><tr><td>Date of issue：2023-06-02</td></tr>"
        "<tr><td>Category：CNIS news</td></tr></table>"
        "<h2>Forum held</h2><h4>Experts from five countries took part</h4>"
        "<p>Time: 2023-06-02 09:47:53 From: NLS, Standards Information Institute Font size: L M S Print</p>"
        f"{EN_PARA}",
        {
            "title": "Forum held",
            "subtitle": "Experts from five countries took part",
            "source": "NLS, Standards Information Institute",
            "body": EN_PARA_TEXT,
        },
        id="a-second-date-line-under-the-headline",
    ),
    pytest.param(
        EN_URL,
        f"<h1>Forum held</h1><div>By LIU YANG | Updated: 2023-06-02 13:35Share - WeChat</div>{EN_PARA}",
        {"date": "2023-06-02", "source": None, "body": EN_PARA_TEXT},
        id="a-byline-before-the-label-and-controls-after-the-time",
    ),
    pytest.param(
        ZH_URL,
        "<h1>我院召开推进会</h1><div>发布时间：2025年10月20日 10时21分 稿源：科技管理部</div>"
        f"<p>{ZH_PROSE}</p>",
        {"date": "2025-10-20", "source": "科技管理部"},
        id="a-chinese-time-and-another-source-word",
    ),
]


@pytest.mark.parametrize(("url", "html", "expected"), BLIND)
def test_blind_template(url: str, html: str, expected: dict[str, str | None]) -> None:
    fields = extract_article(html, url)
    assert {name: getattr(fields, name) for name in expected} == expected


def test_a_date_either_way_round_is_read_as_the_url_or_the_listing_allows() -> None:
    """05/10/2023 is the 10th of May or the 5th of October: month first, unless that is later
    than the URL's date (never so on these sites) or the listing prints the other."""
    url = "https://en.cnis.ac.cn/xwdt/bydt/202306/t20230620_55560.shtml"
    html = f"<h1>Forum held</h1><div>Published: 05/10/2023</div>{EN_PARA}"
    assert extract_article(html, url).date == "2023-05-10"
    assert extract_article(html, url, Listed("Forum held", "", "2023-10-05")).date == "2023-10-05"
    later = html.replace("05/10/2023", "12/03/2023")  # December 3rd would be after the URL's date
    assert extract_article(later, url).date == "2023-03-12"


# A second blind test, on three other families (a ministry portal, standards-body and institute
# sites, a TRS provincial portal); each failed before its fix.
T2, ET2, DECK = (
    "标院举办第八十一期标准化大讲堂",
    "CNIS holds 2024 work conference",
    "Institute to focus on new standards",
)
LONG_TITLE = "关于公开征求《产品碳足迹 量化要求和指南》等3项国家标准（征求意见稿）意见的通知"
ZH_PARAS = (
    "10月21日下午，我院举办第八十一期标准化大讲堂，邀请专家作专题讲座。",
    "讲座解读了国家标准化发展纲要实施以来的进展。",
)
EN_PARAS = (
    "CNIS held its 2024 work conference in Beijing on March 27.",
    "In 2023, CNIS undertook 486 research projects.",
)
PZ2, PE2 = ("".join(f"<p>{text}</p>" for text in paras) for paras in (ZH_PARAS, EN_PARAS))
PZ2_TEXT, PE2_TEXT = ("\n\n".join(paras) for paras in (ZH_PARAS, EN_PARAS))
ZH_2 = "https://www.cnis.ac.cn/bydt/zhxw/202510/t20251022_61816.html"
EN_2 = "https://en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml"
BLIND_2 = [
    pytest.param(
        ZH_2,
        f"<div>您所在的位置：<a>首页</a> &gt; <a>本院动态</a></div><div>{T2}</div>"
        f"<div>发布日期：2025-10-21</div><div>{PZ2}</div>",
        None,
        {"title": T2, "subtitle": None},
        id="another-breadcrumb-label",
    ),
    pytest.param(
        ZH_2,
        f"<div><a>首页</a> / <a>本院动态</a></div><div>{T2}</div>"
        f"<div>发布日期：2025-10-21</div><div>{PZ2}</div>",
        None,
        {"title": T2, "subtitle": None},
        id="a-bare-breadcrumb-with-slashes",
    ),
    pytest.param(
        ZH_2,
        f"<div>邮箱：yuanban@cnis.ac.cn</div><h3>{T2}</h3><div>发布日期：2025-10-21</div><div>{PZ2}</div>",
        Listed(T2, T2, "2025-10-21"),
        {"title": T2, "subtitle": None},
        id="a-label-line-above-the-title",
    ),
    pytest.param(
        ZH_2,
        f"<h2>{T2}</h2>{PZ2}<p>参加学习的人员表示将把讲座精神与本职工作紧密结合。</p><div>发布日期：2025-10-21</div>",
        Listed(T2, T2),
        {"title": T2, "date": "2025-10-21"},
        id="a-date-line-closing-the-article",
    ),
    pytest.param(
        EN_2,
        f"<h1>{ET2}</h1><div>{PE2}</div><aside><dl><dt>Published</dt><dd>2024-03-27</dd></dl></aside>",
        None,
        {"title": ET2, "date": "2024-03-27", "body": PE2_TEXT},
        id="a-date-in-a-box-after-the-article",
    ),
    pytest.param(
        EN_2,
        f'<h1>{ET2}</h1><p class="lead">{DECK}</p><div>{PE2}</div>',
        None,
        {"title": ET2, "subtitle": DECK, "body": PE2_TEXT},
        id="a-standfirst-and-no-date-line",
    ),
    pytest.param(
        EN_2,
        f'<div>March 27, 2024</div><h1>{ET2}</h1><p class="lead">{DECK}</p><p>3 min read</p><div>{PE2}</div>',
        None,
        {"title": ET2, "subtitle": DECK, "body": PE2_TEXT},
        id="a-standfirst-and-a-reading-time",
    ),
    pytest.param(
        ZH_2,
        f"<h1>{T2}</h1><div>【发布时间：2025.10.21】【来源：人力资源部】</div><div>{PZ2}</div>",
        None,
        {"date": "2025-10-21", "source": "人力资源部"},
        id="labels-in-brackets-with-their-values",
    ),
    pytest.param(
        ZH_2,
        f"<h1>{T2}</h1><div>[2025-10-21]&nbsp;&nbsp;来源：人力资源部&nbsp;&nbsp;"
        f"【<a>大</a> <a>中</a> <a>小</a>】</div><div>{PZ2}</div>",
        None,
        {"source": "人力资源部", "body": PZ2_TEXT},
        id="a-font-size-widget-after-the-source",
    ),
    pytest.param(
        EN_2,
        f"<h1>{ET2}</h1><p>Published 27 March 2024 · Last updated 2 April 2024</p><div>{PE2}</div>",
        None,
        {"date": "2024-03-27", "source": None},
        id="an-update-date-is-no-source",
    ),
    pytest.param(
        ZH_2,
        f"<h1>{T2}</h1><div>发布日期：2025-10-21 来源单位：人力资源部</div><div>{PZ2}</div>",
        None,
        {"source": "人力资源部"},
        id="a-longer-source-label",
    ),
    pytest.param(
        EN_2,
        f"<h1>{ET2}</h1><div><span>Published</span><span>2024-03-27</span><span>Source</span><span>CNIS</span></div>"
        f"<div>{PE2}</div>",
        None,
        {"date": "2024-03-27", "source": "CNIS"},
        id="labels-and-values-run-together",
    ),
    pytest.param(
        ZH_2,
        f"<h1>{T2}</h1><p>发布者：管理员&emsp;发布时间：2025-10-21&emsp;点击：889</p><div>{PZ2}</div>",
        None,
        {"title": T2, "date": "2025-10-21"},
        id="a-label-before-the-date-label-is-no-title",
    ),
    pytest.param(
        ZH_2,
        "<table><tr><td>发布机构：</td><td>人力资源部</td><td>生成日期：</td><td>2025-10-21</td></tr>"
        f"<tr><td>名称：</td><td>{LONG_TITLE}</td></tr></table><div>{LONG_TITLE}</div><div>{PZ2}</div>",
        None,
        {"title": LONG_TITLE, "body": PZ2_TEXT},
        id="an-information-table-naming-a-long-title",
    ),
]


@pytest.mark.parametrize(("url", "html", "listed", "expected"), BLIND_2)
def test_second_blind_template(
    url: str, html: str, listed: Listed | None, expected: dict[str, str | None]
) -> None:
    fields = extract_article(f"<html><body>{html}</body></html>", url, listed)
    assert {name: getattr(fields, name) for name in expected} == expected


# A third blind test (a gov.cn platform, an international standards body, an old ASP site).
BLIND_3 = [
    pytest.param(
        EN_2,
        f"<h1>{ET2}</h1><div><time>27 March 2024</time> <span>Source: CNIS</span> "
        f"<span>3 min read</span></div><div>{PE2}</div>",
        {"date": "2024-03-27", "source": "CNIS", "body": PE2_TEXT},
        id="a-reading-time-after-the-source",
    ),
    pytest.param(
        ZH_2,
        f"<table><tr><td>{T2}</td></tr><tr><td>[2025-10-21]&nbsp;&nbsp;[党委办公室]</td></tr></table>"
        f"<div>{PZ2}</div>",
        {"date": "2025-10-21", "source": "党委办公室"},
        id="a-source-in-brackets-after-the-date",
    ),
    pytest.param(
        EN_2,
        "<div><span>27.03.2024</span></div><div><div>Origin</div><div>CNIS</div></div>"
        f"<h1>{ET2}</h1><p>By Wang Li</p><div>{PE2}</div><h3>Media contact</h3><p>press@cnis.ac.cn</p>",
        {"title": ET2, "subtitle": None, "date": "2024-03-27", "source": "CNIS", "body": PE2_TEXT},
        id="a-label-word-alone-and-a-byline",
    ),
    pytest.param(
        ZH_2,
        f"<h1>{T2}</h1><div><span>2025年10月21日 10:12</span><span>人力资源部</span></div><div>{PZ2}</div>",
        {"date": "2025-10-21", "source": "人力资源部", "subtitle": None},
        id="a-source-right-after-the-time",
    ),
    pytest.param(
        ZH_2,
        f"<html><head><title>:::中国标准化研究院:::</title></head><body><div>{PZ2}</div></body></html>",
        {"title": None},
        id="a-decorated-site-name-is-no-title",
    ),
    pytest.param(
        EN_2,
        f"<h1>{ET2}</h1><p>Date: 2024-03-27</p>"
        f"<div>{PE2}<figure><figcaption>Photo: CNIS</figcaption></figure></div>",
        {"body": PE2_TEXT},
        id="a-photo-credit",
    ),
    pytest.param(
        EN_2,
        "<table><tr><td><b>Member Login</b><form>User: <input> Password: <input></form></td><td><table>"
        "<tr><td>Current location: Home &gt;&gt; News</td></tr>"
        f"<tr><td>{ET2}</td></tr><tr><td>[27-Mar-2024]&nbsp;&nbsp;[CNIS]</td></tr></table></td></tr></table>"
        f"<div>{PE2}</div>",
        {"title": ET2, "subtitle": None, "date": "2024-03-27", "source": "CNIS"},
        id="a-login-box-beside-and-a-bracketed-source",
    ),
]


@pytest.mark.parametrize(("url", "html", "expected"), BLIND_3)
def test_third_blind_template(url: str, html: str, expected: dict[str, str | None]) -> None:
    fields = extract_article(html, url)
    assert {name: getattr(fields, name) for name in expected} == expected
