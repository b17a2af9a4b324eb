"""``cnis-crawler <command>``: the tools around the crawl (the crawl itself is ``scrapy crawl cnis``)."""

from __future__ import annotations

import sys

from cnis_crawler import export

COMMANDS = {"export": export.main}


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] not in COMMANDS:
        print(
            f"usage: cnis-crawler {{{','.join(COMMANDS)}}} [options]  (--help after a command)",
            file=sys.stderr,
        )
        return 2
    return COMMANDS[arguments[0]](arguments[1:])


if __name__ == "__main__":
    sys.exit(main())
