"""Check the site before trusting a scheduled crawl: ``cnis-crawler check [--mirror URL]``.

Reads page 1 of every section's listing and the newest article it links, as the crawl reads
them (its spider, its settings, robots.txt), and prints a table per section: the articles
linked, the pages declared, and the newest article's title, date, source and body with the
rung of the cascade each came from. Writes nothing, opens no crawl state.

    cnis-crawler check                                   # the live sites
    cnis-crawler check --mirror http://127.0.0.1:8000    # a mirror (cnis-crawler mirror)
    cnis-crawler check --sites en.cnis.ac.cn -s USER_AGENT="cnis-crawler (you@example.org)"

Exit status: 0 every section looks right; 3 a section looks wrong (its listing failed or links
no article, or a field of its newest article is missing or came from its weakest rung: the
site may have changed); 4 no page could be fetched at all (the network, not the site);
2 a bad option.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from cnis_crawler.extraction.article import RUNGS
from cnis_crawler.memory.state import CRAWLED
from cnis_crawler.site import SECTIONS
from cnis_crawler.tools.cli import plain
from cnis_crawler.tools.export import counted
from cnis_crawler.urls import Addressing, listing_page_url, section_named

if TYPE_CHECKING:
    from scrapy.settings import Settings

    from cnis_crawler.crawling.check import SectionCheck
    from cnis_crawler.crawling.discovery import Verdict

LOOKS_WRONG_STATUS = 3
UNREACHABLE_STATUS = 4


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnis-crawler check", description=plain(__doc__))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--mirror", metavar="URL", help="read a mirror of the sites instead (its base URL)")
    parser.add_argument("--sites", metavar="HOSTS", help="comma-separated hosts (default: all)")
    parser.add_argument(
        "--sections",
        metavar="WHICH",
        help="all: site.py's sections and those found on the sites (default); known: site.py's alone",
    )
    parser.add_argument(
        "-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting; repeatable"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the crawl (Scrapy's INFO lines)")
    args = parser.parse_args(argv)
    # Scrapy, once the options are good.
    from cnis_crawler.crawling.health import failures_by_kind, unreachable
    from cnis_crawler.crawling.spider import parse_sections, parse_sites

    try:
        sites = parse_sites(args.sites)
        parse_sections(args.sections, option="--sections")
        Addressing(args.mirror or None)
        settings = check_settings(args.set, args.verbose)
    except ValueError as error:
        parser.error(str(error))
    rows, stats, verdicts = run_check(settings, args.sites, args.mirror, args.sections)
    chosen = [section.key for section in SECTIONS if section.host in sites]
    chosen += sorted(
        key for key, verdict in verdicts.items() if verdict.kind == CRAWLED and key not in chosen
    )
    checked = [rows.get(key) or unchecked(key) for key in chosen]
    console = Console(width=None if sys.stdout.isatty() else 120)
    with console.capture() as tables:
        for row in checked:
            # The heading apart: a table's title wraps at the table's width.
            console.print(f"[bold]{row.section}[/]  {row.listing_url}", section_table(row), "")
        if verdicts:
            console.print("[bold]Sections[/] (known: site.py's; crawled or skipped: found on the sites)")
            console.print(verdicts_table(verdicts), "")
    # Rich pads every line to the table's width: no trailing blanks in a mail or a log.
    print("\n".join(line.rstrip() for line in tables.get().splitlines()))
    if unreachable(stats):
        failed = failures_by_kind(stats)
        print(f"check: no answer from the site ({failed}): check the network, the DNS or --mirror")
        return UNREACHABLE_STATUS
    if unread := stats.get("discovery/folders_over_limit"):
        print(
            f"check: {unread} folders linked were not read (CNIS_MAX_FOLDERS="
            f"{settings.getint('CNIS_MAX_FOLDERS')}): sections behind them are not checked"
        )
    wrong = [row for row in checked if row.problems]
    if wrong:
        named = "; ".join(f"{row.section}: {', '.join(row.problems)}" for row in wrong)
        print(f"check: {len(wrong)} of {len(checked)} sections look wrong ({named})")
        return LOOKS_WRONG_STATUS
    print(f"check: {'the section looks' if len(checked) == 1 else f'all {len(checked)} sections look'} right")
    return 0


def check_settings(assignments: list[str], verbose: bool) -> Settings:
    """The project's settings (the package's when run outside it), with ``-s`` on top, made
    to look only: no crawl state, feeds, pipelines or extensions of the crawl."""
    from scrapy.utils.project import get_project_settings

    from cnis_crawler.crawling.check import CHECK_SETTINGS
    from cnis_crawler.crawling.commands.shell import LOOK_ONLY
    from cnis_crawler.crawling.config import number

    settings = get_project_settings()
    if settings.get("BOT_NAME") != "cnis_crawler":  # not in the project's folder
        settings.setmodule("cnis_crawler.settings", priority="project")
    settings.setdict({**LOOK_ONLY, **CHECK_SETTINGS, "LOG_LEVEL": "INFO" if verbose else "ERROR"}, "cmdline")
    for assignment in assignments:
        name, equals, value = assignment.partition("=")
        if not equals or not name.strip():
            raise ValueError(f"-s takes NAME=VALUE, got {assignment!r}")
        settings.set(name.strip(), value, priority="cmdline")
    # Read by the spider once it runs: a bad value is refused here, in one line, not mid-crawl.
    number(settings, "CNIS_MAX_FOLDERS", 500, 0)
    return settings


def run_check(
    settings: Settings, sites: str | None, mirror: str | None, sections: str | None = None
) -> tuple[dict[str, SectionCheck], dict[str, Any], dict[str, Verdict]]:
    """The rows the check spider yielded, by section key, the crawl's stats, and what it made of
    every section (known, and found on the sites)."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    from cnis_crawler.crawling.check import CheckSpider, SectionCheck

    rows: dict[str, SectionCheck] = {}

    def collect(item: object) -> None:
        if isinstance(item, SectionCheck):
            rows[item.section] = item

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(CheckSpider)
    crawler.signals.connect(collect, signal=signals.item_scraped, weak=False)
    process.crawl(crawler, sites=sites, mirror=mirror, sections=sections)
    process.start()
    verdicts = crawler.spider.finder.verdicts() if isinstance(crawler.spider, CheckSpider) else {}
    return rows, crawler.stats.get_stats() if crawler.stats else {}, verdicts


