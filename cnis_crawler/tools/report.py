"""One self-contained HTML page on the crawl: ``cnis-crawler report``
(or ``python -m cnis_crawler.tools.report``).

The page needs nothing but itself (no script, font or stylesheet from anywhere): a headline
saying whether the last run was healthy, the articles per section and month, the newest
articles, and the accounting of the last runs. Sources, each for what it is authoritative on:
the run files (the dataset, read as the export reads them), the crawl state's
``runs`` and ``versions`` tables (what each run counted and stored), and each run's summary JSON
(listing pages, drops and lost articles per section; absent when a run was killed).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from cnis_crawler.crawling import drops
from cnis_crawler.crawling.extensions import OUTPUT_NOT_STORED
from cnis_crawler.memory.files import write_atomically
from cnis_crawler.memory.reader import StateReader, StateUnreadableError
from cnis_crawler.memory.state import (
    GONE,
    NO_LISTING,
    REEXTRACT_FAILED,
    REEXTRACT_MODE,
    REEXTRACTED,
    SectionVerdict,
)
from cnis_crawler.site import SECTIONS
from cnis_crawler.tools.cli import fail, plain
from cnis_crawler.tools.export import (
    Filters,
    RunFiles,
    add_crawl_arguments,
    build,
    counted,
    crawl_of,
    crawl_paths,
    damaged_files,
    read_run_files,
)
from cnis_crawler.urls import section_of

SUMMARIES = "cnis-*.summary.json"
INCREMENTAL_STATS = "incremental/"
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#9c755f", "#bab0ac")


@dataclass
class Run:
    run_id: str
    """The start time, UTC, as the run's files are named: ``2026-11-24T03-17-00.123456``."""
    finished: str | None = None
    finish_reason: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    """The crawl's ``incremental/*`` counters: new, changed, unchanged, aliases, skipped_known …"""
    stored: Counter[str] | None = None
    """Records in this run's files by ``change`` (``new``, ``changed``): a killed run's too."""
    sections: dict[str, dict[str, Any]] | None = None
    """The summary's per-section accounting; None when the run wrote no summary."""
    mode: str = ""

    @property
    def reextraction(self) -> bool:
        """A run of ``cnis-crawler reextract``: no crawl, no summary; its failures in its counters."""
        return self.mode == REEXTRACT_MODE

    @property
    def started(self) -> datetime:
        return datetime.strptime(self.run_id[:19].replace(":", "-"), "%Y-%m-%dT%H-%M-%S").replace(tzinfo=UTC)

    def total(self, counter: str) -> int:
        return sum(row.get(counter, 0) for row in (self.sections or {}).values())

    @property
    def lost(self) -> int:
        """Linked articles that ended as nothing. A section of a resumed run can count more
        settled than linked (its queue held articles linked before the kill): that is no find."""
        return sum(max(row.get("unaccounted", 0), 0) for row in (self.sections or {}).values())

    def written(self, change: str) -> int:
        return self.stored[change] if self.stored is not None else self.counters.get(change, 0)

    @property
    def dropped(self) -> Counter[str]:
        if self.reextraction:
            failed = {
                name.removeprefix(REEXTRACT_FAILED): n
                for name, n in self.counters.items()
                if name.startswith(REEXTRACT_FAILED)
            }
            return Counter(failed)
        return sum((Counter(row.get("dropped", {})) for row in (self.sections or {}).values()), Counter())

    @property
    def problems(self) -> list[str]:
        if self.finish_reason is None:
            return ["did not finish: killed, or still running"]
        if self.finish_reason == OUTPUT_NOT_STORED:
            found = ["output not stored: a feed file or the summary could not be written"]
        else:
            found = [] if self.finish_reason == "finished" else [f"stopped early: {self.finish_reason}"]
        if self.sections is None and not self.reextraction:
            found.append("no summary")
        # A drop that may pass (a timeout, a 5xx) costs an article until the next run fetches it.
        retried = sum(n for name, n in self.dropped.items() if not getattr(drops, name, drops.Drop).permanent)
        facts = (
            (self.lost, "linked articles lost"),
            (self.total("listing_pages_failed"), "listing pages failed"),
            (retried, "drops to retry"),
            (self.counters.get("not_stored", 0), "records not stored"),
        )
        return found + [f"{count} {what}" for count, what in facts if count]


