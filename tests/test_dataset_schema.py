"""A self-describing dataset: every record of a crawl fits the record's JSON Schema shipped with the
package, and the export's data package describes its CSV so that Frictionless validates it."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from frictionless import validate
from jsonschema import Draft202012Validator

from cnis_crawler.crawling.items import RECORD_FIELDS
from cnis_crawler.schema import record_schema
from tests.conftest import MIRROR_ARTICLES
from tests.crawling import command_status

if TYPE_CHECKING:
    from pathlib import Path

    from tests.crawling import CrawlResult

VALIDATOR = Draft202012Validator(record_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_schema_names_every_field_of_a_record_in_order() -> None:
    assert tuple(record_schema()["properties"]) == RECORD_FIELDS
    assert tuple(record_schema()["required"]) == RECORD_FIELDS


def test_every_record_of_the_crawl_fits_the_schema(mirror_crawl: CrawlResult) -> None:
    assert len(mirror_crawl.records) == MIRROR_ARTICLES
    for record in mirror_crawl.records:
        assert not [error.message for error in VALIDATOR.iter_errors(record)], record["url"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"date": "2024/03/29"}, "does not match"),
        ({"standards": "GB/T 19001-2016"}, "is not of type 'array'"),
        ({"version": 0}, "is less than the minimum of 1"),
        ({"extra": 1}, "Additional properties are not allowed"),
        ({"lang": "fr"}, "is not one of ['en', 'zh']"),
        ({"standards": ["ISO 9001", "ISO 9001"]}, "has non-unique elements"),
        ({"fetched_at": "2024-13-45T99:99:99Z"}, "is not a 'date-time'"),
        ({"body": "", "images": []}, "should be non-empty"),
    ],
)
def test_a_record_that_does_not_fit_is_told(
    mirror_crawl: CrawlResult, change: dict[str, object], message: str
) -> None:
    broken = mirror_crawl.records[0] | change
    assert any(message in error.message for error in VALIDATOR.iter_errors(broken))


def test_an_article_of_pictures_alone_may_have_no_text(mirror_crawl: CrawlResult) -> None:
    pictures = next(record for record in mirror_crawl.records if record["images"])
    assert not list(VALIDATOR.iter_errors(pictures | {"body": ""}))


def export(mirror_crawl: CrawlResult, out: Path, *formats: str) -> None:
    output = mirror_crawl.workdir / "output"
    arguments = [argument for fmt in formats for argument in ("--format", fmt)]
    assert command_status(["export", "--output", str(output), "--out", str(out), *arguments]) == 0


def test_frictionless_validates_the_exported_csv_by_its_data_package(
    mirror_crawl: CrawlResult, tmp_path: Path
) -> None:
    export(mirror_crawl, tmp_path, "csv", "jsonl")
    package = json.loads((tmp_path / "datapackage.json").read_text("utf-8"))
    [resource] = package["resources"]
    assert (resource["path"], resource["rows"]) == ("cnis-articles.csv", MIRROR_ARTICLES)
    fields = {field["name"]: field for field in resource["schema"]["fields"]}
    assert (fields["date"]["type"], fields["fetched_at"]["type"], fields["standards"]["type"]) == (
        "date",
        "datetime",
        "array",
    )
    assert fields["standards"]["description"].startswith("Standards the title, subtitle and body name")
    assert resource["schema"]["primaryKey"] == ["key"]
    assert package["licenses"][0]["title"].startswith("To be set by whoever publishes this dataset")
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])[:5]
    # The package's size, hash and row count are checked: a CSV changed since is told.
    csv = tmp_path / "cnis-articles.csv"
    csv.write_bytes(csv.read_bytes().replace(b"CNIS", b"CNIX", 1))
    assert [error[0] for error in validate(str(tmp_path / "datapackage.json")).flatten(["type"])] == [
        "hash-count"
    ]


def test_an_export_without_csv_has_no_data_package(mirror_crawl: CrawlResult, tmp_path: Path) -> None:
    export(mirror_crawl, tmp_path, "csv")
    assert (tmp_path / "datapackage.json").is_file()
    export(mirror_crawl, tmp_path, "jsonl")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["cnis-articles.jsonl", "manifest.json"]
