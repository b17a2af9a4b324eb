"""Is this page an error page served with status 200? From its title and headings' wording.

A soft 404 or a proxy's error page must never become a record. The signal is what such pages
say of themselves in their ``<title>`` and headings (``404``, "does not exist", "页面不存在",
"502 Bad Gateway"), not their layout, which changes with the template; a short heading only,
since a long one is an article's title that may well mention something missing.
"""

from __future__ import annotations

from enum import Enum

from parsel import Selector

from cnis_crawler.site import ERROR_HEADING_MAX_CHARS, NOT_FOUND_RE, SERVER_ERROR_RE, TITLE_SITE_SUFFIXES


class ErrorPage(Enum):
    NOT_FOUND = "not found"
    SERVER_ERROR = "server error"


def error_page(html: str) -> ErrorPage | None:
    """What kind of error page ``html`` is, or None for any other page."""
    selector = Selector(text=html or "<html></html>")
    headings = selector.xpath("//title | //h1 | //h2 | //*[contains(@class, 'error')][not(*)]")
    for heading in headings:
        text = " ".join(" ".join(heading.xpath(".//text()").getall()).split())
        for suffix in TITLE_SITE_SUFFIXES:
            text = text.replace(suffix, "")
        if not text or len(text) > ERROR_HEADING_MAX_CHARS:
            continue
        if NOT_FOUND_RE.search(text):
            return ErrorPage.NOT_FOUND
        if SERVER_ERROR_RE.search(text):
            return ErrorPage.SERVER_ERROR
    return None