@dataclass
class Report:
    articles: list[dict[str, Any]]
    """The latest version of each article, oldest date first (the export's rows)."""
    by_month: dict[str, Counter[str]]
    """Articles per month (``YYYY-MM``) and section key."""
    section_names: dict[str, str]
    """Section key → its trail, in the site's order."""
    runs: list[Run]
    """Newest first."""
    generated_at: datetime
    skipped_lines: int = 0
    export: Path | None = None
    """The manifest of the dataset exported from the crawl's output folder, if there is one."""
    missing: int = 0
    """Articles the crawl state counts as written that no run file holds (a file lost or cut)."""
    damaged_files: str = ""
    """Which run files lost them, as :func:`~cnis_crawler.tools.export.damaged_files` tells."""
    sections: list[SectionVerdict] = field(default_factory=list)
    """What the crawls made of every section, known and found on the sites (the crawl state's)."""


def section_key(article: dict[str, Any]) -> tuple[str, str]:
    section = section_of(article["url"])
    # A section found on the site has no trail of ours: the record's breadcrumb names it.
    return (
        (section.key, section.trail or article["section"])
        if section
        else (f"{article['site']}/?", article["section"])
    )


def read_runs(output_dir: Path, files_read: RunFiles, state: StateReader) -> list[Run]:
    """Every run the state, a summary or a run file knows, newest first."""
    runs: dict[str, Run] = {}
    for row in state.runs():
        runs[row.run_id] = Run(row.run_id, row.finished, row.finish_reason, row.accounting, mode=row.mode)
    # A file is named by the run that wrote it, also when a later run adopted it after a kill.
    for name, (records, _) in files_read.items():
        run_id = name.removeprefix("cnis-").rpartition("-")[0]
        run = runs.setdefault(run_id, Run(run_id))
        run.stored = (run.stored or Counter()) + Counter(record["change"] for record in records)
    for path in output_dir.glob(SUMMARIES):
        summary = json.loads(path.read_text(encoding="utf-8"))
        run_id = path.name.removeprefix("cnis-").removesuffix(".summary.json")
        run = runs.setdefault(run_id, Run(run_id))
        run.sections = summary["sections"]
        run.finish_reason = run.finish_reason or summary["finish_reason"]
        if not run.counters:  # a state kept in memory: the summary has the same counters
            stats = summary["stats"].items()
            run.counters = {
                k.removeprefix(INCREMENTAL_STATS): v for k, v in stats if k.startswith(INCREMENTAL_STATS)
            }
    return sorted(runs.values(), key=lambda run: run.run_id, reverse=True)


def gather(output_dir: Path, now: datetime | None = None, state: StateReader | None = None) -> Report:
    state = state or crawl_paths(output_dir, None)[1]
    files_read = read_run_files(output_dir)
    dataset = build(output_dir, Filters(), files_read=files_read, state=state)
    by_month: dict[str, Counter[str]] = {}
    names = {section.key: section.trail for section in SECTIONS}
    for article in dataset.rows:
        key, trail = section_key(article)
        names.setdefault(key, trail)
        by_month.setdefault(article["date"][:7], Counter())[key] += 1
    present = {key for counter in by_month.values() for key in counter}
    # site.py's sections in its order, then those found on the sites by key.
    known = {section.key for section in SECTIONS}
    names = {key: trail for key, trail in names.items() if key in present and key in known} | dict(
        sorted((key, trail) for key, trail in names.items() if key in present and key not in known)
    )
    runs = read_runs(output_dir, files_read, state)
    manifest = output_dir / "export" / "manifest.json"
    return Report(
        dataset.rows,
        by_month,
        names,
        runs,
        now or datetime.now(UTC),
        dataset.skipped_lines,
        manifest if manifest.is_file() else None,
        len(dataset.missing),
        damaged_files(dataset) if dataset.changed_files else "",
        [verdict for verdict in state.sections() if verdict.kind != NO_LISTING],
    )


