"""Scrapy's own tools inside the project: ``scrapy shell`` looks at a page and writes nothing;
``-O x.csv`` writes nested fields as JSON text."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from cnis_crawler.tools.cli import main as cli
from tests.crawling import run_crawl

if TYPE_CHECKING:
    from pathlib import Path


def test_scrapy_shell_returns_at_once_and_writes_nothing(mirror_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings"}
    url = f"{mirror_url}/en.cnis.ac.cn/xwdt/bydt/index.shtml"
    shell = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "shell",
            url,
            "-c",
            "(response.status, response.css('title::text').get())",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stdout.startswith("(200, "), shell.stdout
    assert "Traceback" not in shell.stderr
    assert "WARNING" not in shell.stderr
    assert list(tmp_path.iterdir()) == [], "no crawl state, run file or summary"


def test_dash_o_csv_holds_the_nested_fields_as_the_export_does(mirror_url: str, tmp_path: Path) -> None:
    crawl = run_crawl(tmp_path, "-a", f"mirror={mirror_url}", "-O", "news.csv")
    assert crawl.returncode == 0, crawl.log[-3000:]
    assert cli(["export", "--output", str(tmp_path / "output"), "--format", "csv"]) == 0
    fed = {row["url"]: row for row in csv.DictReader(io.StringIO((tmp_path / "news.csv").read_text("utf-8")))}
    exported = csv.DictReader(
        io.StringIO((tmp_path / "output" / "export" / "cnis-articles.csv").read_text("utf-8"))
    )
    compared = 0
    for row in exported:
        for name in ("attachments", "extracted_by"):
            assert fed[row["url"]][name] == row[name]
            compared += 1
    assert compared == 120
    assert any(row["attachments"] != "[]" for row in fed.values())
