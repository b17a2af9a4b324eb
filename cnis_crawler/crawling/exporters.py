"""Feed exporters of the project (``FEED_EXPORTERS``): a record's nested fields as JSON text in CSV.

Scrapy's CSV exporter writes a list of strings joined by commas and anything else as Python's
``repr`` (``{'title': 'line-above-date'}``), which no CSV reader can take back. Here a list or a
mapping (``attachments``, ``extracted_by``) is a JSON text, as ``cnis-crawler export`` writes it,
so ``-O news.csv`` and the export's CSV hold the same cells.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scrapy.exporters import CsvItemExporter

if TYPE_CHECKING:
    from collections.abc import Mapping

    from scrapy import Field


class JsonCellCsvItemExporter(CsvItemExporter):
    def serialize_field(self, field: Mapping[str, Any] | Field, name: str, value: Any) -> Any:
        if "serializer" not in field and isinstance(value, (list, tuple, dict)):
            return json.dumps(value, ensure_ascii=False)
        return super().serialize_field(field, name, value)