# Rendering -------------------------------------------------------------------------------------

CSS = """
body{font:14px/1.4 system-ui,sans-serif;color:#222;margin:1.5em auto;max-width:1100px;padding:0 1em}
svg{max-width:100%;height:auto}table{display:block;max-width:100%;overflow-x:auto}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.6em 0 .4em}a{color:#1f5f9f}
.headline{display:flex;gap:2.5em;flex-wrap:wrap;padding:.6em 1em;border-left:6px solid #59a14f}
.headline{background:#f3f8f1}.headline.bad{border-color:#e15759;background:#fdf1f1}.muted{color:#666}
.headline b{font-size:1.3em}table{border-collapse:collapse;margin-top:.4em}.newest,.runs{width:100%}
th,td{padding:2px 6px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}th{background:#f4f4f4}
.runs td{white-space:nowrap}.runs td:last-child{white-space:normal;min-width:9em}
tr.bad td{background:#fdf1f1}
.sections :is(td,th):nth-child(3),.runs :is(td,th):nth-child(n+4):nth-child(-n+8),
.runs :is(td,th):nth-child(n+10):nth-child(-n+11){text-align:right;font-variant-numeric:tabular-nums}
.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.4em}
svg{width:100%;height:auto}svg text{font-size:11px;fill:#555}
"""


def table(name: str, header: tuple[str, ...], rows: list[str]) -> str:
    head = "".join(f"<th>{escape(cell)}</th>" for cell in header)
    return f'<table class="{name}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def tr(cells: list[str], attributes: str = "") -> str:
    """A row of cells that are HTML already: each escaped where it was made."""
    return f"<tr{attributes}>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def months_between(first: str, last: str) -> list[str]:
    start, end = (int(month[:4]) * 12 + int(month[5:]) - 1 for month in (first, last))
    return [f"{n // 12:04d}-{n % 12 + 1:02d}" for n in range(start, end + 1)]


def chart(report: Report) -> str:
    """A bar per month with articles, stacked by section, on a month axis without gaps: a
    section that stopped publishing shows as a gap, not as a shorter axis."""
    if not report.by_month:
        return "<p>No articles yet.</p>"
    months = months_between(min(report.by_month), max(report.by_month))
    width, height, left, bottom = 960, 180, 30, 20
    slot, most = (width - left) / len(months), max(sum(c.values()) for c in report.by_month.values())
    scale = (height - bottom - 8) / most
    colors = {key: COLORS[i % len(COLORS)] for i, key in enumerate(report.section_names)}
    parts = []
    for tick in sorted({0, most // 2, most}):
        y = height - bottom - tick * scale
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')  # fmt: skip
    every = math.ceil(32 / (slot * 12))  # years from one label to the next, so that none overlap
    for index, month in enumerate(months):
        x = left + index * slot
        if month.endswith("-01") and int(month[:4]) % every == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - 5}">{month[:4]}</text>')
        if not (counts := report.by_month.get(month)):
            continue
        y, total = height - bottom, sum(counts.values())
        bars = [f"<title>{month}: {counted(total, 'article')}</title>"]
        for key in (key for key in report.section_names if counts[key]):
            y -= (bar := counts[key] * scale)
            bars.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(slot - 1, 1):.1f}" height="{bar:.1f}"'
                f' fill="{colors[key]}"><title>{month} {escape(key)}: {counts[key]}</title></rect>'
            )
        parts.append(f'<g class="month" data-month="{month}" data-count="{total}">{"".join(bars)}</g>')
    label = f"Articles per month from {months[0]} to {months[-1]}, stacked by section"
    legend = [
        tr([f'<span class="swatch" style="background:{colors[key]}"></span>{escape(key)}', escape(trail),
            str(sum(counts[key] for counts in report.by_month.values()))])
        for key, trail in report.section_names.items()
    ]  # fmt: skip
    return (
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{label}">{"".join(parts)}</svg>'
        + table("sections", ("section", "trail", "articles"), legend)
    )


