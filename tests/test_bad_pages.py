"""Pages served with status 200 that are no article: error pages, garbage, pages cut short.

Each check is run end to end, through the extraction pipeline, on mirror article pages changed
in one way, and on every page of the mirror and its redesigns, none of which it may drop.
"""

from __future__ import annotations

import html as html_module
import random
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.crawling.drops import (
    EmptyBody,
    Garbled,
    MissingPart,
    NotFoundPage,
    ServerErrorPage,
    Truncated,
)
from cnis_crawler.crawling.items import Article, FetchedPage
from cnis_crawler.crawling.pipelines import ExtractArticlePipeline, ValidateArticlePipeline
from cnis_crawler.extraction import Listed
from cnis_crawler.extraction.encoding import GARBLED_MAX_SHARE, decode_html, garbled_share
from cnis_crawler.extraction.error_page import error_page, truncated
from cnis_crawler.extraction.reading import damage
from tests.conftest import SITE, expected_record, live_url, page_text, part_pages
from tests.test_extraction_error_page import ARTICLE_HEADINGS
from tests.tooling.faults import SOFT_404_EN, SOFT_404_ZH

if TYPE_CHECKING:
    from pathlib import Path

DRIFT = SITE.parent / "drift"
ROOTS = (SITE, DRIFT / "a", DRIFT / "b")
EVERY_PAGE = [
    pytest.param(path, root, id=str(path.relative_to(SITE.parent)))
    for root in ROOTS
    for path in sorted(root.rglob("*"))
    if path.suffix in (".html", ".shtml")
]
# Article pages whose title is replaced: dated by a label (en, zh), dated by its URL alone (the
# error-page wording is all that tells it then), and one of several pages.
EN_PAGE = SITE / "en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml"
ZH_PAGE = SITE / "www.cnis.ac.cn/bydt/zhxw/201504/t20150422_31876.html"
URL_DATED_PAGE = SITE / "www.cnis.ac.cn/bydt/zhxw/201103/t20110315_18972.html"
MULTI_PAGE = SITE / "www.cnis.ac.cn/tzgg/201311/t20131112_27305.html"
PROXY_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


def fetched(page: Path, **changes: object) -> FetchedPage:
    """The page (and its continuation pages) as the spider hands it to the pipelines."""
    item = FetchedPage(
        url=live_url(page),
        fetched_at="2026-11-24T05:00:00Z",
        html=page_text(page),
        continuations=[page_text(part) for part in part_pages(page)],
    )
    return replace(item, **changes)


def extract(item: FetchedPage) -> object:
    return ExtractArticlePipeline().article_of(item)


def retitled(page: Path, title: str) -> str:
    """The page with its title (in <title> and in the headline) replaced by ``title``."""
    text = page_text(page)
    old = expected_record(page)["title"]
    assert old in text, page
    return text.replace(old, html_module.escape(title))


def random_bytes(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


# --- Not one page of the mirror or its redesigns is dropped by these checks -----------------


@pytest.mark.parametrize(("page", "root"), EVERY_PAGE)
def test_no_mirror_page_is_garbled_truncated_or_an_error_page(page: Path, root: Path) -> None:
    text = page_text(page, root)
    assert garbled_share(text) == 0
    assert not truncated(text)
    assert damage(text) is None
    assert error_page(text) is None


def test_every_page_was_checked() -> None:
    # The mirror and its two redesigns: articles, listings, home and channel pages.
    assert len(EVERY_PAGE) == 3 * 114


# --- Soft 404: wording alone drops no article ------------------------------------------------


@pytest.mark.parametrize("page", [EN_PAGE, ZH_PAGE, URL_DATED_PAGE], ids=lambda path: path.name)
@pytest.mark.parametrize("title", ARTICLE_HEADINGS)
def test_an_article_titled_with_error_words_is_a_record(page: Path, title: str) -> None:
    article = extract(fetched(page, html=retitled(page, title)))
    assert isinstance(article, Article)
    assert article.title == title


@pytest.mark.parametrize(
    "title",
    [
        "Internal Server Error handling: new national standard published",
        "Page not found? Guide to accessible error pages released",
        "您访问的页面不存在怎么办？网站错误页面国家标准发布",
        "404",
    ],
)
@pytest.mark.parametrize("page", [EN_PAGE, ZH_PAGE], ids=lambda path: path.name)
def test_a_page_with_its_own_date_and_body_is_an_article_whatever_its_title(page: Path, title: str) -> None:
    """Error-page wording drops a page for good (NotFoundPage) only on a page that shows no
    article of its own: a date line or date meta, and a body."""
    html = retitled(page, title)
    assert error_page(html) is not None  # the wording matches; the page's own date decides
    article = extract(fetched(page, html=html))
    assert isinstance(article, Article)
    assert article.title == title


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        # A body (its apology) but a date from the URL only, which is no page's own.
        pytest.param(SOFT_404_EN, NotFoundPage, id="soft404-en"),
        pytest.param(SOFT_404_ZH, NotFoundPage, id="soft404-zh"),
        pytest.param(PROXY_502, ServerErrorPage, id="proxy-502"),
    ],
)
def test_error_pages_are_dropped(html: str, reason: type[Exception]) -> None:
    with pytest.raises(reason, match="served with status 200"):
        extract(fetched(EN_PAGE, html=html, continuations=[]))


