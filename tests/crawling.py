"""Run the real crawler in a child process, as a user would; shared by tests and benchmarks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class CrawlResult:
    records: list[dict[str, Any]]
    """The records this run wrote (its own files only)."""
    raw_output: bytes
    summary: dict[str, Any]
    log: str
    stderr: str
    returncode: int
    workdir: Path
    seconds: float

    @property
    def stats(self) -> dict[str, Any]:
        return self.summary.get("stats", {})


def run_crawl(workdir: Path, *arguments: str, timeout: float = 300) -> CrawlResult:
    """``scrapy crawl cnis`` in a child process with the project's own settings, from ``workdir``.

    Running from outside the checkout (settings chosen by SCRAPY_SETTINGS_MODULE) exercises the
    default FEEDS, state and summary paths, which are relative to the working directory.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    # The crawl's temporary files (a summary written aside) stay with the test's folder.
    temporary = workdir.parent / f"{workdir.name}.tmp"
    temporary.mkdir(exist_ok=True)
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings", "TMPDIR": str(temporary)}
    log_file = workdir / "crawl.log"
    before = set(output_files(workdir))
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "cnis", "-s", f"LOG_FILE={log_file}", *arguments],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.perf_counter() - started
    summaries = sorted((workdir / "output").glob("cnis-*.summary.json"))
    raw = b"".join(path.read_bytes() for path in output_files(workdir) if path not in before)
    return CrawlResult(
        records=[json.loads(line) for line in raw.decode("utf-8").splitlines()],
        raw_output=raw,
        summary=json.loads(summaries[-1].read_text(encoding="utf-8")) if summaries else {},
        log=log_file.read_text(encoding="utf-8") if log_file.exists() else completed.stderr,
        stderr=completed.stderr,
        returncode=completed.returncode,
        workdir=workdir,
        seconds=seconds,
    )


def output_files(workdir: Path) -> list[Path]:
    """The run files under ``workdir/output``, oldest run first."""
    return sorted((workdir / "output").glob("cnis-*.jsonl"))


def command_status(argv: list[str]) -> int:
    """The exit status of ``cnis-crawler <argv>`` run in this process: what it returns, or the
    status of argparse's exit for a usage error."""
    from cnis_crawler.tools.cli import main

    try:
        return main(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