def sections_table(report: Report) -> str:
    """Every section the crawls read, per host: known (site.py), crawled or skipped (found on the
    sites), gone; how many articles its first listing page linked, and its records."""
    if not report.sections:
        return "<p>No crawl has told its sections yet.</p>"
    records = Counter(section_key(article)[0] for article in report.articles)
    rows = [
        tr([escape(verdict.key), escape(verdict.kind),
            "-" if verdict.first_page_articles is None else str(verdict.first_page_articles),
            str(records[verdict.key]), escape(verdict.why), escape(verdict.found_run[:10])],
           f' class="section{" bad" if verdict.kind == GONE else ""}"')
        for verdict in sorted(report.sections, key=lambda verdict: verdict.key)
    ]  # fmt: skip
    header = ("section", "kind", "page 1 lists", "records", "why", "first told")
    return table("found", header, rows)


def newest(report: Report, count: int = 20) -> str:
    rows = [
        tr([escape(a["date"]), escape(section_key(a)[1]), escape(a["source"] or ""),
            f'<a href="{escape(a["url"])}">{escape(a["title"])}</a>'], f' lang="{escape(a["lang"])}"')
        for a in report.articles[::-1][:count]
    ]  # fmt: skip
    return table("newest", ("date", "section", "source", "title"), rows)


def run_row(run: Run) -> str:
    summary = run.sections is not None
    result = run.finish_reason or "unfinished"
    per_section = "; ".join(
        f"{key} {row['listing_pages_fetched']}/{row['listing_pages_declared']}"
        for key, row in (run.sections or {}).items()
    )
    pages = f"{run.total('listing_pages_fetched')}/{run.total('listing_pages_declared')}"
    if stopped := run.counters.get("sections_stopped_early"):  # incremental: by design
        pages += f" ({stopped} sections stopped at known articles)"
    counted = [
        run.counters.get(name, 0) if run.counters else "-"
        for name in ("unchanged", "aliases", "skipped_known")
    ]
    took = run.finished and duration((datetime.fromisoformat(run.finished) - run.started).total_seconds())
    cells = [
        f"{run.started:%Y-%m-%d %H:%M:%S}",
        escape(took or "-"),
        escape(f"re-extraction {result}" if run.reextraction else result),
        *map(str, [run.written("new"), run.written("changed") + run.written(REEXTRACTED), *counted]),
        escape(", ".join(f"{name}={n}" for name, n in sorted(run.dropped.items())) or "-")
        if summary or run.reextraction else "no summary",
        f'<span title="{escape(per_section)}">{pages}</span>' if summary else "-",
        str(run.lost) if summary else "-",
        escape(", ".join(run.problems)) or "ok",
    ]  # fmt: skip
    return tr(cells, f' class="run{" bad" if run.problems else ""}" data-run="{escape(run.run_id)}"')


def runs_table(report: Report, count: int = 10) -> str:
    header = ("started (UTC)", "took", "result", "new", "changed", "unchanged", "aliases", "known",
              "dropped", "listing pages read/declared", "lost", "health")  # fmt: skip
    return table("runs", header, [run_row(run) for run in report.runs[:count]])


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    hours = seconds / 3600
    return (
        f"{hours * 60:.0f} min"
        if hours < 1.5
        else f"{hours:.0f} h"
        if hours < 48
        else f"{hours / 24:.0f} days"
    )


