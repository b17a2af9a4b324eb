"""The record's JSON Schema (``record.schema.json``), shipped with the package: what a line of a
run file holds, for the tests that validate every record and for the export's data package."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def record_schema() -> dict[str, Any]:
    """The JSON Schema of a record (draft 2020-12)."""
    schema: dict[str, Any] = json.loads(files(__name__).joinpath("record.schema.json").read_text("utf-8"))
    return schema
