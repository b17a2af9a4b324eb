"""Re-extraction from the archive, and what keeping the archive costs a crawl.

    python -m benchmarks.reextract [--articles 10000] [--rounds 3] [--crawl-rounds 2]

Generates a synthetic mirror (:mod:`benchmarks.big_mirror`), serves it on loopback and crawls it
as :mod:`benchmarks.throughput` does (the project's settings, archive on), then prints:

- the archive's size, per 1,000 articles;
- ``cnis-crawler reextract`` of that archive with one worker process and with two, taking turns
  ``--rounds`` times each (a machine's speed drifts: turns keep the drift out of the ratio):
  articles a second by the command's own time (what it prints: from its start to its summary,
  the process start-up and imports left out and shown apart as wall time), peak memory, and the
  speedup from the second core, each from the fastest round;
- with ``--crawl-rounds``, crawls with the archive on and off, taking turns (fresh folders): the
  crawl's time with the archive over its time without (fastest rounds; Scrapy's elapsed time).

Exits 1 when the re-extraction of two workers misses ``TARGET`` articles a second.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.big_mirror import generate
from benchmarks.throughput import Crawl, checkout_env, crawl, run_measured
from cnis_crawler import settings as project_settings
from cnis_crawler.tools.mirror import running_mirror

TARGET = 1500
SUMMARY_RE = re.compile(r"Re-extracted (?P<pages>[\d,]+) archived article pages in (?P<seconds>[\d.]+) s")


@dataclass
class Round:
    workers: int
    pages: int
    seconds: float
    wall_seconds: float
    max_rss_kib: int

    @property
    def rate(self) -> float:
        return self.pages / self.seconds


def reextract(output: Path, workers: int, workdir: Path) -> Round:
    workdir.mkdir(parents=True, exist_ok=True)
    env = checkout_env() | {"SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings"}
    command = [sys.executable, "-m", "cnis_crawler.tools.reextract", "--output", str(output)]
    returncode, wall, _, max_rss = run_measured([*command, "--workers", str(workers)], workdir, env)
    printed = (workdir / "console.txt").read_text(encoding="utf-8", errors="replace")
    if returncode != 0 or (found := SUMMARY_RE.search(printed)) is None:
        sys.exit(f"reextract --workers {workers} failed ({returncode}):\n{printed[-3000:]}")
    return Round(workers, int(found["pages"].replace(",", "")), float(found["seconds"]), wall, max_rss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.reextract", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--articles", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3, help="re-extractions per worker count, taking turns")
    parser.add_argument("--crawl-rounds", type=int, default=0, help="crawls with the archive on and off")
    args = parser.parse_args(argv)
    items = project_settings.CONCURRENT_ITEMS
    with tempfile.TemporaryDirectory(prefix="cnis-reextract-") as temporary:
        site = Path(temporary) / "site"
        mirror = generate(site, args.articles, args.seed)
        print(f"Mirror of {mirror.total_articles:,} articles, {mirror.bytes / 1e6:.1f} MB", flush=True)
        crawls: dict[str, list[Crawl]] = {"on": [], "off": []}
        with running_mirror(site) as url:
            output = Path(temporary) / "archived" / "output"
            archived = crawl("cnis", args.articles, url, output.parent, items)
            crawls["on"].append(archived)
            for turn in range(args.crawl_rounds):
                for archive in ("off", "on") if turn % 2 == 0 else ("on", "off"):
                    folder = Path(temporary) / f"crawl-{archive}-{turn}"
                    enabled = "1" if archive == "on" else "0"
                    crawls[archive].append(
                        crawl("cnis", args.articles, url, folder, items, CNIS_WARC_ENABLED=enabled)
                    )
        size = sum(path.stat().st_size for path in (output / "warc").glob("*.warc.gz"))
        print(
            f"Archive: {size / 1e6:.1f} MB for {args.articles:,} articles,"
            f" {size / args.articles * 1000 / 1e6:.2f} MB per 1,000 (crawl of {archived.seconds:.1f} s)"
        )
        rounds: dict[int, list[Round]] = {1: [], 2: []}
        for turn in range(args.rounds):
            for workers in (1, 2) if turn % 2 == 0 else (2, 1):
                done = reextract(output, workers, Path(temporary) / f"reextract-{workers}-{turn}")
                rounds[workers].append(done)
                print(
                    f"  reextract --workers {workers}: {done.pages:,} pages in {done.seconds:.2f} s"
                    f" ({done.rate:,.0f}/s), wall {done.wall_seconds:.2f} s, peak RSS"
                    f" {done.max_rss_kib / 1024:.0f} MiB",
                    flush=True,
                )
    return report(rounds, crawls)


def report(rounds: dict[int, list[Round]], crawls: dict[str, list[Crawl]]) -> int:
    best = {workers: max(done, key=lambda round_: round_.rate) for workers, done in rounds.items()}
    met = best[2].rate >= TARGET
    print(
        f"Re-extraction, fastest rounds: {best[1].rate:,.0f} articles/s on one core,"
        f" {best[2].rate:,.0f}/s on two (speedup {best[2].rate / best[1].rate:.2f});"
        f" target >= {TARGET:,}/s on two: {'met' if met else 'MISSED'}"
    )
    if crawls["off"]:
        on, off = (min(crawl_.seconds for crawl_ in crawls[name]) for name in ("on", "off"))
        print(
            f"Crawl time with the archive / without: {on / off:.3f} (fastest of {len(crawls['on'])}"
            f" and {len(crawls['off'])} crawls: {on:.1f} s against {off:.1f} s)"
        )
    return 0 if met else 1


if __name__ == "__main__":
    started = time.perf_counter()
    status = main()
    print(f"({time.perf_counter() - started:.0f} s)")
    sys.exit(status)