def verdicts_table(verdicts: dict[str, Verdict]) -> Table:
    table = Table(box=None)
    for heading in ("section", "kind", "page 1 lists", "why"):
        table.add_column(heading, overflow="fold")
    for key, verdict in verdicts.items():
        listed = (
            "-" if verdict.first_page_articles is None else counted(verdict.first_page_articles, "article")
        )
        table.add_row(key, verdict.kind, listed, verdict.why)
    return table


def unchecked(key: str) -> SectionCheck:
    """The row of a section the check got no answer for (an error logged above)."""
    from cnis_crawler.crawling.check import SectionCheck

    listing = listing_page_url(section_named(key), 0)
    return SectionCheck(key, listing, failed="not checked: see the errors above")


def section_table(row: SectionCheck) -> Table:
    table = Table(box=None, show_header=False)
    table.add_column("what", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("rung", no_wrap=True)
    if row.listing_read:
        pages = (
            "no pager" if row.pages_declared is None else f"{counted(row.pages_declared, 'page')} declared"
        )
        table.add_row("listing", f"{counted(row.articles_linked, 'article')} linked on page 1, {pages}", "")
    if row.newest_url:
        table.add_row("newest", row.newest_url, "")
    for name, value in row.values.items():
        rung = row.rungs.get(name) or ""
        weakest = rung and rung == RUNGS[name][-1]
        table.add_row(name, value or "—", f"[bold red]{rung} (weakest)[/]" if weakest else f"[dim]{rung}[/]")
    problems = row.problems
    verdict = "failed" if row.failed else "looks wrong"
    table.add_row("verdict", f"[bold red]{verdict}:[/] " + "; ".join(problems) if problems else "ok", "")
    return table


if __name__ == "__main__":
    sys.exit(main())
