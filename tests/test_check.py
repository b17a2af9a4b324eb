"""``cnis-crawler check``: page 1 of every listing and its newest article, a table per section,
and an exit status a scheduler can act on; run as a user runs it, in an empty folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from cnis_crawler.tools.mirror import running_mirror
from tests.conftest import FOUND_NEWS_SECTIONS, PROFILES_SECTION, SITE, mirror_news_sections

if TYPE_CHECKING:
    from pathlib import Path


def check(workdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cnis_crawler.tools.cli", "check", *arguments],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_mirror_checks_out_section_by_section_and_nothing_is_written(
    mirror_url: str, tmp_path: Path
) -> None:
    checked = check(tmp_path, "--mirror", mirror_url)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.rstrip().endswith("check: all 10 sections look right")
    for section in mirror_news_sections():  # site.py's, and the news sections found on the site
        assert f"\n{section}  http" in f"\n{checked.stdout}"
    sections = checked.stdout.split("\nSections (", 1)[1].split("\n\n", 1)[0].splitlines()[2:]
    told = {line.split()[0]: line.split()[1:3] for line in sections}
    assert told == {
        **{key: ["known", "5"] for key in mirror_news_sections() if key not in FOUND_NEWS_SECTIONS},
        **{key: ["crawled", "5"] for key in FOUND_NEWS_SECTIONS},
        PROFILES_SECTION: ["skipped", "2"],
    }
    table = checked.stdout.split("en.cnis.ac.cn/xwdt/bydt  ", 1)[1].split("\n\n", 1)[0]
    rows = [line.split() for line in table.splitlines()]
    assert rows[1] == ["listing", "5", "articles", "linked", "on", "page", "1,", "3", "pages", "declared"]
    assert rows[2] == ["newest", "https://en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml"]
    assert rows[3] == ["title", "CNIS", "holds", "2024", "work", "conference", "line-above-date"]
    assert rows[4] == ["date", "2024-03-29", "date-label"]
    assert rows[5] == ["source", "CNIS", "source-label"]
    assert (rows[6][0], rows[6][-1]) == ("body", "after-date-line")
    assert rows[7] == ["verdict", "ok"]
    assert checked.stderr == ""
    assert list(tmp_path.iterdir()) == []


def test_a_broken_copy_of_the_site_is_told_section_by_section(tmp_path: Path) -> None:
    broken = tmp_path / "site"
    shutil.copytree(SITE, broken)
    # A listing redesigned so that its links are no longer found: buttons instead of anchors.
    listing = broken / "en.cnis.ac.cn" / "zdxw" / "index.shtml"
    listing.write_text(listing.read_text("utf-8").replace("<a ", "<button "), "utf-8")
    # An article template with no visible date, no labels and no headline left.
    article = broken / "en.cnis.ac.cn" / "xwdt" / "bydt" / "202403" / "t20240329_57887.shtml"
    prose = " ".join(["The institute held its annual work conference in Beijing."] * 12)
    article.write_text(f"<html><head></head><body><div><p>{prose}</p></div></body></html>", "utf-8")
    workdir = tmp_path / "work"
    workdir.mkdir()
    with running_mirror(broken) as url:
        checked = check(workdir, "--mirror", url)
    assert checked.returncode == 3, checked.stdout + checked.stderr
    last = checked.stdout.rstrip().splitlines()[-1]
    assert last.startswith("check: 2 of 10 sections look wrong (en.cnis.ac.cn/xwdt/bydt: ")
    assert last.endswith("; en.cnis.ac.cn/zdxw: listing: no article linked)")
    assert "title from its weakest rung (listing-link)" in last
    assert "date from its weakest rung (url)" in last
    assert "date-label" not in checked.stdout.split("en.cnis.ac.cn/xwdt/bydt  ", 1)[1].split("\n\n", 1)[0]
    assert "url (weakest)" in checked.stdout
    assert list(workdir.iterdir()) == []


def test_a_bad_discovery_setting_is_one_line(mirror_url: str, tmp_path: Path) -> None:
    checked = check(tmp_path, "--mirror", mirror_url, "-s", "CNIS_MAX_FOLDERS=-1")
    assert checked.returncode == 2
    assert "CNIS_MAX_FOLDERS must be a whole number, 0 or more; got '-1'" in checked.stderr
    assert "Traceback" not in checked.stderr


def test_folders_left_unread_are_told(mirror_url: str, tmp_path: Path) -> None:
    checked = check(tmp_path, "--mirror", mirror_url, "-s", "CNIS_MAX_FOLDERS=1")
    assert "folders linked were not read (CNIS_MAX_FOLDERS=1): sections behind them are not checked" in (
        checked.stdout
    )


def test_a_site_that_cannot_be_reached_is_told_apart(tmp_path: Path) -> None:
    started = time.monotonic()
    checked = check(tmp_path, "--mirror", "http://127.0.0.1:1", "--sites", "en.cnis.ac.cn")
    seconds = time.monotonic() - started
    assert checked.returncode == 4, checked.stdout + checked.stderr
    # robots.txt, the home page and page 1 of the four sections of site.py on that host
    assert checked.stdout.rstrip().splitlines()[-1] == (
        "check: no answer from the site (DownloadConnectionRefusedError 6):"
        " check the network, the DNS or --mirror"
    )
    assert "Traceback" not in checked.stderr
    assert seconds < 30


def test_a_bad_option_is_one_line(tmp_path: Path) -> None:
    checked = check(tmp_path, "--sites", "cnis.gov.cn")
    assert checked.returncode == 2
    assert checked.stderr.splitlines()[-1] == (
        "cnis-crawler check: error: unknown site(s) ['cnis.gov.cn'];"
        " known sites: en.cnis.ac.cn, www.cnis.ac.cn, en.cnis.gov.cn"
    )
    assert "Traceback" not in checked.stderr
