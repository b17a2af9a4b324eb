"""``cnis-crawler <command>``: the tools around the crawl (the crawl itself is ``scrapy crawl cnis``)."""

from __future__ import annotations

import re
import sys
from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

# Each command is a module with ``main(argv) -> int``, imported only when asked for.
COMMANDS = {
    "export": (
        "cnis_crawler.tools.export",
        "write the dataset (JSON lines, CSV, Parquet)",
    ),
    "report": (
        "cnis_crawler.tools.report",
        "write one HTML page on the crawl and its runs",
    ),
    "check": (
        "cnis_crawler.tools.check",
        "read each section's listing and newest article; say whether the site changed",
    ),
    "mirror": ("cnis_crawler.tools.mirror", "serve a mirror of the sites on loopback (for -a mirror=URL)"),
    "reextract": (
        "cnis_crawler.tools.reextract",
        "rebuild the records from the archive with the current extractor; write what changed",
    ),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [f"  {name:{width}} {summary}" for name, (_, summary) in COMMANDS.items()]
    return "\n".join(
        [
            "usage: cnis-crawler <command> [options]   (cnis-crawler <command> --help for its options)",
            "",
            "commands:",
            *lines,
            "",
            "The crawl itself: scrapy crawl cnis (in the project's folder).",
        ]
    )


def plain(doc: str | None) -> str:
    """A module's docstring as a command's help: without reST's roles and literal quotes."""
    return re.sub(r":\w+:`~?([^`]+)`", r"\1", doc or "").replace("``", "")


def fail(prog: str, message: str) -> int:
    """A command's error that is no mistake in its arguments: one line, status 2, no usage."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def crawler_version() -> str:
    try:
        return version("cnis-crawler")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] in (["-V"], ["--version"]):
        print(f"cnis-crawler {crawler_version()}")
        return 0
    if not arguments or arguments[0] not in COMMANDS:
        asked = arguments[:1] in (["-h"], ["--help"])
        unknown = "" if asked or not arguments else f"cnis-crawler: unknown command {arguments[0]!r}\n"
        print(unknown + usage(), file=sys.stdout if asked else sys.stderr)
        return 0 if asked else 2
    command: Callable[[list[str]], int] = import_module(COMMANDS[arguments[0]][0]).main
    return command(arguments[1:])


if __name__ == "__main__":
    sys.exit(main())
