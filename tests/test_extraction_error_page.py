"""Error pages served with status 200 are told from articles by what they say of themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cnis_crawler.extraction.error_page import ErrorPage, error_page
from tests.conftest import SITE
from tests.tooling.faults import SOFT_404_EN, SOFT_404_ZH

if TYPE_CHECKING:
    from pathlib import Path

DRIFT = SITE.parent / "drift"
EVERY_PAGE = sorted(
    path for root in (SITE, DRIFT) for path in root.rglob("*") if path.suffix in (".html", ".shtml")
)


@pytest.mark.parametrize("page", EVERY_PAGE, ids=lambda path: str(path.relative_to(SITE.parent)))
def test_no_page_of_the_mirror_or_its_redesigns_is_an_error_page(page: Path) -> None:
    assert error_page(page.read_bytes().decode("utf-8", errors="replace")) is None


@pytest.mark.parametrize(
    ("html", "kind"),
    [
        pytest.param(SOFT_404_EN, ErrorPage.NOT_FOUND, id="cms-404-en"),
        pytest.param(SOFT_404_ZH, ErrorPage.NOT_FOUND, id="cms-404-zh"),
        pytest.param(
            "<title>404 Not Found</title><h1>404 Not Found</h1><hr>nginx", ErrorPage.NOT_FOUND, id="nginx"
        ),
        pytest.param(
            "<html><body><h1>502 Bad Gateway</h1></body></html>", ErrorPage.SERVER_ERROR, id="proxy"
        ),
        pytest.param("<title>系统繁忙，请稍后再试</title>", ErrorPage.SERVER_ERROR, id="busy-zh"),
        pytest.param("<div class='error_code'>404</div><p>Gone</p>", ErrorPage.NOT_FOUND, id="bare-code"),
        pytest.param("<title>Error 404 - Page Not Found</title>", ErrorPage.NOT_FOUND, id="error-404"),
        pytest.param(
            "<h1>Not Found</h1><p>The requested URL was not found.</p>", ErrorPage.NOT_FOUND, id="apache"
        ),
        pytest.param("<h2>找不到您要访问的页面</h2>", ErrorPage.NOT_FOUND, id="no-page-zh"),
        pytest.param("<title>404页面不存在</title>", ErrorPage.NOT_FOUND, id="404-zh-joined"),
        pytest.param("<h1>内容不存在</h1>", ErrorPage.NOT_FOUND, id="content-gone-zh"),
        pytest.param("<h1>对不起，该信息已删除！</h1>", ErrorPage.NOT_FOUND, id="deleted-zh"),
        pytest.param("<title>500 - 服务器内部错误</title>", ErrorPage.SERVER_ERROR, id="500-zh"),
        pytest.param(
            "<title>503 Service Temporarily Unavailable</title>", ErrorPage.SERVER_ERROR, id="nginx-503"
        ),
        pytest.param("<h1>500</h1>", ErrorPage.SERVER_ERROR, id="bare-500"),
    ],
)
def test_error_pages(html: str, kind: ErrorPage) -> None:
    assert error_page(html) is kind


# Article titles that mention a status number or a missing, deleted or failing thing, each of
# them once taken for an error page: only a missing *page* or a status on its own is one.
ARTICLE_HEADINGS = (
    "标准化工作中不存在的问题",
    "关于已删除标准的公告",
    "找不到合适标准怎么办？",
    "Trade barriers has been removed, says WTO",
    "404 new national standards approved",
    "404 errors in the standards catalogue fixed",
    "500 enterprises adopt GB/T 19001",
    "500 service providers certified",
    "服务器错误检测技术国家标准发布",
    "系统繁忙时段的电力标准",
)


@pytest.mark.parametrize("heading", ARTICLE_HEADINGS)
@pytest.mark.parametrize("element", ["title", "h1", "h2"])
def test_article_headings_that_name_no_page_are_no_error_pages(heading: str, element: str) -> None:
    assert error_page(f"<{element}>{heading}</{element}>") is None


@pytest.mark.parametrize(
    "html",
    [
        "<title>GB/T 404-2008 released--CNIS</title>",
        "<h1>Implementation guide for GB 50300 published</h1>",
        "<h1>" + "A long title of a real article that happens to say the page does not exist " * 2 + "</h1>",
        "",
    ],
)
def test_articles_that_mention_numbers_or_missing_things_are_no_error_pages(html: str) -> None:
    assert error_page(html) is None
