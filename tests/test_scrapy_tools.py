"""Scrapy's own tools inside the project: ``scrapy shell`` looks at a page and ``scrapy parse``
reads one as the crawl does, both writing nothing; ``-O x.csv`` writes nested fields as JSON text."""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from cnis_crawler.tools.cli import main as cli
from tests.conftest import MIRROR_ARTICLES, SITE
from tests.crawling import run_crawl
from tests.tooling.fault_mirror import running_mirror

if TYPE_CHECKING:
    from pathlib import Path


def run_scrapy(workdir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """A ``scrapy`` command of the project, run in an empty folder as a user would."""
    env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "cnis_crawler.settings"}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *arguments],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_scrapy_shell_returns_at_once_and_writes_nothing(mirror_url: str, tmp_path: Path) -> None:
    url = f"{mirror_url}/en.cnis.ac.cn/xwdt/bydt/index.shtml"
    shell = run_scrapy(tmp_path, "shell", url, "-c", "(response.status, response.css('title::text').get())")
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stdout.startswith("(200, "), shell.stdout
    assert "Traceback" not in shell.stderr
    assert "WARNING" not in shell.stderr
    assert list(tmp_path.iterdir()) == [], "no crawl state, run file or summary"


ARTICLE = "https://en.cnis.ac.cn/zdxw/202205/t20220520_50790.shtml"
LISTING = "https://en.cnis.ac.cn/xwdt/bydt/index.shtml"


def parsed(workdir: Path, *arguments: str, quiet: bool = True) -> tuple[list[dict[str, object]], str]:
    """What ``scrapy parse --spider cnis`` printed: its items, and the requests' text;
    ``quiet``: with no warning logged."""
    parse = run_scrapy(workdir, "parse", "--spider", "cnis", "--nocolour", *arguments)
    assert parse.returncode == 0, parse.stderr[-3000:]
    assert "Traceback" not in parse.stderr
    assert not quiet or "WARNING" not in parse.stderr, parse.stderr[-3000:]
    assert list(workdir.iterdir()) == [], "no crawl state, run file or summary"
    items, requests = parse.stdout.split("# Scraped Items ", 1)[1].split("# Requests ", 1)
    found: list[dict[str, object]] = ast.literal_eval(items.lstrip("- \n"))
    return found, requests


@pytest.mark.parametrize("given", ["mirror URL", "live URL and -a mirror="])
def test_scrapy_parse_prints_the_record_of_an_article_and_writes_nothing(
    given: str, mirror_url: str, tmp_path: Path
) -> None:
    where = ("-a", f"mirror={mirror_url}", ARTICLE) if "live" in given else (mirror_url + ARTICLE[7:],)
    records, _ = parsed(tmp_path, *where)
    assert len(records) == 1
    record = records[0]
    assert record["url"] == ARTICLE
    assert record["title"] == "CNIS laboratories open to students on World Metrology Day"
    assert (record["date"], record["source"], record["section"]) == ("2022-05-20", "CNIS", "Photo News")
    assert record["extracted_by"] == {
        "title": "line-above-date",
        "subtitle": None,
        "date": "date-label",
        "source": "source-label",
        "section": "breadcrumb",
        "body": "after-date-line",
    }
    assert str(record["body"]).startswith("On May 20, World Metrology Day, the food sensory analysis")
    # Decided by the crawl state when a crawl writes the record: not made up here.
    assert not {"key", "version", "change"} & set(record)


def test_scrapy_parse_of_a_listing_prints_its_articles_pager_and_next_requests(
    mirror_url: str, tmp_path: Path
) -> None:
    [listing], requests = parsed(tmp_path, mirror_url + LISTING[7:])
    assert listing["listing"] == LISTING
    assert listing["pages_declared"] == 3
    assert listing["pager"] == [LISTING.replace("index", name) for name in ("index", "index_1", "index_2")]
    articles = listing["articles"]
    assert isinstance(articles, list)
    assert articles[0] == {
        "url": "https://en.cnis.ac.cn/xwdt/bydt/202403/t20240329_57887.shtml",
        "title": "CNIS holds 2024 work conference",
        "date": "2024-03-29",
    }
    assert len(articles) == 5
    # The requests a crawl sends next: each article, then the next listing page, from the mirror.
    assert requests.count(f"<GET {mirror_url}/en.cnis.ac.cn/xwdt/bydt/20") == 5
    assert f"<GET {mirror_url}/en.cnis.ac.cn/xwdt/bydt/index_1.shtml>" in requests


