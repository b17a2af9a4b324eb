"""Crawl throughput and memory: the real crawler against a plain link-following Scrapy spider.

    python -m benchmarks.throughput [--sizes 1000 10000] [--seed 0]     (from the repository root)

For each size, generates a synthetic mirror (:mod:`benchmarks.big_mirror`), serves it on loopback
and crawls it with two crawlers, each crawl a child process in a fresh working directory:

- ``cnis``: ``scrapy crawl cnis -a sections=known`` with the project's settings (spider, pipelines,
  crawl state, worker process reading pages, feeds, summary), as :func:`tests.crawling.run_crawl`
  runs it, reading site.py's sections as the plain spider does;
- ``plain``: :mod:`benchmarks.plain_spider`, the same discovery and nothing else, with Scrapy's
  default settings (memory queue, no pipelines, no feed).

Both get the same settings for a server on loopback (``CRAWL_SETTINGS``): no AutoThrottle, no
delay, 16 requests at a time (Scrapy's default total, all on the one mirror host), robots.txt
obeyed, log level INFO (Scrapy's default is DEBUG, a line per request, which the real crawl does
not pay), and the same ``CONCURRENT_ITEMS`` (``--concurrent-items``; the project's own value by
default), so that only the code differs. They must fetch the same pages.

The two crawlers take turns, ``--rounds`` times each (cnis, plain, plain, cnis …): this machine's
speed drifts by up to a fifth from one minute to the next, and taking turns keeps the drift out of
the ratio. Each crawler's fastest round counts. Prints per crawl the pages fetched, the crawl's
own time (Scrapy's ``elapsed_time_seconds``, spider opened to closed: process start-up does not
grow with a crawl, so it is left out of the rate and shown apart as wall time), pages per minute
and peak memory (the child's maximum RSS, from ``os.wait4`` on that child alone); then
``extract_article``'s milliseconds per page, timed in this process over the mirror's article
files. Exits 1 when a target is missed:

- throughput: ``cnis`` pages per minute at least 0.8 times ``plain``'s, at every size;
- memory: the ``cnis`` crawl's peak RSS at the largest size at most 1.3 times that at the smallest
  (the highest of its rounds).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.big_mirror import generate, load_records
from cnis_crawler import settings as project_settings
from cnis_crawler.extraction import extract_article
from cnis_crawler.extraction.encoding import decode_html
from cnis_crawler.tools.mirror import running_mirror

REPO = Path(__file__).resolve().parent.parent
PLAIN_SPIDER = Path(__file__).resolve().parent / "plain_spider.py"
SIZES = (1000, 10000)
TARGET_RATIO = 0.8
TARGET_MEMORY = 1.3
CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "0",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "ROBOTSTXT_OBEY": "1",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "0",
}
# Article pages timed per mirror: the pages come from the same templates at every size, so a
# sample of the large mirror says as much as all of it, in a tenth of the time.
EXTRACTION_SAMPLE = 1000
TIMEOUT = 900
# A number in Scrapy's closing stats dump (a pprint of the stats dict, one key per line).
STAT_RE = re.compile(r"^[{ ]'(?P<key>[^']+)': (?P<value>\d+(?:\.\d+)?)[,}]", re.MULTILINE)


@dataclass
class Crawl:
    name: str
    articles: int
    stats: dict[str, float]
    wall_seconds: float
    cpu_seconds: float
    max_rss_kib: int
    log: str

    @property
    def pages(self) -> int:
        return int(self.stats.get("response_received_count", 0))

    @property
    def seconds(self) -> float:
        return self.stats.get("elapsed_time_seconds", self.wall_seconds)

    @property
    def pages_per_minute(self) -> float:
        return self.pages / self.seconds * 60

    @property
    def max_rss_mib(self) -> float:
        return self.max_rss_kib / 1024


def run_measured(command: list[str], workdir: Path, env: dict[str, str]) -> tuple[int, float, float, int]:
    """Run ``command`` in ``workdir``; (exit code, wall seconds, CPU seconds, maximum RSS in KiB).

    ``resource.getrusage(RUSAGE_CHILDREN)`` would give the largest of every child reaped so far
    (the earlier crawls' too); ``os.wait4`` gives this child's own. It is polled rather than
    waited for, so that a hung crawl can be killed after ``TIMEOUT``.
    """
    with (workdir / "console.txt").open("wb") as console:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=workdir, env=env, stdout=console, stderr=subprocess.STDOUT)
        deadline = started + TIMEOUT
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
            time.sleep(0.02)
        wall = time.perf_counter() - started
    # Reaped here, not by Popen: tell it, or it would wait for the process again.
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss  # KiB on Linux


def checkout_env() -> dict[str, str]:
    """The environment of a child that imports this checkout's code, whichever cnis-crawler the
    interpreter has installed."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }


def crawl(
    name: str, articles: int, url: str, workdir: Path, concurrent_items: int, **settings_: str
) -> Crawl:
    """``settings_``: more settings of the crawl (``CNIS_WARC_ENABLED="0"``)."""
    workdir.mkdir(parents=True)
    log_file = workdir / "crawl.log"
    shared = {**CRAWL_SETTINGS, "CONCURRENT_ITEMS": str(concurrent_items), **settings_}
    settings = [arg for key, value in shared.items() for arg in ("-s", f"{key}={value}")]
    settings += ["-s", f"LOG_FILE={log_file}"]
    env = checkout_env()
    if name == "cnis":
        env["SCRAPY_SETTINGS_MODULE"] = "cnis_crawler.settings"
        # site.py's sections, as the plain spider: finding others on the sites costs requests of its
        # own (the home pages, each folder the menus link), counted by benchmarks.incremental.
        command = [
            *(sys.executable, "-m", "scrapy", "crawl", "cnis", "-a", f"mirror={url}", "-a", "sections=known"),
            *settings,
        ]
    else:
        env.pop("SCRAPY_SETTINGS_MODULE", None)  # Scrapy's defaults: no project around the plain spider
        command = [sys.executable, "-m", "scrapy", "runspider", str(PLAIN_SPIDER), "-a", f"mirror={url}"]
        command += settings
    returncode, wall, cpu, max_rss = run_measured(command, workdir, env)
    log = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
    if returncode != 0:
        console = (workdir / "console.txt").read_text(encoding="utf-8", errors="replace")
        sys.exit(f"{name} crawl of {articles} articles failed ({returncode}):\n{(log or console)[-3000:]}")
    dump = log[log.rfind("Dumping Scrapy stats") :]
    stats = {match["key"]: float(match["value"]) for match in STAT_RE.finditer(dump)}
    return Crawl(name, articles, stats, wall, cpu, max_rss, log)


def extraction_ms(site: Path, sample: int) -> list[float]:
    """Milliseconds of ``extract_article`` per article page of the mirror (about ``sample`` pages,
    evenly spread), on the text the crawl would hand it (decoded as the spider decodes)."""
    records = load_records(site)
    step = max(1, len(records) // sample)
    timings = []
    for record in records[::step]:
        html = decode_html((site / record.host / record.path).read_bytes(), "text/html")
        started = time.perf_counter()
        extract_article(html, record.live_url)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def row(crawl: Crawl) -> str:
    return (
        f"{crawl.articles:>8,} {crawl.name:7} {crawl.pages:>7,} {crawl.seconds:>8.2f}"
        f" {crawl.wall_seconds:>7.2f} {crawl.cpu_seconds:>6.1f} {crawl.pages_per_minute:>10,.0f}"
        f" {crawl.max_rss_mib:>12.1f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.throughput", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="articles per mirror")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="crawls per crawler and size, taking turns")
    parser.add_argument(
        "--concurrent-items",
        type=int,
        default=project_settings.CONCURRENT_ITEMS,
        help="CONCURRENT_ITEMS of both crawlers (default: the project's; Scrapy's own default is 100)",
    )
    args = parser.parse_args(argv)
    shared = " ".join(f"{key}={value}" for key, value in CRAWL_SETTINGS.items())
    print(f"Settings of both crawls: {shared} CONCURRENT_ITEMS={args.concurrent_items}")
    rounds: dict[int, dict[str, list[Crawl]]] = {}
    timings: dict[int, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="cnis-throughput-") as temporary:
        for size in args.sizes:
            site = Path(temporary) / f"site-{size}"
            started = time.perf_counter()
            mirror = generate(site, size, args.seed)
            print(
                f"Mirror of {mirror.total_articles:,} articles: {sum(mirror.listing_pages.values())} listing"
                f" pages, {mirror.bytes / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s",
                flush=True,
            )
            rounds[size] = {"cnis": [], "plain": []}
            with running_mirror(site) as url:
                for turn in range(args.rounds):
                    # cnis, plain, plain, cnis …: a machine slowing down steadily favours neither.
                    order = ("cnis", "plain") if turn % 2 == 0 else ("plain", "cnis")
                    for name in order:
                        workdir = Path(temporary) / f"work-{size}-{name}-{turn}"
                        rounds[size][name].append(crawl(name, size, url, workdir, args.concurrent_items))
            timings[size] = extraction_ms(site, EXTRACTION_SAMPLE)
            expected = 1 + sum(mirror.listing_pages.values()) + size
            for crawl_ in rounds[size]["cnis"] + rounds[size]["plain"]:
                if crawl_.pages != expected:
                    sys.exit(f"{crawl_.name} fetched {crawl_.pages} pages of {size} articles' {expected}")
                if crawl_.name == "cnis" and crawl_.stats.get("item_scraped_count") != size:
                    sys.exit(
                        f"The cnis crawl of {size} articles wrote {crawl_.stats.get('item_scraped_count')}"
                    )
    return report(rounds, timings)


def report(rounds: dict[int, dict[str, list[Crawl]]], timings: dict[int, list[float]]) -> int:
    """Prints every crawl, then the targets from each crawler's fastest round; 1 if one is missed."""
    print()
    print(
        f"{'articles':>8} {'crawler':7} {'pages':>7} {'crawl s':>8} {'wall s':>7} {'CPU s':>6}"
        f" {'pages/min':>10} {'peak RSS MiB':>12}"
    )
    for crawls in rounds.values():
        for turn in zip(crawls["cnis"], crawls["plain"], strict=True):
            for crawl_ in turn:
                print(row(crawl_))
    print()
    met = True
    for size, crawls in rounds.items():
        best = {name: min(done, key=lambda crawl_: crawl_.seconds) for name, done in crawls.items()}
        ratio = best["cnis"].pages_per_minute / best["plain"].pages_per_minute
        # Wall time also counts what happens after the spider closes (the crawl state, the summary,
        # the feed files): left out of Scrapy's elapsed time, so shown apart.
        wall_ratio = min(c.wall_seconds for c in crawls["plain"]) / min(
            c.wall_seconds for c in crawls["cnis"]
        )
        turns = ", ".join(
            f"{cnis.pages_per_minute / plain.pages_per_minute:.2f}"
            for cnis, plain in zip(crawls["cnis"], crawls["plain"], strict=True)
        )
        met &= ratio >= TARGET_RATIO
        ms = timings[size]
        share = statistics.fmean(ms) * size / 1000 / best["cnis"].seconds
        print(
            f"{size:>8,} articles: throughput cnis/plain {ratio:.2f} (fastest rounds; each turn {turns};"
            f" by wall time {wall_ratio:.2f})"
            f" (target >= {TARGET_RATIO}: {'met' if ratio >= TARGET_RATIO else 'MISSED'});"
            f" extract_article {statistics.median(ms):.2f} ms/page median, {statistics.fmean(ms):.2f} mean"
            f" over {len(ms)} pages, {share:.0%} of the cnis crawl's time"
        )
    if len(rounds) > 1:
        small, large = min(rounds), max(rounds)

        def peak(size: int, name: str) -> int:
            return max(crawl_.max_rss_kib for crawl_ in rounds[size][name])

        growth = peak(large, "cnis") / peak(small, "cnis")
        met &= growth <= TARGET_MEMORY
        print(
            f"Peak memory of the cnis crawl at {large:,} / at {small:,} articles: {growth:.2f}"
            f" (target <= {TARGET_MEMORY}: {'met' if growth <= TARGET_MEMORY else 'MISSED'});"
            f" plain: {peak(large, 'plain') / peak(small, 'plain'):.2f}"
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
