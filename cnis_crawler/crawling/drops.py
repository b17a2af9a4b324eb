"""Why a fetched page did not become a record: one :class:`DropItem` subclass per reason.

Scrapy counts every drop as ``item_dropped_reasons_count/<Reason>`` and logs it with the URL, so
nothing leaves the crawl silently. Two attributes steer what the crawl state does with a drop:

- ``permanent``: the page itself is the problem (gone, not an article, no title …). The URL is
  remembered and skipped by incremental runs; ``-a full=1`` tries it again.
- :class:`NotNew` drops are not problems at all: the article is already in the dataset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import DropItem

if TYPE_CHECKING:
    from twisted.python.failure import Failure


def failure_name(failure: Failure) -> str:
    """The name of the exception a failure holds (what the crawl counts and logs it by)."""
    return failure.type.__name__ if failure.type is not None else "Failure"


class Drop(DropItem):
    permanent = False


class FetchFailed(Drop):
    """The page could not be fetched (HTTP 5xx, timeout, refused, filtered): tried again next run."""


class Gone(Drop):
    """The server says the listed article does not exist (HTTP 404 or 410)."""

    permanent = True


class NotHtml(Drop):
    """A listed article turned out to be another kind of file."""

    permanent = True


class Garbled(Drop):
    """The page's bytes decode to garbage (control or replacement characters), not text. Likely a
    transfer or server fault rather than the page itself: tried again next run."""


class Truncated(Drop):
    """The page ends before its ``</body>`` and ``</html>``: cut short by a connection closed
    cleanly without a Content-Length to tell. Tried again next run."""


class NotFoundPage(Drop):
    """A page that says it does not exist, served with status 200 (a "soft 404")."""

    permanent = True


class ServerErrorPage(Drop):
    """A server or proxy error page served with status 200: tried again next run."""


class Redirected(Drop):
    """The article URL redirects to something that is not a news article of the crawled sites,
    in a loop, or more than ``REDIRECT_MAX_TIMES`` times."""

    permanent = True


class MissingPart(Drop):
    """A page of a multi-page article failed, was cut short, garbled or an error page: a record
    of the other pages would be truncated."""


class NotNewsArticle(Drop):
    """Defensive: the spider only requests news article URLs, so this means a routing bug."""

    permanent = True


class ExtractionFailed(Drop):
    """Extraction raised: a bug or a page beyond anything foreseen. Logged with its traceback."""


class MissingTitle(Drop):
    permanent = True


class MissingDate(Drop):
    """Defensive: every news URL carries a date, so only a broken URL rule can cause it."""

    permanent = True


class EmptyBody(Drop):
    permanent = True


class DuplicateUrl(Drop):
    """The same article page reached the pipelines twice in one run (e.g. through a redirect)."""


class NotNew(Drop):
    """The article is in the dataset already; logged at DEBUG, counted in its own column."""

    counter = ""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message, log_level="DEBUG")
        self.key = key


class Unchanged(NotNew):
    """Known article, same content: answered 304, or fetched again with the same content hash."""

    counter = "unchanged"


class Alias(NotNew):
    """Same language, date, title and body as an article known under another URL (the old host)."""

    counter = "aliases"
