"""Scrapy's own tools inside the project: ``scrapy shell`` looks at a page and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

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
