"""Error pages served with status 200 are told from articles by what they say of themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from cnis_crawler.extraction.error_page import ErrorPage, error_page
from cnis_crawler.faults import SOFT_404_EN, SOFT_404_ZH
from tests.conftest import SITE

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
    ],
)
def test_error_pages(html: str, kind: ErrorPage) -> None:
    assert error_page(html) is kind


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