# --- Garbled: bytes that are no text ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("size", [300, 20_000])
@pytest.mark.parametrize(
    "content_type",
    [None, "text/html; charset=utf-8", "text/html; charset=gbk", "text/html; charset=iso-8859-1"],
)
def test_random_bytes_are_garbled(seed: int, size: int, content_type: str | None) -> None:
    text = decode_html(random_bytes(seed, size), content_type)
    assert garbled_share(text) > GARBLED_MAX_SHARE
    with pytest.raises(Garbled, match=r"^garbled: \d+\.\d% control or replacement characters: https://"):
        extract(fetched(EN_PAGE, html=text))


def test_garbage_inside_a_whole_page_is_garbled_not_an_article() -> None:
    """A page whose frame arrived but whose content is garbage: no record of its listing title
    and URL date around a body of noise."""
    text = page_text(EN_PAGE)
    cut = text.index("</body>")
    garbage = decode_html(random_bytes(7, 4000), "text/html; charset=utf-8")
    with pytest.raises(Garbled):
        extract(fetched(EN_PAGE, html=text[:cut] + garbage + text[cut:], listed=Listed(title="A title")))


def test_one_damaged_character_is_no_garbage() -> None:
    text = page_text(ZH_PAGE)
    damaged = text.replace("我院", "\ufffd\ufffd", 1)
    assert 0 < garbled_share(damaged) < GARBLED_MAX_SHARE
    assert isinstance(extract(fetched(ZH_PAGE, html=damaged)), Article)


def test_an_empty_text_is_not_garbled() -> None:
    assert garbled_share("") == 0


# --- Truncated: a page that ends before its end ----------------------------------------------


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9])
@pytest.mark.parametrize("page", [EN_PAGE, ZH_PAGE], ids=lambda path: path.name)
def test_a_page_cut_short_is_truncated(page: Path, fraction: float) -> None:
    text = page_text(page)
    with pytest.raises(Truncated, match=r"^truncated: no </body> or </html> at its end: https://"):
        extract(fetched(page, html=text[: int(len(text) * fraction)]))


@pytest.mark.parametrize(
    "ending",
    [
        pytest.param("</BODY></HTML>", id="upper-case"),
        pytest.param("</body>", id="body-only"),
        pytest.param("</html >", id="html-only"),
        pytest.param(
            "</body></html>\n<script>var _hmt = [];</script>\n<!-- cached 0.012s -->\n", id="appended"
        ),
    ],
)
def test_a_page_that_ends_as_a_page_is_whole(ending: str) -> None:
    text = page_text(EN_PAGE)
    body_end = text.lower().rindex("</body>")
    assert not truncated(text[:body_end] + ending)
    assert isinstance(extract(fetched(EN_PAGE, html=text[:body_end] + ending)), Article)


def test_an_empty_page_is_an_empty_body_not_a_truncated_one() -> None:
    assert not truncated("")
    assert not truncated(" \n")
    # As in the fault crawl: the title comes from the listing, and validation finds no body.
    article = extract(fetched(EN_PAGE, html="", continuations=[], listed=Listed(title="A title")))
    with pytest.raises(EmptyBody):
        ValidateArticlePipeline().process_item(article)


# --- Continuation pages: a part that is no whole article page is a missing part ---------------


def test_a_multi_page_article_is_whole() -> None:
    item = fetched(MULTI_PAGE)
    assert len(item.continuations) == 2
    assert isinstance(extract(item), Article)


@pytest.mark.parametrize(
    ("spoil", "detail"),
    [
        pytest.param(lambda text: text[: len(text) // 2], "continuation 2 truncated", id="truncated"),
        pytest.param(
            lambda _: decode_html(random_bytes(3, 5000), "text/html; charset=utf-8"),
            "continuation 2 garbled",
            id="garbled",
        ),
        pytest.param(lambda _: SOFT_404_ZH, "continuation 2 is a not found page", id="soft404"),
        pytest.param(lambda _: PROXY_502, "continuation 2 is a server error page", id="proxy-502"),
    ],
)
def test_a_spoilt_continuation_is_a_missing_part(spoil: object, detail: str) -> None:
    item = fetched(MULTI_PAGE)
    first, second = item.continuations
    with pytest.raises(MissingPart, match=f"^{detail}.*: {live_url(MULTI_PAGE)}$"):
        extract(replace(item, continuations=[first, spoil(second)]))  # type: ignore[operator]


def test_a_continuation_titled_with_error_words_is_a_part() -> None:
    item = fetched(MULTI_PAGE)
    title = expected_record(MULTI_PAGE)["title"]
    parts = [part.replace(title, "您访问的页面不存在怎么办？") for part in item.continuations]
    assert all(error_page(part) is not None for part in parts)
    assert isinstance(extract(replace(item, continuations=parts)), Article)
