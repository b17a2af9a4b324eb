"""Is this page an error page served with status 200, or one cut short? From its HTML alone.

A soft 404 or a proxy's error page must never become a record. The signal is what such pages
say of themselves in their ``<title>`` and headings (``404``, "does not exist", "页面不存在",
"502 Bad Gateway"), not their layout, which changes with the template; a short heading only,
since a long one is an article's title that may well mention something missing. Wording alone
can still mislead (an article may be titled "Internal Server Error handling: new standard"): the
pipeline drops a page only when it also shows no article of its own.

A page cut short without a Content-Length to tell (a close-delimited or chunked response that
ended cleanly) is only told by its missing end: :func:`truncated`.
"""

from __future__ import annotations

import re
from enum import Enum

from cnis_crawler.extraction.document import collapse_whitespace, parse_html
from cnis_crawler.site import ERROR_HEADING_MAX_CHARS, NOT_FOUND_RE, SERVER_ERROR_RE, TITLE_SITE_SUFFIXES

# The end of a whole page. Some servers and CDNs append a script or comment after </html>: the
# closing tag is looked for in the text's tail, long enough for any such appendix, and never in
# the whole text, where a page cut short may still hold an inline </body> (in a script string).
END_TAG_RE = re.compile(r"</\s*(?:html|body)\s*>", re.IGNORECASE)
END_TAG_TAIL_CHARS = 65536


class ErrorPage(Enum):
    NOT_FOUND = "not found"
    SERVER_ERROR = "server error"


def error_page(html: str) -> ErrorPage | None:
    """What kind of error page ``html`` is, or None for any other page."""
    selector = parse_html(html)
    headings = selector.xpath("//title | //h1 | //h2 | //*[contains(@class, 'error')][not(*)]")
    for heading in headings:
        text = collapse_whitespace(" ".join(heading.xpath(".//text()").getall()))
        for suffix in TITLE_SITE_SUFFIXES:
            text = text.replace(suffix, "")
        if not text or len(text) > ERROR_HEADING_MAX_CHARS:
            continue
        if NOT_FOUND_RE.search(text):
            return ErrorPage.NOT_FOUND
        if SERVER_ERROR_RE.search(text):
            return ErrorPage.SERVER_ERROR
    return None


def truncated(html: str) -> bool:
    """Whether ``html`` ends before its ``</body>`` and ``</html>``: a page cut short.

    An empty page is not "cut short" (nothing of it arrived): the pipeline names it EmptyBody.
    """
    return bool(html.strip()) and END_TAG_RE.search(html[-END_TAG_TAIL_CHARS:]) is None
