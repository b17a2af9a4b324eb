"""The crawler on a real Scrapyd: ``scrapyd-deploy`` builds and uploads the egg, a job crawls the
mirror, and its files land where the README says (``output/`` in Scrapyd's working directory).

The egg is built from a copy of the checkout, since scrapyd-deploy leaves ``build/`` and
``*.egg-info`` behind in the folder it builds in.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest

from tests.conftest import ROOT, assert_one_record_per_article

if TYPE_CHECKING:
    from collections.abc import Iterator

# scrapyd and scrapyd-deploy of the environment running the tests (the dev extra installs them).
BIN = Path(sys.executable).parent
PROJECT = "cnis_crawler"
# What the egg is built from; the rest of the checkout stays behind.
SOURCES = ("scrapy.cfg", "setup.py", "pyproject.toml", "README.md", "cnis_crawler")
STARTUP_SECONDS = 20
JOB_SECONDS = 60
LOG_ERROR_RE = re.compile(r"^\S+ \S+ \[[^\]]+\] (?:ERROR|CRITICAL): .*$", re.MULTILINE)


@dataclass
class Scrapyd:
    url: str
    directory: Path
    """Scrapyd's working directory, and so its jobs'."""
    process: subprocess.Popen[bytes]

    def get(self, endpoint: str, **query: str) -> dict[str, Any]:
        with urlopen(f"{self.url}{endpoint}?{urlencode(query)}", timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, form: list[tuple[str, str]]) -> dict[str, Any]:
        with urlopen(f"{self.url}{endpoint}", urlencode(form).encode(), timeout=10) as response:
            return json.load(response)

    def finished_jobs(self) -> set[str]:
        return {job["id"] for job in self.get("listjobs.json", project=PROJECT)["finished"]}

    def server_log(self) -> str:
        return (self.directory / "scrapyd.log").read_text(encoding="utf-8", errors="replace")

    def job_log(self, job: str) -> str:
        path = self.directory / "logs" / PROJECT / "cnis" / f"{job}.log"
        return path.read_text(encoding="utf-8") if path.exists() else f"(no job log at {path})"

    def diagnostics(self, job: str | None = None) -> str:
        parts = [f"scrapyd log:\n{self.server_log()[-4000:]}"]
        if job is not None:
            parts.append(f"job log:\n{self.job_log(job)[-4000:]}")
        return "\n\n".join(parts)


@dataclass
class Job:
    id: str
    log: str
    records: list[dict[str, Any]]
    """The records of the run files this job added to output/."""
    summary: dict[str, Any]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def isolated_environment(home: Path) -> dict[str, str]:
    """The tests' environment without what would let a job run other than from its egg's own
    entry point, and with a HOME of its own, so no ~/.scrapyd.conf or ~/.scrapy.cfg counts."""
    environment = {**os.environ, "HOME": str(home)}
    for name in ("SCRAPY_SETTINGS_MODULE", "SCRAPY_PROJECT", "SCRAPYD_HTTP_PORT", "XDG_CONFIG_HOME"):
        environment.pop(name, None)
    return environment


def stop(process: subprocess.Popen[bytes]) -> None:
    """End scrapyd and any job it still runs: they share the session it was started in."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def start_scrapyd(directory: Path) -> Scrapyd:
    directory.mkdir(parents=True, exist_ok=True)
    # The free port may be taken again before scrapyd binds it: then scrapyd exits, and another
    # port is tried.
    for _attempt in range(3):
        port = free_port()
        (directory / "scrapyd.conf").write_text(
            "[scrapyd]\n"
            "bind_address = 127.0.0.1\n"
            f"http_port = {port}\n"
            f"eggs_dir = {directory / 'eggs'}\n"
            f"logs_dir = {directory / 'logs'}\n"
            f"dbs_dir = {directory / 'dbs'}\n"
            # As the README asks: the project's own FEEDS and JOBDIR, not Scrapyd's.
            "items_dir =\n"
            "jobs_dir =\n"
            "poll_interval = 0.2\n"
            "max_proc = 1\n",
            encoding="utf-8",
        )
        with (directory / "scrapyd.log").open("wb") as log:
            process = subprocess.Popen(
                [BIN / "scrapyd"],
                cwd=directory,
                env=isolated_environment(directory),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        scrapyd = Scrapyd(f"http://127.0.0.1:{port}/", directory, process)
        deadline = time.monotonic() + STARTUP_SECONDS
        while process.poll() is None:
            with suppress(OSError):  # not listening yet
                if scrapyd.get("daemonstatus.json")["status"] == "ok":
                    return scrapyd
            if time.monotonic() > deadline:
                stop(process)
                pytest.fail(f"scrapyd did not answer within {STARTUP_SECONDS} s\n\n{scrapyd.diagnostics()}")
            time.sleep(0.1)
    pytest.fail(f"scrapyd exited three times (exit code {process.returncode})\n\n{scrapyd.diagnostics()}")


def deploy(scrapyd: Scrapyd, build_dir: Path) -> dict[str, Any]:
    """``scrapyd-deploy`` run as a user runs it, from a copy of the checkout whose scrapy.cfg has
    one more target: this server."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, build_dir / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, build_dir / name)
    with (build_dir / "scrapy.cfg").open("a", encoding="utf-8") as config:
        config.write(f"\n[deploy:test]\nurl = {scrapyd.url}\n")
    completed = subprocess.run(
        [BIN / "scrapyd-deploy", "test"],
        cwd=build_dir,
        env=isolated_environment(build_dir),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = f"scrapyd-deploy exited {completed.returncode}\n{completed.stdout}\n{completed.stderr}"
    assert completed.returncode == 0, output
    # scrapyd-deploy exits 0 on an error Scrapyd reports in an HTTP 200 answer, e.g. an egg whose
    # spiders cannot be listed; the answer is the last line it prints.
    lines = completed.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines else {}
    assert answer.get("status") == "ok", output
    return answer


def run_job(scrapyd: Scrapyd, *arguments: tuple[str, str]) -> Job:
    """Schedule the cnis spider with these arguments and wait until Scrapyd has finished it."""
    before = set(output_files(scrapyd.directory, "cnis-*"))
    form = [("project", PROJECT), ("spider", "cnis"), *arguments]
    answer = scrapyd.post("schedule.json", form)
    assert answer.get("status") == "ok", f"{answer}\n\n{scrapyd.diagnostics()}"
    job = answer["jobid"]
    deadline = time.monotonic() + JOB_SECONDS
    while job not in scrapyd.finished_jobs():
        if scrapyd.process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"job {job} did not finish within {JOB_SECONDS} s\n\n{scrapyd.diagnostics(job)}")
        time.sleep(0.2)
    added = [path for path in output_files(scrapyd.directory, "cnis-*") if path not in before]
    summaries = [path for path in added if path.name.endswith(".summary.json")]
    assert len(summaries) == 1, f"summaries written: {summaries}\n\n{scrapyd.diagnostics(job)}"
    return Job(
        id=job,
        log=scrapyd.job_log(job),
        records=[
            json.loads(line)
            for path in added
            if path.suffix == ".jsonl"
            for line in path.read_bytes().splitlines()
        ],
        summary=json.loads(summaries[0].read_text(encoding="utf-8")),
    )


def output_files(directory: Path, pattern: str) -> list[Path]:
    return sorted((directory / "output").glob(pattern))


def assert_finished_cleanly(scrapyd: Scrapyd, job: Job) -> None:
    assert "'finish_reason': 'finished'" in job.log, scrapyd.diagnostics(job.id)
    assert not LOG_ERROR_RE.findall(job.log), scrapyd.diagnostics(job.id)
    assert job.summary.get("finish_reason") == "finished", scrapyd.diagnostics(job.id)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrapyd]:
    server = start_scrapyd(tmp_path_factory.mktemp("scrapyd"))
    try:
        deploy(server, tmp_path_factory.mktemp("checkout"))
        yield server
    finally:
        stop(server.process)


@pytest.fixture(scope="module")
def first_job(scrapyd: Scrapyd, mirror_url: str) -> Job:
    return run_job(scrapyd, ("mirror", mirror_url))


@pytest.fixture(scope="module")
def second_job(scrapyd: Scrapyd, mirror_url: str, first_job: Job) -> Job:
    return run_job(scrapyd, ("mirror", mirror_url))


def test_the_deployed_project_lists_its_spider(scrapyd: Scrapyd) -> None:
    assert scrapyd.get("listspiders.json", project=PROJECT)["spiders"] == ["cnis"]


def test_the_egg_carries_the_crawler_and_no_test_tooling(scrapyd: Scrapyd) -> None:
    [egg] = (scrapyd.directory / "eggs").rglob("*.egg")
    with zipfile.ZipFile(egg) as archive:
        names = set(archive.namelist())
    assert {
        "cnis_crawler/settings.py",
        "cnis_crawler/crawling/spider.py",
        "cnis_crawler/memory/state.py",
    } <= names
    assert not [name for name in names if "fault" in name or name.startswith(("tests/", "benchmarks/"))]


def test_a_job_writes_every_article_into_output_of_the_working_directory(
    scrapyd: Scrapyd, first_job: Job
) -> None:
    assert_finished_cleanly(scrapyd, first_job)
    assert_one_record_per_article(first_job.records)


def test_the_next_job_is_incremental(scrapyd: Scrapyd, second_job: Job) -> None:
    """Both jobs share output/state.sqlite in Scrapyd's working directory: the second knows every
    article the first wrote, fetches none and writes nothing."""
    assert_finished_cleanly(scrapyd, second_job)
    assert second_job.records == []
    stats = second_job.summary["stats"]
    assert stats["incremental/skipped_known"] > 0
    # Listing pages, the pages read to find sections and robots.txt: no article was fetched again.
    beyond = stats["discovery/requests_beyond_listings"]
    assert stats["downloader/request_count"] == 1 + stats["incremental/listing_pages_read"] + beyond
