"""What the crawl's log says of a robots.txt it could not fetch: one WARNING line.

Scrapy's robots.txt middleware logs a robots.txt it could not download as an ERROR with the
whole traceback, then lets the page's own request go on without the rules: that request fails
or succeeds in its turn and is reported for itself. With the network down, each host's failure
printed three screens of traceback for nothing the other lines did not say.
"""

from __future__ import annotations

import logging

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
)
from twisted.internet.error import ConnectError, DNSLookupError, TimeoutError

ROBOTSTXT_LOGGER = "scrapy.downloadermiddlewares.robotstxt"
NO_ANSWER = (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    ResponseDataLossError,
    ConnectError,
    DNSLookupError,
    TimeoutError,
)
"""Failures to get an answer, as opposed to a bug."""


class RobotsTxtNotFetched(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], NO_ANSWER):
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
            record.msg = "No robots.txt for %(request)s (%(f_exception)s): the request goes on without it"
        return True


def quiet_robotstxt_failures() -> None:
    """Installs :class:`RobotsTxtNotFetched` on the middleware's logger, once per process."""
    logger = logging.getLogger(ROBOTSTXT_LOGGER)
    if not any(isinstance(installed, RobotsTxtNotFetched) for installed in logger.filters):
        logger.addFilter(RobotsTxtNotFetched())