def test_scrapy_parse_tells_why_the_pipelines_drop_a_page(tmp_path: Path) -> None:
    path = "/en.cnis.ac.cn/zdxw/202205/t20220520_50790.shtml"
    with running_mirror(SITE, faults={path: {"kind": "soft404"}}) as url:
        [dropped], _ = parsed(tmp_path, url + path, quiet=False)
    assert dropped["url"] == ARTICLE
    assert dropped["dropped"] == "NotFoundPage"
    assert str(dropped["why"]).endswith(ARTICLE)


def test_scrapy_parse_refuses_a_url_of_no_cnis_site_in_one_line(tmp_path: Path) -> None:
    parse = run_scrapy(tmp_path, "parse", "--spider", "cnis", "https://example.org/news/1.html")
    assert parse.returncode == 2
    assert parse.stderr.strip().splitlines()[-1].split(": ", 1)[1] == (
        "error: not a page of the CNIS sites: https://example.org/news/1.html; accepted: a live URL"
        " (en.cnis.ac.cn, www.cnis.ac.cn, en.cnis.gov.cn) or a mirror's (<mirror>/<host>/<path>)"
    )
    assert "Traceback" not in parse.stderr


@pytest.mark.parametrize(
    ("argument", "line"),
    [
        ("sections=bad", "-a sections= takes all or known (leave it out for all), got 'bad'"),
        ("full=maybe", "-a full= takes 1 or 0 (true/false, yes/no), got 'maybe'"),
    ],
)
def test_scrapy_parse_refuses_a_bad_spider_argument_in_one_line(
    argument: str, line: str, tmp_path: Path
) -> None:
    parse = run_scrapy(tmp_path, "parse", "--spider", "cnis", "-a", argument, "https://en.cnis.ac.cn/kycg/")
    assert parse.returncode == 2
    assert parse.stderr.strip().splitlines()[-1].split(": ", 1)[1] == f"error: {line}"
    assert "Traceback" not in parse.stderr


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
        assert fed[row["url"]]["extracted_by"] == row["extracted_by"]
        # The export gives every attachment a path and checksum, null without -a files=1.
        attachments = [
            entry | {"path": None, "checksum": None} for entry in json.loads(fed[row["url"]]["attachments"])
        ]
        assert attachments == json.loads(row["attachments"])
        compared += 2
    assert compared == 2 * MIRROR_ARTICLES
    assert any(row["attachments"] != "[]" for row in fed.values())


def test_scrapy_parse_of_a_page_it_cannot_fetch_says_why_in_one_line(mirror_url: str, tmp_path: Path) -> None:
    missing = f"{mirror_url}/en.cnis.ac.cn/zdxw/202205/t20220520_99999.shtml"
    parse = run_scrapy(tmp_path, "parse", "--spider", "cnis", missing)
    assert f"ERROR: Could not fetch {missing}: HTTP 404" in parse.stderr
    assert "Traceback" not in parse.stderr
    assert list(tmp_path.iterdir()) == []


def test_scrapy_parse_reads_an_article_of_several_pages_whole_with_depth(
    mirror_url: str, tmp_path: Path
) -> None:
    first = "/en.cnis.ac.cn/kycg/201903/t20190308_38702.shtml"
    [record], _ = parsed(tmp_path, "-d", "2", mirror_url + first)
    assert record["url"] == "https://en.cnis.ac.cn" + first.removeprefix("/en.cnis.ac.cn")
    assert record["title"] == "China Standardization Development Annual Report 2018 released"
    part = run_scrapy(tmp_path, "parse", "--spider", "cnis", mirror_url + first.replace(".shtml", "_1.shtml"))
    assert (
        "ERROR: Page 2 of an article, which is read with its first page:"
        f" {mirror_url}{first} (with -d 2 to read them all)"
    ) in part.stderr
    assert "# Scraped Items" in part.stdout
    assert "'url'" not in part.stdout