def headline(report: Report) -> str:
    dates = [a["date"] for a in report.articles]
    aliases = sum(len(a.get("aliases", [])) for a in report.articles)
    # The crawl's health and age: a re-extraction since is no crawl, and is told beside it.
    last = next((run for run in report.runs if not run.reextraction), None)
    problems = last.problems if last else ["no run yet"]
    if report.missing:  # a run file lost or cut short since: the next crawl fetches them again
        gap = (
            f"{report.missing} articles known to the crawl state are in no run file ({report.damaged_files})"
        )
        problems = [*problems, gap]
    elif report.damaged_files:  # an edit that lost no record
        problems = [*problems, f"{report.damaged_files} since the crawl stored it"]
    run = "none" if last is None else (
        f"{last.started:%Y-%m-%d %H:%M} UTC: {last.finish_reason or 'unfinished'},"
        f" {last.written('new')} new, {last.written('changed')} changed"
    )  # fmt: skip
    if report.runs and (newest := report.runs[0]).reextraction:
        run += (
            f"; re-extracted {newest.started:%Y-%m-%d %H:%M} UTC: {newest.finish_reason or 'unfinished'},"
            f" {newest.written(REEXTRACTED)} new versions, {sum(newest.dropped.values())} pages failed"
        )
    health = "; ".join(problems) or "healthy: nothing lost, nothing failed"
    if last:  # an old last run is news too: the scheduled crawls stopped
        health += f" ({duration((report.generated_at - last.started).total_seconds())} before this report)"
    return (
        f'<div class="headline{" bad" if problems else ""}">'
        f'<div><b id="total">{len(report.articles)}</b> articles<br><span class="muted">and {aliases}'
        f' aliases</span></div><div><b id="span">{min(dates, default="-")} … {max(dates, default="-")}'
        f'</b><br><span class="muted">article dates</span></div><div>last run <b id="last-run">'
        f'{escape(run)}</b><br><span id="health">{escape(health)}</span></div></div>'
    )


def export_link(report: Report, page: Path | None) -> str:
    """Where the dataset is, linked from the page at ``page`` (its folder's relative path)."""
    if report.export is None:
        return " No export yet: <code>cnis-crawler export</code> writes it."
    href = Path(os.path.relpath(report.export, page.parent)).as_posix() if page else report.export.as_uri()
    return f' The dataset: <a id="export" href="{escape(href)}">the export\'s manifest</a>.'


def render(report: Report, page: Path | None = None) -> str:
    skipped = report.skipped_lines and f" {report.skipped_lines} lines of the run files were no records."
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>CNIS crawl report</title><style>{CSS}</style></head><body>"
        f"<h1>CNIS crawl report</h1>{headline(report)}<p>{export_link(report, page).strip()}</p>"
        f"<h2>Articles per section and month</h2>{chart(report)}"
        f"<h2>Sections, known and found on the sites</h2>{sections_table(report)}"
        f"<h2>Newest articles</h2>{newest(report)}"
        f"<h2>Last runs</h2>{runs_table(report)}"
        f'<p class="muted">Generated {report.generated_at:%Y-%m-%d %H:%M} UTC by cnis-crawler report.'
        f"{skipped or ''} A bar, or a run's listing pages, shows its numbers on hover.</p></body></html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cnis-crawler report", description=plain(__doc__))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    add_crawl_arguments(parser)
    parser.add_argument("--out", type=Path, help="the page to write (default: OUTPUT/report.html)")
    args = parser.parse_args(argv)
    logging.basicConfig(format="%(levelname)s: %(message)s")
    args.output, state = crawl_of(parser, args)
    try:
        report = gather(args.output, state=state) if args.output.is_dir() else None
    except StateUnreadableError as error:
        return fail(parser.prog, str(error))
    if report is None or not (report.articles or report.runs):
        return fail(parser.prog, f"no crawl in {args.output}: no run files, state or summaries")
    out = args.out or args.output / "report.html"
    if out.is_dir():
        return fail(
            parser.prog, f"--out {out} is a folder: name the page to write (e.g. {out / 'report.html'})"
        )
    page = render(report, out).encode("utf-8")
    try:
        write_atomically(out, page)
    except OSError as error:
        return fail(parser.prog, f"cannot write {out}: {error.strerror or error}")
    articles, runs = counted(len(report.articles), "article"), counted(len(report.runs), "run")
    print(f"{articles} and {runs} in {out} ({len(page):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
