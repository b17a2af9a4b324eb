"""``scrapy shell`` in the project: a look at a page that writes nothing.

Scrapy's shell runs the project's settings, so its one fetch would open the crawl state (from
another thread than the one that made it, which SQLite refuses), start a run in it, and write a
summary beside the dataset. Here it runs without the crawl's own extensions and feeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands.shell import Command as ScrapyShellCommand

if TYPE_CHECKING:
    import argparse

LOOK_ONLY: dict[str, Any] = {
    "EXTENSIONS": {},
    "ITEM_PIPELINES": {},
    "FEEDS": {},
    "CNIS_STATE_PATH": "",
    "CNIS_SUMMARY_PATH": None,
    "CNIS_WARC_ENABLED": False,
}
"""Settings of a command that only looks at pages: no crawl state, no run files, no summary."""


class Command(ScrapyShellCommand):
    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        self.settings.setdict(LOOK_ONLY, priority="cmdline")
