"""What is known of the CNIS sites, as data: hosts, sections, labels, URL shapes, boilerplate.

Nothing here runs; extraction, URL routing and the spider read these tables. Patterns are
ordered from specific to generic and compiled once. Every label accepts the half-width and the
full-width colon, because the TRS editor writes either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Host:
    name: str
    scheme: str
    extension: str
    lang: str
    archive: bool = False
    """An old site whose articles were migrated to a current host under new ids (facts, section
    1). Crawled after the current hosts, so that a migrated copy is the alias, not the record."""


@dataclass(frozen=True)
class Section:
    host: str
    path: str
    trail: str
    """The breadcrumb as the site shows it, minus the home crumb; used when a page has none."""

    @property
    def key(self) -> str:
        return f"{self.host}/{self.path}"


HOSTS: dict[str, Host] = {
    host.name: host
    for host in (
        Host("en.cnis.ac.cn", "https", "shtml", "en"),
        Host("www.cnis.ac.cn", "https", "html", "zh"),
        Host("en.cnis.gov.cn", "http", "shtml", "en", archive=True),
    )
}

SECTIONS: tuple[Section, ...] = (
    Section("en.cnis.ac.cn", "xwdt/bydt", "News > CNIS news"),
    Section("en.cnis.ac.cn", "xwdt/bzhdt", "News > Global vision"),
    Section("en.cnis.ac.cn", "kycg", "Research"),
    Section("en.cnis.ac.cn", "zdxw", "Photo News"),
    Section("www.cnis.ac.cn", "bydt/zhxw", "本院动态 > 标院新闻"),
    # Breadcrumbs of these two were not seen (facts, section 2): the trails are the menu's names.
    Section("www.cnis.ac.cn", "bydt/kydt", "本院动态 > 科研动态"),
    Section("www.cnis.ac.cn", "tzgg", "通知公告"),
    Section("en.cnis.gov.cn", "xwdt/bydt", "News > CNIS news"),
)


@dataclass(frozen=True)
class SectionRule:
    """What a listing folder found on a site holds, by its path (no slash at either end)."""

    path: re.Pattern[str]
    news: bool
    why: str


# Sections found on the sites (menus, breadcrumbs, "more" links) beyond SECTIONS: the first rule
# whose pattern matches the whole folder path says whether it is news; no rule: not crawled.
# By folder names (the TRS sites name columns in pinyin initials), never by a menu's words.
SECTION_RULES: tuple[SectionRule, ...] = (
    SectionRule(re.compile(r"bzygk(?:_\d+)?(?:/[\w-]+)*"), news=False, why="About CNIS: profiles"),
    SectionRule(re.compile(r"(?:xwdt|bydt)(?:/[\w-]+)*"), news=True, why="under a news root"),
    SectionRule(re.compile(r"tzgg(?:/[\w-]+)*"), news=True, why="notices"),
    SectionRule(
        re.compile(r"ynbm/[\w-]+/(?:kydt|tzgg|xwdt|bydt)"), news=True, why="a department's news or notices"
    ),
)

# --- URL shapes (paths on any host; the TRS WCM scheme) -------------------------------------
# /<section>/<YYYYMM>/t<YYYYMMDD>_<id>[_<part>].<ext>; parts are pages 2.. of a long article.
ARTICLE_PATH_RE = re.compile(
    r"^/(?P<section>[\w/-]+?)/(?P<month>\d{6})/t(?P<date>\d{8})_(?P<doc_id>\d+)"
    r"(?:_(?P<part>\d+))?\.(?P<ext>s?html?)$"
)
# /<section>/, /<section>/index.<ext>, /<section>/index_<k>.<ext> (page k+1).
LISTING_PATH_RE = re.compile(r"^/(?P<section>[\w/-]+?)/(?:index(?:_(?P<page>\d+))?\.s?html?)?$")
LISTING_FILE_STEM = "index"
# Folders deeper than this are never sections (the deepest seen: ynbm/<dept>/kydt): a site that
# answers any path with a page linking relative folders would otherwise lead discovery on forever.
MAX_FOLDER_DEPTH = 4
# An article's month folder (``…/202403``): where articles sit, no section of its own, nor any
# folder under it.
MONTH_FOLDER_RE = re.compile(r"(?:^|/)\d{6}(?:/|$)")
# Attachments live in the article's month folder: P0<YYYYMMDD><digits>.<ext>.
ATTACHMENT_NAME_RE = re.compile(r"^P0\d{8}\d+\.\w{2,5}$")
ATTACHMENT_EXTENSIONS = frozenset(
    ("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rar", "zip", "7z", "wps", "et", "ofd", "txt", "csv")
)
# The TRS editor names a body's photos P0….jpg in the same folder: a linked photo is no attachment.
IMAGE_EXTENSIONS = frozenset(("jpg", "jpeg", "png", "gif", "bmp", "webp"))

# --- Pager scripts (the links are written by inline JavaScript, never plain HTML) ----------
# createPageHTML(12, 0, "index", "shtml") and createPageHTML('page_div', 12, 1, 'index', 'shtml', 20)
PAGER_CALL_RE = re.compile(
    r"createPageHTML\s*\(\s*(?:(?P<q>['\"])[^'\"]*(?P=q)\s*,\s*)?(?P<count>\d+)\s*,\s*\d+\s*,"
    r"\s*['\"](?P<stem>[\w-]+)['\"]\s*,\s*['\"](?P<ext>\w+)['\"]"
)
# var countPage = 12//共多少页  (the real sites often omit the semicolon)
PAGER_COUNT_RE = re.compile(r"\bcountPage\s*=\s*(?P<count>\d+)")
# A TRS section lists 10-20 articles a page; 2,000 pages would be 20,000+ articles in one
# section. A pager declaring more is broken, and listing that many URLs would cost gigabytes.
MAX_DECLARED_PAGES = 2000

# --- Labels -----------------------------------------------------------------------------
# Matched case-sensitively and only where no letter or CJK character stands right before them,
# so "Update:", "数据来源：" and "培训时间：" inside sentences are not labels.
COLONS = ":："
COLON = f"[{COLONS}]"
# Other wordings are found by their shape (any short label before a date, or none); these are
# the ones strong enough to win over a date found by shape, and to stand without a colon
# ("发布日期 2025-10-22", "Posted on October 22, 2025").
DATE_LABELS = ("Date", "Published", "Published on", "Posted on", "发布时间", "发布日期", "时间", "日期")
SOURCE_LABELS = ("Source", "From", "来源", "信息来源", "部门", "发布单位")
# Labels that may share the date line; they end a value but are never the record's source.
OTHER_META_LABELS = (
    "Author", "Editor", "Views", "Hits", "Page views", "Reads", "Font size",
    "作者", "编辑", "责任编辑", "浏览次数", "点击数", "阅读次数", "阅读量", "浏览量", "访问量", "点击量",
    "字号", "字体",
)  # fmt: skip
BREADCRUMB_LABELS = (
    "Your Location", "Your Position", "Location", "Current location", "You are here",
    "当前位置", "当前所在位置", "您现在的位置", "您的位置", "您所在的位置", "所在位置", "位置",
)  # fmt: skip
BREADCRUMB_SEPARATORS = ("->", "＞", ">", "»", "›")
# A line that starts with the home crumb and one of these is a breadcrumb too ("首页 / 本院动态"); a
# crumb's own name may hold a slash ("ISO/TC 176"), so "/" never splits a trail.
HOME_CRUMB_SEPARATORS = (*BREADCRUMB_SEPARATORS, "/", "|")
HOME_CRUMBS = ("CNIS Home", "Home", "首页", "网站首页")

# Suffixes of the HTML <title> that name the site, not the article; a <title> segment that holds
# one of them ("中国标准化研究院门户网站") names the site too.
TITLE_SITE_SUFFIXES = ("中国标准化研究院", "China National Institute of Standardization", "CNIS")
# What templates call a page instead of naming it: never a title, in <title>, <h1> or above it.
PAGE_TYPE_NAMES = (
    "新闻详情", "新闻中心", "新闻动态", "新闻", "详情", "详细信息", "正文", "内容页", "文章详情", "信息详情",
    "首页",
    "News Details", "News Detail", "News Center", "News", "Details", "Detail", "Article", "Content",
)  # fmt: skip
TITLE_SUFFIX_SEPARATORS_RE = re.compile(r"\s*(?:--|——|-|_|\||｜)\s*")

# --- Standard meta tags, strongest first (trafilatura's METANAME_* idea) ------------------
META_TITLE = ("ArticleTitle", "og:title", "twitter:title", "dc.title")
META_DATE = ("PubDate", "article:published_time", "og:published_time", "dc.date", "publishdate")
META_SOURCE = ("ContentSource", "source", "dc.publisher")

# Containers known from TRS sites: one rung of the body cascade, never the only one.
BODY_CONTAINER_XPATHS = (
    "//div[contains(@class, 'TRS_Editor')]",
    "//div[contains(@class, 'TRS_UEDITOR')]",
    "//*[@id='zoom']",
    "//div[contains(@class, 'pages_content')]",
    "//article",
)

# --- Boilerplate ---------------------------------------------------------------------------
# A line that starts with one of these ends the article body, wherever it stands: attachments,
# related-news boxes, and the links to the previous and next article ("上一篇：…", "Next: …").
PREV_NEXT_WORDS = ("上一篇", "下一篇", "上一条", "下一条", "上一页", "下一页", "Previous", "Prev", "Next")
ARTICLE_END_RE = re.compile(
    r"^(?:(?:Attachments?|附件|相关附件)\s*(?:" + COLON + r"|$)"
    r"|(?:" + "|".join(PREV_NEXT_WORDS) + r")(?:\s*(?:article|post|news|item|story|文章|新闻|信息))?"
    r"\s*(?:" + COLON + r"|$)"
    r"|(?:Related (?:news|articles|links)|(?:More|Hot|Latest) news)\b"
    r"|相关(?:新闻|文章|链接|阅读|稿件|推荐)|延伸阅读|推荐阅读|热点新闻|最新动态"
    r"|(?:Share|Like) this\s*(?:" + COLON + r"|$)|Related posts?\b|Leave a (?:reply|comment)\b"
    r"|\d*\s*Comments?\s*$|Log in to post comments|(?:Tags?|Topics?|Keywords)\s*(?:" + COLON + r"|$)"
    r"|(?:Media|Press) contacts?\s*$|媒体联系)",
    re.IGNORECASE,
)
# The site footer. It only ends the body when the body has no container of its own, and then
# only in the footer's own shape: a notice's "地址：…" contact line is body text.
SITE_FOOTER_RE = re.compile(
    r"^(?:About CNIS$|©|Copyright\s*(?:©|\(c\)|\d{4})|版权所有|Privacy Policy"
    r"|地址\s*" + COLON + r".*(?:电话|邮编|Tel)|(?:Support|技术支持)\s*" + COLON + r"|京ICP备)",
    re.IGNORECASE,
)
_WIDGET = r"[\[【]\s*(?:Print|Close|打印(?:本页)?|关闭(?:窗口)?|返回顶部|Top)\s*[\]】]"
# How long a page takes to read: "3 min read", "阅读约3分钟".
READING_TIME = r"\d+\s*min(?:ute)?s?\s+read|阅读(?:约|需要|时间)?\s*[:：]?\s*\d+\s*分钟"
# Lines dropped wherever they stand: banners, header links, share/print/close widgets.
NOISE_LINE_RE = re.compile(
    r"^(?:此页面上的内容需要较新版本的\s*Adobe Flash Player。?|获取\s*Adobe Flash Player"
    r"|"
    + READING_TIME
    + r"|Mail\s*\|?\s*Chinese|Mail|Chinese|English|设为首页\s*收藏本站|设为首页|收藏本站|加入收藏"
    r"|(?:Share(?: (?:to|on))?|分享到)\s*" + COLON + r".*"
    r"|(?:Share(?: (?:to|on))?|分享到)\s+(?:WeChat|Weibo|LinkedIn|Facebook|Twitter|QQ|微信|微博).*"
    r"|" + _WIDGET + r"(?:\s*" + _WIDGET + r")*|Print|Close|打印本页|关闭窗口)$",
    re.IGNORECASE,
)
# Page controls: font size, print, close, share, QR-code prompts. A control row is short, holds
# at least one action word, and nothing but action and filler words (and brackets, separators,
# single letters such as "A+ A A-"); or it is the three sizes alone ("大 中 小", "A+ A A-"). A
# sentence that uses some of these words keeps its others; a table cell "中" or "Large" is no row.
CONTROL_ACTIONS = (
    "字体", "字号", "打印本页", "打印此页", "我要打印", "打印", "关闭窗口", "关闭本页", "关闭", "分享到",
    "分享至", "分享", "收藏本页", "收藏", "返回顶部", "扫一扫", "扫码", "扫描", "二维码", "在手机打开当前页",
    "用手机看", "复制链接", "我要纠错", "纠错", "视力保护色",
    "Font size", "Font", "Text size", "Print", "Close", "Share to", "Share on", "Share", "Scan",
    "QR code", "Back to top", "Bookmark", "Zoom",
)  # fmt: skip
CONTROL_FILLERS = (
    "默认", "还原", "放大", "缩小", "大", "中", "小", "返回", "顶部", "手机", "打开", "当前页", "阅读",
    "微信", "微博", "朋友圈", "QQ空间", "QQ", "本页", "窗口", "我要",
    "Size", "Text", "Window", "with", "the", "code", "to read", "read", "to view", "view", "on", "your",
    "phone", "mobile",
    "WeChat", "Weibo", "LinkedIn", "Facebook", "Twitter", "Email", "Back", "Top", "this page", "page",
    "Small", "Medium", "Large", "in", "out",
)  # fmt: skip
CONTROL_LINE_MAX_CHARS = 80  # a row may hold two controls: "Print | Close Scan the QR code…"
# Who wrote, edited or checked the article: credits, never body ("责任编辑：王强", "Editor: Li Wei").
CREDIT_LABELS = (
    "责任编辑", "编辑", "审核", "审校", "校对", "终审", "初审", "撰稿", "供稿", "摄影", "作者", "记者",
    "通讯员",
    "Editor", "Editors", "Reviewer", "Proofreader", "Author", "Photographer", "Reporter", "Correspondent",
)  # fmt: skip
# Credits written without a colon: "Edited by Li Na", "文/李明 图/王芳".
CREDIT_PHRASES = ("Edited by", "Written by", "Reported by", "文/", "图/", "摄/")
# A label whose wording names where the article comes from: "信息来源", "发布部门", "Source from".
SOURCE_LABEL_WORDS = (
    "来源", "稿源", "供稿", "部门", "单位", "机构", "机关", "出处",
    "Source", "From", "Publisher", "Provided by", "Published by", "Origin", "Organization",
    "Organisation",
)  # fmt: skip

# A photo's credit: "Photo: CNIS", "图片：新华社" (a short name; "Photo: Forum opens in Hangzhou" is a
# photo news title, "Photo by CNIS." a caption's sentence).
# A byline alone on its line: "By Wang Li" (a name, not "By 2030, …").
BYLINE_RE = re.compile(r"^By\s+(?:[A-Z][A-Za-z.'\-]+\s?){1,4}$")
PHOTO_CREDIT_RE = re.compile(
    r"^[(（]?\s*(?:Photos?|图片|图|摄影)\s*(?:by\s|" + COLON + r")\s*\S.{0,20}(?<![.。])$", re.IGNORECASE
)
# A repost's closing attribution, "(Source: CEN)" / "（来源：新华社）": metadata, not body.
SOURCE_NOTE_RE = re.compile(
    r"^[(（]\s*(?:Source|来源)\s*" + COLON + r"\s*(?P<value>[^)）]+?)\s*[)）]$", re.IGNORECASE
)


# Error pages served with status 200 (a CMS's own not-found page, a proxy's error page): the
# wording of their title or heading, which outlives a redesign of the page around it. Article
# titles share many of these words ("标准化工作中不存在的问题", "404 new national standards
# approved", "系统繁忙时段的电力标准"), so a pattern names the missing *page* or the *status*,
# never a missing or deleted thing in general:
# - a status number only as the whole heading or followed by its reason phrase, where English
#   words must end ("404 errors fixed" is a title) and Chinese ones need not ("404页面不存在");
# - Chinese phrases that name the page ("页面不存在", "您访问的页面"), or "不存在"/"已删除" as all
#   the heading says; server-error phrases only where they end ("系统繁忙，请稍后再试", not
#   "系统繁忙时段的…").
# The pipeline adds a second test: a page that shows its own date and body is an article anyway.
_NOT_FOUND_REASON = r"(?:(?:(?:page|file)\s+)?not\s+found|error)(?![a-z])|页面|网页|错误|找不到|未找到|不存在"
_SERVER_ERROR_REASON = (
    r"(?:(?:internal\s+)?server\s+error|bad\s+gateway|service\s+(?:temporarily\s+)?unavailable"
    r"|gateway\s+time-?out|error)(?![a-z])|服务器(?:内部)?错误|错误|服务暂时?不可用|系统繁忙"
)
_STATUS_SEPARATOR = r"\s*[-\u2013\u2014:：|,，.]?\s*"  # also en and em dashes


def _status(code: str, reason: str) -> str:
    """A status code as the whole heading ("404"), or followed by a reason ("404 Not Found")."""
    return rf"^\W*(?:(?:HTTP|Error)\s*)?{code}(?:\W*$|{_STATUS_SEPARATOR}(?:{reason}))"


NOT_FOUND_RE = re.compile(
    _status("404", _NOT_FOUND_REASON) + r"|^\W*(?:page\s+)?not\s+found\W*$|\bpage\s+(?:was\s+)?not\s+found\b"
    # "Sorry, the page you visited does not exist.": the page, not a thing, is what is missing.
    r"|\b(?:page|file|document|url|resource)\b(?:\s+you\s+(?:visited|requested|are\s+looking\s+for))?\s+"
    r"(?:(?:was|could|can)\s*(?:not|n't)\s+(?:be\s+)?found|does\s*(?:not|n't)\s+exist"
    r"|(?:no\s+longer|is\s+not)\s+(?:exists?|available))"
    r"|(?:页面|网页)(?:不存在|未找到|已删除|已被删除)|找不到(?:您(?:要|所)?访问的|该|此)?(?:页面|网页)"
    r"|您(?:要|所)?访问的(?:页面|网页|地址)"
    r"|^\W*(?:(?:对不起|抱歉)\W*)?(?:该|此)?(?:内容|信息|文章)?(?:不存在|已删除|已被删除)\W*$",
    re.IGNORECASE,
)
SERVER_ERROR_RE = re.compile(
    _status("50[0234]", _SERVER_ERROR_REASON)
    + r"|\b(?:internal\s+server\s+error|bad\s+gateway|service\s+(?:temporarily\s+)?unavailable"
    r"|gateway\s+time-?out)\b"
    r"|(?:服务器(?:内部)?错误|系统繁忙|服务暂时?不可用|访问出错)(?!\w)",
    re.IGNORECASE,
)
ERROR_HEADING_MAX_CHARS = 80
"""Longer headings are an article's title, even when they mention a missing thing."""
