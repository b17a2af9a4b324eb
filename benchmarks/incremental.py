"""What an incremental crawl saves: requests and wall time of a first crawl and of the next ones.

    python -m benchmarks.incremental [--articles 5000] [--seed 0]      (from the repository root)

Generates a synthetic mirror (:mod:`benchmarks.big_mirror`), serves it on loopback and runs the
real crawler in child processes, each from the same working directory (so with the same crawl
state):

1. a first crawl, state empty: every listing page and article;
2. the same again, mirror unchanged: the target is at most 2 % of the first crawl's requests;
3. after adding articles to the mirror: only the new ones are written;
4. ``-a revalidate=1`` after editing articles: every known article is asked about, the unchanged
   ones answer 304, and only the edited ones are written again.

Prints one row per crawl, and exits 1 if the 2 % target is missed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.big_mirror import add_articles, edit_articles, generate
from cnis_crawler.tools.mirror import running_mirror
from tests.crawling import CrawlResult, run_crawl

TARGET_RATIO = 0.02
ADDED = 25
EDITED = 10


def row(name: str, crawl: CrawlResult) -> str:
    stats = crawl.stats
    counts = (
        stats.get("downloader/request_count", 0),
        stats.get("downloader/response_status_count/304", 0),
        stats.get("incremental/listing_pages_read", 0),
        len(crawl.records),
        stats.get("incremental/skipped_known", 0),
        stats.get("incremental/unchanged", 0),
    )
    return f"{name:34} " + " ".join(f"{count:>9}" for count in counts) + f" {crawl.seconds:>8.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.incremental", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cnis-incremental-") as temporary:
        site, work = Path(temporary) / "site", Path(temporary) / "work"
        started = time.perf_counter()
        mirror = generate(site, args.articles, args.seed)
        print(
            f"Mirror: {mirror.total_articles} articles, {sum(mirror.listing_pages.values())} listing pages,"
            f" {mirror.bytes / 1e6:.1f} MB, generated in {time.perf_counter() - started:.1f} s"
        )
        print(
            f"{'crawl':34} {'requests':>9} {'304':>9} {'listings':>9} {'records':>9}"
            f" {'skipped':>9} {'unchanged':>9} {'seconds':>8}"
        )
        with running_mirror(site) as url:

            def crawl(name: str, *arguments: str) -> CrawlResult:
                result = run_crawl(work, "-a", f"mirror={url}", *arguments, timeout=3600)
                if result.returncode != 0:
                    sys.exit(f"{name} failed:\n{result.log[-3000:]}")
                print(row(name, result), flush=True)
                return result

            first = crawl("1. first crawl")
            second = crawl("2. again, nothing changed")
            add_articles(site, ADDED, args.seed)
            crawl(f"3. after adding {ADDED} articles")
            edit_articles(site, EDITED, args.seed)
            crawl(f"4. revalidate after {EDITED} edits", "-a", "revalidate=1")
    ratio = second.stats["downloader/request_count"] / first.stats["downloader/request_count"]
    time_ratio = second.seconds / first.seconds
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(
        f"Second crawl / first crawl: requests {ratio:.2%} (target <= {TARGET_RATIO:.0%}: {verdict}),"
        f" wall time {time_ratio:.1%} (the rest is Python and Scrapy starting up)"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
