"""The export described for Frictionless (``datapackage.json`` beside the manifest): each column's
type and meaning, taken from the record's JSON Schema, the CSV's row count, size and sha256, and
a licence to fill in. ``frictionless validate output/export/datapackage.json`` checks the CSV
against all of it. Written when the export writes CSV, which any Frictionless tool reads.
"""

from __future__ import annotations

from typing import Any

from cnis_crawler.schema import record_schema
from cnis_crawler.tools.cli import crawler_version

DATAPACKAGE = "datapackage.json"
EXPORT_COLUMNS: dict[str, dict[str, Any]] = {
    "first_seen": {
        "type": "string",
        "format": "date-time",
        "description": "When the first version was fetched.",
    },
    "last_changed": {
        "type": "string",
        "format": "date-time",
        "description": "When its latest version was fetched.",
    },
    "versions": {"type": "integer", "description": "How many versions of the article the crawl wrote."},
    "aliases": {"type": "array", "description": "The article's other URLs (copies, e.g. on the old host)."},
}
"""The export's columns beyond the record's, in the JSON Schema's terms."""
LICENCE_PLACEHOLDER = {
    "name": "other-closed",
    "title": "To be set by whoever publishes this dataset: the texts are CNIS's, under its own terms",
}


def datapackage(
    columns: tuple[str, ...], csv_name: str, csv_facts: dict[str, Any], excel: bool, history: bool
) -> dict[str, Any]:
    """The data package of an export whose CSV is ``csv_name`` (``csv_facts``: its ``rows``,
    ``bytes`` and ``sha256``)."""
    properties = record_schema()["properties"] | EXPORT_COLUMNS
    return {
        "name": "cnis-news",
        "title": "News of the China National Institute of Standardization (CNIS)",
        "description": (
            "One row per news article of the China National Institute of Standardization: its latest"
            " version (every version, one row each, in an export made with --history), with when it was"
            " first seen and last changed and its other URLs. Written by cnis-crawler export."
        ),
        "licenses": [LICENCE_PLACEHOLDER],
        "created_by": f"cnis-crawler {crawler_version()}",
        "resources": [
            {
                "name": csv_name.removesuffix(".csv"),
                "path": csv_name,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8-sig" if excel else "utf-8",
                "rows": csv_facts["rows"],
                "bytes": csv_facts["bytes"],
                "hash": f"sha256:{csv_facts['sha256']}",
                "schema": {
                    "fields": [table_field(name, properties[name]) for name in columns],
                    "primaryKey": ["key", "version"] if history else ["key"],
                },
            }
        ],
    }


def table_field(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A Table Schema field of a JSON Schema property: lists and mappings are JSON in CSV, as
    Table Schema's ``array`` and ``object`` are."""
    kinds = schema.get("type", "string")
    kind = next((kind for kind in ([kinds] if isinstance(kinds, str) else kinds) if kind != "null"), "string")
    field: dict[str, Any] = {"name": name, "description": schema.get("description", "")}
    if schema.get("format") == "date":
        field["type"] = "date"
    elif schema.get("format") == "date-time":
        field["type"] = "datetime"
    elif kind in ("integer", "array", "object"):
        field["type"] = kind
    else:
        field["type"] = "string"
    constraints: dict[str, Any] = {}
    if "null" not in ([kinds] if isinstance(kinds, str) else kinds):
        constraints["required"] = True
    if "enum" in schema:
        constraints["enum"] = schema["enum"]
    if "pattern" in schema and field["type"] == "string":
        # Table Schema's patterns match the whole value; JSON Schema's anywhere.
        core = schema["pattern"].removeprefix("^")
        constraints["pattern"] = core.removesuffix("$") if core.endswith("$") else f"{core}.*"
    if field["type"] == "string" and "minLength" in schema:
        constraints["minLength"] = schema["minLength"]
    if field["type"] == "integer" and "minimum" in schema:
        constraints["minimum"] = schema["minimum"]
    if constraints:
        field["constraints"] = constraints
    return field
