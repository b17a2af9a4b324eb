"""``cnis-crawler <command>``: the tools around the crawl (the crawl itself is ``scrapy crawl cnis``)."""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# Each command is a module with ``main(argv) -> int``, imported only when asked for.
COMMANDS = {
    "export": "cnis_crawler.tools.export",
    "report": "cnis_crawler.tools.report",
    "mirror": "cnis_crawler.tools.mirror",
}


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] not in COMMANDS:
        asked = arguments[:1] in (["-h"], ["--help"])
        print(
            f"usage: cnis-crawler {{{','.join(COMMANDS)}}} [options]  (--help after a command)",
            file=sys.stdout if asked else sys.stderr,
        )
        return 0 if asked else 2
    command: Callable[[list[str]], int] = import_module(COMMANDS[arguments[0]]).main
    return command(arguments[1:])


if __name__ == "__main__":
    sys.exit(main())
