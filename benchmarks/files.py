"""What ``-a files=1`` adds to a crawl: wall time, requests and bytes on the offline mirror.

    python -m benchmarks.files [--rounds 5]      (from the repository root)

Serves tests/fixtures/site on loopback and runs the real crawler in child processes, each from
a fresh working directory, alternately without and with ``-a files=1`` (pairs, so that a drift
of the machine's speed moves both), then once more with files into the previous run's
``output/files/`` and a fresh crawl state (every file already stored: none fetched again).
Prints the median wall time of each, the files stored and dropped, and what they weigh.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import SITE
from tests.crawling import CrawlResult, run_crawl


def stored_bytes(crawl: CrawlResult) -> int:
    store = crawl.workdir / "output" / "files"
    return sum(path.stat().st_size for path in store.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.files", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    seconds: dict[str, list[float]] = {"without": [], "files=1": []}
    last: dict[str, CrawlResult] = {}
    with tempfile.TemporaryDirectory(prefix="cnis-files-") as temporary, running_mirror(SITE) as mirror:
        for number in range(args.rounds):
            for name, extra in (("without", ()), ("files=1", ("-a", "files=1"))):
                crawl = run_crawl(Path(temporary) / f"{name}-{number}", "-a", f"mirror={mirror}", *extra)
                assert crawl.returncode == 0, crawl.log[-2000:]
                seconds[name].append(crawl.seconds)
                last[name] = crawl
        with_files = last["files=1"]
        weight = stored_bytes(with_files)
        again = run_crawl(
            with_files.workdir, "-a", f"mirror={mirror}", "-a", "files=1", "-s", "CNIS_STATE_PATH="
        )
    stats, without = with_files.stats, statistics.median(seconds["without"])
    added = statistics.median(seconds["files=1"]) - without
    print(f"Mirror crawl, {len(with_files.records)} records; medians of {args.rounds} runs each")
    requests_without = last["without"].stats["downloader/request_count"]
    print(f"  without files        {without:6.2f} s  {requests_without:>4} requests")
    print(
        f"  -a files=1           {without + added:6.2f} s  {stats['downloader/request_count']:>4} requests"
        f"  ({added:+.2f} s, {added / without:+.0%}): {stats.get('file_status_count/downloaded', 0)} files"
        f" stored ({weight:,} bytes), {stats.get('file_status_count/dropped', 0)} dropped"
    )
    up_to_date, downloaded = (
        again.stats.get(f"file_status_count/{status}", 0) for status in ("uptodate", "downloaded")
    )
    print(
        f"  again, files stored  {again.seconds:6.2f} s  {up_to_date} files up to date, {downloaded} fetched"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
