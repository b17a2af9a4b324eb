"""The crawl state read from outside a crawl (the export, the report): read only, schema checked.

No Scrapy, and nothing here can change the state or create one: it is opened read only, and a
state of a schema this version cannot read is refused with the reason, not misread.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cnis_crawler.memory.state import (
    FILES_AS_STORED,
    MIGRATIONS,
    SCHEMA_VERSION,
    SECTIONS_TOLD,
    SectionVerdict,
    file_changes,
)

READABLE_VERSIONS = frozenset({SCHEMA_VERSION, *MIGRATIONS})
"""What this reader understands: the tables it reads are alike in all of them."""


class StateUnreadableError(Exception):
    """The file is no crawl state this version can read; the message says why."""


@dataclass(frozen=True)
class RunRow:
    run_id: str
    finished: str | None
    finish_reason: str | None
    accounting: dict[str, Any]
    mode: str = ""
    """What the run did beyond an incremental crawl: ``full``, ``revalidate``, ``reextract`` …"""


DAMAGED_REMEDY = (
    "; it is damaged: the next crawl moves it aside ({name}.damaged-<time>) and reads the run files"
    " back into a new one"
)


class StateReader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def exists(self) -> bool:
        return self.path.is_file()

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` from the state, none when there is no state yet."""
        if not self.exists():
            return []
        try:
            with closing(sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:  # a file SQLite reads as a new, empty database: no state
                    raise StateUnreadableError(
                        f"cannot read the crawl state {self.path}: it is empty; the next crawl reads"
                        " the run files back into it"
                    )
                if version not in READABLE_VERSIONS:
                    raise StateUnreadableError(
                        f"cannot read the crawl state {self.path}: written by another version of"
                        f" cnis-crawler (schema {version}; this one reads {sorted(READABLE_VERSIONS)})"
                    )
                return db.execute(sql).fetchall()
        except sqlite3.Error as error:
            # Plain DatabaseError is SQLite's "file is not a database", "disk image is malformed".
            damaged = type(error) is sqlite3.DatabaseError
            remedy = DAMAGED_REMEDY.format(name=self.path.name) if damaged else ""
            raise StateUnreadableError(f"cannot read the crawl state {self.path}: {error}{remedy}") from error

    def changed_files(self) -> list[tuple[Path, str]]:
        """The run files the state counts records from that are gone or not as stored. A crawl
        names them as its working folder saw them; they are beside the state."""
        stored = self.query(FILES_AS_STORED)
        return file_changes((str(self.path.parent / Path(path).name), *facts) for path, *facts in stored)

    def aliases_by_key(self) -> dict[str, list[str]]:
        """The URLs of each article other than its record's."""
        aliases: dict[str, list[str]] = {}
        for key, url in self.query(
            "SELECT pages.key, pages.url FROM pages JOIN articles ON articles.key = pages.key"
            " WHERE pages.url != articles.url ORDER BY pages.url"
        ):
            aliases.setdefault(key, []).append(url)
        return aliases

    def article_versions(self) -> dict[str, int]:
        """The latest version of each article the state counts as written."""
        return {key: int(version) for key, version in self.query("SELECT key, version FROM articles")}

    def archives(self) -> list[tuple[str, int, int]]:
        """The archive's WARC files as the crawls listed them: path, size, responses (none from a
        state older than the archive)."""
        if not self.has_table("archives"):
            return []
        rows = self.query("SELECT path, size, responses FROM archives ORDER BY path")
        return [(str(path), int(size), int(responses)) for path, size, responses in rows]

    def has_table(self, name: str) -> bool:
        return bool(self.query(f"SELECT name FROM sqlite_master WHERE type = 'table' AND name = '{name}'"))

    def sections(self) -> list[SectionVerdict]:
        """What the crawls made of each section, known and found (none from a state older than
        discovery)."""
        if not self.has_table("sections"):
            return []
        return [SectionVerdict(*row) for row in self.query(SECTIONS_TOLD)]

    def runs(self) -> list[RunRow]:
        return [
            RunRow(run_id, finished, reason, json.loads(accounting or "{}"), mode)
            for run_id, finished, reason, accounting, mode in self.query(
                "SELECT run_id, finished, finish_reason, accounting, coalesce(mode, '') FROM runs"
                " ORDER BY run_id"
            )
        ]
