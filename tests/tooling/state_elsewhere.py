"""The project's settings with the crawl state elsewhere (``CNIS_TEST_STATE_PATH``): what the
tools read when a user's settings module moves it."""

import os

from cnis_crawler.settings import *  # noqa: F403

CNIS_STATE_PATH = os.environ.get("CNIS_TEST_STATE_PATH", "output/state.sqlite")
