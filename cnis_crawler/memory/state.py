"""What earlier crawls learnt, in one SQLite file: the memory behind incremental crawls.

Plain :mod:`sqlite3`, no Scrapy: the Scrapy side (:mod:`cnis_crawler.crawling.memory`,
:mod:`cnis_crawler.crawling.records`) decides *when* something is true (a record counts only once
its feed file is stored); this module only keeps it.

- ``articles``: one row per canonical article (``key``) with its current content hash and version.
- ``pages``: every live URL known to stand for an article, with the content hash it had last
  and the validators its server sent (``Last-Modified``, ``ETag``); a URL other than the
  article's own ``url`` is an alias.
- ``versions``: one row per record ever written, so every version can be traced to its run.
- ``failures``: URLs that were dropped, and whether the page itself was the problem.
- ``listings``: when each listing page was last read, and whether it was the last page;
  ``links``: what it linked, with what the listing showed of it (the second witness of its title
  and date when it is fetched without its listing); a link no page or failure settles is work a
  stopped or killed run left; ``walks``: sections whose listing was read to the end and
  every article it linked settled (only then may a crawl stop paging early).
- ``inflight``: the listing pages a crawl has queued and not read yet (the front of each
  section's walk); a run stopped or killed mid-way leaves them for the next run to read.
  ``runs``: one row per crawl with its accounting, its mode (``full``, ``revalidate``) and the
  run that began the pass it belongs to: a pass cut short is finished by the next run in the
  same mode, which skips the pages (``last_run``) that a run of the pass settled.
- ``files``: the feed files whose records are known. A file on disk that is not listed here was
  stored by a run killed before it could say so; :meth:`CrawlState.adopt` reads it in.

WAL mode: a reader never blocks the crawl, and a killed process never leaves a torn database.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

SCHEMA_VERSION = 3
# What a state of an earlier schema needs to become this one (its user_version: statements).
MIGRATIONS = {
    1: (
        "ALTER TABLE links ADD COLUMN listed TEXT",
        "ALTER TABLE runs ADD COLUMN mode TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE runs ADD COLUMN pass_run TEXT",
        "ALTER TABLE pages ADD COLUMN last_run TEXT",
        "ALTER TABLE failures ADD COLUMN last_run TEXT",
        "ALTER TABLE runs ADD COLUMN completed INTEGER NOT NULL DEFAULT 0",
    ),
    2: (),  # the sections table, which SCHEMA creates
}
SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    key TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    lang TEXT NOT NULL,
    date TEXT NOT NULL,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_changed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_by_content ON articles (lang, date, content_hash);
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    content_hash TEXT,
    last_modified TEXT,
    etag TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_run TEXT
);
CREATE INDEX IF NOT EXISTS pages_by_key ON pages (key);
CREATE TABLE IF NOT EXISTS versions (
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    url TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    run_id TEXT NOT NULL,
    written_at TEXT NOT NULL,
    PRIMARY KEY (key, version)
);
CREATE TABLE IF NOT EXISTS failures (
    url TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    permanent INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    first_failed TEXT NOT NULL,
    last_failed TEXT NOT NULL,
    last_run TEXT
);
CREATE INDEX IF NOT EXISTS versions_by_content ON versions (content_hash);
CREATE TABLE IF NOT EXISTS listings (
    url TEXT PRIMARY KEY,
    section TEXT NOT NULL,
    last_page INTEGER NOT NULL,
    last_read TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS links (
    url TEXT PRIMARY KEY,
    section TEXT,
    title TEXT,
    listing TEXT NOT NULL,
    last_listed TEXT NOT NULL,
    listed TEXT
);
CREATE TABLE IF NOT EXISTS walks (section TEXT PRIMARY KEY, completed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inflight (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    run_id TEXT NOT NULL,
    since TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    records INTEGER NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS archives (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    responses INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sections (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    why TEXT NOT NULL,
    first_page_articles INTEGER,
    found_run TEXT NOT NULL,
    told_run TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started TEXT NOT NULL,
    finished TEXT,
    finish_reason TEXT,
    accounting TEXT,
    mode TEXT NOT NULL DEFAULT '',
    pass_run TEXT,
    completed INTEGER NOT NULL DEFAULT 0
);
"""


STATE_MOVED_ASIDE = "The crawl state %s was damaged: moved to %s; the run files are read back into a new one"
"""The warning of a crawl or re-extraction that found its state damaged (path, where it went)."""
REEXTRACT_MODE = "reextract"
"""The mode of a run that re-extracted archived pages (cnis_crawler.tools.reextract): no crawl,
so no pass of one that it could interrupt."""
REEXTRACTED = "reextracted"
"""The ``change`` of a record a re-extraction wrote."""
REEXTRACT_FAILED = "failed/"
"""A re-extraction's accounting: ``failed/<drop>`` counts the pages that now fail, by reason."""


# What a crawl made of a section (cnis_crawler.crawling.discovery): one of site.py's, found on the
# sites and crawled (news) or skipped (not news), or found before and gone from the sites.
KNOWN = "known"
CRAWLED = "crawled"
SKIPPED = "skipped"
GONE = "gone"
TROUBLED = ("gone", "still linked")
"""How the why of a section in trouble starts: gone from the sites, or linked and failing."""
NO_LISTING = "no listing"
"""A folder whose first page listed nothing under it (a landing page, a missing page): no section;
read again once ``CNIS_FOLDER_RECHECK_DAYS`` have passed, not in every run."""


@dataclass(frozen=True)
class SectionVerdict:
    """What a run made of a section: its kind (known, crawled, skipped, gone), why, and how many
    articles under it its first listing page linked (None: not read)."""

    key: str
    kind: str
    why: str
    first_page_articles: int | None
    found_run: str = ""
    """The run that first told it."""
    told_run: str = ""
    """The last run that told it."""


SECTIONS_TOLD = "SELECT key, kind, why, first_page_articles, found_run, told_run FROM sections ORDER BY key"
"""Every section a run told, as :class:`SectionVerdict` fields (the crawl's and the reader's)."""


def utc_now() -> str:
    """The state's timestamps: UTC to the second, ``2026-12-06T06:00:00Z``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class StateInUseError(RuntimeError):
    pass


def exclusive_lock(path: Path) -> IO[bytes] | None:
    """Hold an exclusive lock on ``path`` until the returned file is closed (or the process ends,
    however it ends). None where the system has no ``flock``."""
    try:
        import fcntl  # POSIX only
    except ImportError:
        return None
    file = path.open("ab")
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        raise StateInUseError(f"{path.with_suffix('')} is in use by another crawl") from None
    return file


FILES_AS_STORED = "SELECT path, size, mtime_ns FROM files ORDER BY path"


def file_changes(stored: Iterable[tuple[str, int, int]]) -> list[tuple[Path, str]]:
    """Of run files as stored (path, size, mtime in ns), those gone (``missing``), shorter
    (``cut short``) or otherwise not as stored (``changed``: appended to, edited), with how."""
    changed = []
    for path_text, size, mtime_ns in stored:
        path = Path(path_text)
        try:
            stat = path.stat()
        except FileNotFoundError:
            changed.append((path, "missing"))
            continue
        if stat.st_size < size:
            changed.append((path, "cut short"))
        elif (stat.st_size, stat.st_mtime_ns) != (size, mtime_ns):
            changed.append((path, "changed"))
    return changed


def moved_aside(path: Path) -> list[Path]:
    """The damaged states :func:`move_aside` kept beside ``path``, oldest first."""
    return sorted(found for found in path.parent.glob(f"{path.name}.damaged-*") if found.name[-1].isdigit())


def move_aside(path: Path) -> Path:
    """Move a damaged state (and its WAL files) to ``<name>.damaged-<time>``; return where."""
    aside = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        if (side := Path(f"{path}{suffix}")).exists():
            side.rename(f"{aside}{suffix}")
    return aside


@dataclass(frozen=True)
class KnownArticle:
    key: str
    url: str
    version: int
    content_hash: str


@dataclass(frozen=True)
class Link:
    """An article a listing page links."""

    url: str
    section: str | None
    title: str | None
    listed: str | None = None
    """What the listing showed of it, as JSON (the crawling side's to read)."""


@dataclass(frozen=True)
class Validators:
    last_modified: str | None = None
    etag: str | None = None


@dataclass(frozen=True)
class Written:
    """A record stored in every feed: a new article, or a new version of a known one."""

    key: str
    url: str
    lang: str
    date: str
    title: str
    content_hash: str
    version: int
    at: str
    urls: tuple[str, ...]
    """Every live URL that led to it (the URL as listed, and where that redirected)."""
    validators: Validators

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Written:
        """The observation behind a record read back from a feed file."""
        return cls(
            key=record["key"],
            url=record["url"],
            lang=record["lang"],
            date=record["date"],
            title=record["title"],
            content_hash=record["content_hash"],
            version=record["version"],
            at=record["fetched_at"],
            urls=(record["url"],),
            validators=Validators(),
        )


@dataclass(frozen=True)
class Seen:
    """A known page looked at again: unchanged, or an alias of a known article."""

    key: str
    urls: tuple[str, ...]
    at: str
    validators: Validators
    content_hash: str | None = None
    """What the page holds now, when it was read (not for a 304)."""


@dataclass(frozen=True)
class Failed:
    url: str
    reason: str
    detail: str
    permanent: bool
    at: str


@dataclass(frozen=True)
class Settled:
    """Nothing to remember (the page was a duplicate within the run); only no longer in flight."""

    url: str


Observation = Written | Seen | Failed | Settled


class CrawlState:
    def __init__(self, path: str | Path | None) -> None:
        """Open (or create) the state at ``path``; ``None`` keeps it in memory for one run.

        Raises :class:`StateInUseError` while another crawl has it open: two crawls of one state (a
        scheduled run still going when the next starts) would each fetch what the other does.
        """
        self.lock: IO[bytes] | None = None
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.lock = exclusive_lock(Path(f"{path}.lock"))
        self.path = str(path) if path is not None else ":memory:"
        self.moved_aside: Path | None = None
        """Where a damaged state went; the run files hold what it knew (adopted again)."""
        try:
            self.db = self.connect()
        except sqlite3.DatabaseError:
            if path is None:
                raise
            self.moved_aside = move_aside(Path(path))
            self.db = self.connect()
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION, *MIGRATIONS):
            self.close()
            raise ValueError(f"{self.path} was written by another version of cnis-crawler (schema {version})")
        with self.transaction():
            for statement in MIGRATIONS.get(version, ()):
                self.db.execute(statement)
            # One statement at a time: executescript would commit the migration half-way.
            for statement in filter(str.strip, SCHEMA.split(";")):
                self.db.execute(statement)
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def connect(self) -> sqlite3.Connection:
        """The state's database, checked whole (a damaged one raises sqlite3.DatabaseError)."""
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives a killed process (not a power cut, which only loses the
            # newest commits: those records are then fetched and written once more).
            db.execute("PRAGMA synchronous=NORMAL")
            if (verdict := db.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise sqlite3.DatabaseError(verdict)
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    @property
    def persistent(self) -> bool:
        """False for a state in memory, which forgets everything when the run ends."""
        return self.path != ":memory:"

    def close(self) -> None:
        self.db.close()
        if self.lock is not None:
            self.lock.close()  # releases the lock

    def integrity_check(self) -> str:
        return str(self.db.execute("PRAGMA integrity_check").fetchone()[0])

    # What is known -----------------------------------------------------------------------------

    def page(self, url: str) -> tuple[str | None, str | None]:
        """The key a URL stands for, and the content hash the page had last."""
        row = self.db.execute("SELECT key, content_hash FROM pages WHERE url = ?", (url,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def page_keys(self) -> dict[str, str]:
        """The key each known page URL stands for, read at once."""
        return dict(self.db.execute("SELECT url, key FROM pages").fetchall())

    def links(self) -> dict[str, Link]:
        """What the pages that linked each URL last showed of it, read at once."""
        rows = self.db.execute("SELECT url, section, title, listed FROM links")
        return {row[0]: Link(*row) for row in rows}

    def article(self, key: str) -> KnownArticle | None:
        row = self.db.execute(
            "SELECT key, url, version, content_hash FROM articles WHERE key = ?", (key,)
        ).fetchone()
        return KnownArticle(*row) if row else None

    def article_with_content(self, lang: str, date: str, content_hash: str) -> KnownArticle | None:
        """The article that has, or once had, this date, language and content."""
        row = self.db.execute(
            "SELECT articles.key, articles.url, articles.version, articles.content_hash"
            " FROM versions JOIN articles ON articles.key = versions.key"
            " WHERE versions.content_hash = ? AND articles.lang = ? AND articles.date = ?"
            " ORDER BY articles.first_seen LIMIT 1",
            (content_hash, lang, date),
        ).fetchone()
        return KnownArticle(*row) if row else None

    def is_settled(self, url: str) -> bool:
        """Known as an article, or known to be no article at all: not worth fetching again."""
        return (
            self.db.execute(
                "SELECT 1 FROM pages WHERE url = ?"
                " UNION ALL SELECT 1 FROM failures WHERE url = ? AND permanent",
                (url, url),
            ).fetchone()
            is not None
        )

    def article_urls(self) -> Iterator[tuple[str, Validators]]:
        """The URL each known article was first written under, with its validators."""
        rows = self.db.execute(
            "SELECT articles.url, pages.last_modified, pages.etag FROM articles"
            " LEFT JOIN pages ON pages.url = articles.url ORDER BY articles.url"
        )
        for url, last_modified, etag in rows:
            yield url, Validators(last_modified, etag)

    def retryable(self) -> list[str]:
        """URLs whose last attempt failed for a reason that may pass (timeouts, 5xx …)."""
        return [
            row[0] for row in self.db.execute("SELECT url FROM failures WHERE NOT permanent ORDER BY url")
        ]

    def link(self, url: str) -> Link | None:
        """What the page that linked ``url`` last showed of it."""
        row = self.db.execute(
            "SELECT url, section, title, listed FROM links WHERE url = ?", (url,)
        ).fetchone()
        return Link(*row) if row else None

    def walked_sections(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT section FROM walks")}

    def unfinished(self, run_id: str) -> list[tuple[str, str]]:
        """(url, kind) of the pages earlier runs queued and never read: the front of each
        section's walk where a run stopped (an earlier version also kept articles here)."""
        return self.db.execute(
            "SELECT url, kind FROM inflight WHERE run_id != ? ORDER BY since, url", (run_id,)
        ).fetchall()

    def pending_links(self) -> list[Link]:
        """Articles a listing linked that no record, alias or failure settles: a stopped or killed
        run had them queued. (After a run that finished, only pages of sites it did not crawl.)"""
        rows = self.db.execute(
            "SELECT url, section, title, listed FROM links"
            " WHERE url NOT IN (SELECT url FROM pages) AND url NOT IN (SELECT url FROM failures)"
            " ORDER BY last_listed, url"
        )
        return [Link(*row) for row in rows]

    def forget_links(self, urls: Iterable[str]) -> None:
        with self.transaction():
            self.db.executemany("DELETE FROM links WHERE url = ?", [(url,) for url in urls])

    def settled_in_pass(self, pass_run: str) -> set[str]:
        """URLs written, seen or failed by a run of the pass ``pass_run`` began."""
        return {
            row[0]
            for row in self.db.execute(
                "WITH pass AS (SELECT run_id FROM runs WHERE pass_run = ?)"
                " SELECT url FROM pages WHERE last_run IN pass"
                " UNION SELECT url FROM failures WHERE last_run IN pass",
                (pass_run,),
            )
        }

    def settled_urls(self) -> set[str]:
        """Every URL :meth:`is_settled` says yes to, read once: a crawl asks for each link."""
        return {
            row[0]
            for row in self.db.execute("SELECT url FROM pages UNION SELECT url FROM failures WHERE permanent")
        }

    def page_urls(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT url FROM pages")}

    def article_keys(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT key FROM articles")}

    def content_hashes(self) -> set[str]:
        """Every content hash a version was written with: most articles need no lookup at all."""
        return {row[0] for row in self.db.execute("SELECT DISTINCT content_hash FROM versions")}

    def interrupted_pass(self, run_id: str, mode: str) -> str | None:
        """The run that began the pass in ``mode`` that the newest earlier run left unfinished; None
        when that run completed, or ran in another mode (an incremental run is never resumed so:
        what it left is in :meth:`unfinished`, :meth:`pending_links` and :meth:`retryable`)."""
        row = self.db.execute(
            "SELECT mode, coalesce(pass_run, run_id), completed FROM runs"
            " WHERE run_id != ? AND coalesce(mode, '') != ? ORDER BY started DESC, run_id DESC LIMIT 1",
            (run_id, REEXTRACT_MODE),
        ).fetchone()
        if row is None or not mode or row[0] != mode or row[2]:
            return None
        return str(row[1])

    def counts(self) -> dict[str, int]:
        tables = ("articles", "pages", "versions", "failures", "listings", "inflight", "files")
        return {table: self.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables}

    # What a run learns -------------------------------------------------------------------------

    def listing_read(
        self,
        url: str,
        section: str,
        links: Iterable[Link],
        at: str,
        last_page: bool,
        next_page: str | None = None,
        run_id: str = "",
    ) -> None:
        """A listing page was read: what it linked, whether it is the section's last page, and
        the page its walk goes on to (if it does), which waits in ``inflight`` until read. All at
        once: a stop between them loses no page of the walk."""
        with self.transaction():
            self.db.execute(
                "INSERT OR REPLACE INTO listings VALUES (?, ?, ?, ?)", (url, section, last_page, at)
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?, ?, ?)",
                [(link.url, link.section, link.title, url, at, link.listed) for link in links],
            )
            self.db.execute("DELETE FROM inflight WHERE url = ?", (url,))
            if next_page is not None:
                self.db.execute(
                    "INSERT OR REPLACE INTO inflight VALUES (?, 'listing', ?, ?)", (next_page, run_id, at)
                )

    def links_found(self, page_url: str, links: Iterable[Link], at: str) -> None:
        """Articles an article page links (a listing's own link to them, if any, is kept)."""
        with self.transaction():
            self.db.executemany(
                "INSERT OR IGNORE INTO links VALUES (?, ?, ?, ?, ?, ?)",
                [(link.url, link.section, link.title, page_url, at, link.listed) for link in links],
            )

    def finish_listings(self) -> None:
        """A run finished: no listing page it queued is left unread."""
        self.db.execute("DELETE FROM inflight WHERE kind = 'listing'")

    def update_walks(self, at: str) -> set[str]:
        """Sections whose listing was read to the end once, and all of whose linked articles are
        known or failed: from now on a crawl may stop paging them early. A section with an
        article linked and never settled (lost with a killed run) is read to the end again."""
        sections = {
            row[0]
            for row in self.db.execute(
                "SELECT section FROM listings WHERE last_page"
                " EXCEPT SELECT links.section FROM links WHERE links.url NOT IN (SELECT url FROM pages)"
                " AND links.url NOT IN (SELECT url FROM failures)"
            )
        }
        with self.transaction():
            self.db.execute("DELETE FROM walks")
            self.db.executemany("INSERT INTO walks VALUES (?, ?)", [(section, at) for section in sections])
        return sections

    def forget_walk(self, section: str) -> None:
        """A listing page of the section failed: what follows it is unknown until read again."""
        self.db.execute("DELETE FROM walks WHERE section = ?", (section,))
        self.db.execute("UPDATE listings SET last_page = 0 WHERE section = ?", (section,))

    def settle(self, observations: Iterable[Observation], run_id: str) -> int:
        """Store what a run observed, all or nothing; returns how many observations."""
        count = 0
        with self.transaction():
            for observation in observations:
                self._store(observation, run_id)
                count += 1
        return count

    def _store(self, observation: Observation, run_id: str) -> None:
        execute = self.db.execute
        match observation:
            case Written() as written:
                execute(
                    "INSERT INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE"
                    " SET title = excluded.title, date = excluded.date, content_hash = excluded.content_hash,"
                    " version = excluded.version, last_seen = excluded.last_seen,"
                    " last_changed = excluded.last_changed WHERE excluded.version > articles.version",
                    (
                        written.key,
                        written.url,
                        written.lang,
                        written.date,
                        written.title,
                        written.content_hash,
                        written.version,
                        written.at,
                        written.at,
                        written.at,
                    ),
                )
                execute(
                    "INSERT OR REPLACE INTO versions VALUES (?, ?, ?, ?, ?, ?)",
                    (written.key, written.version, written.url, written.content_hash, run_id, written.at),
                )
                self._pages(
                    written.key, written.urls, written.at, written.validators, written.content_hash, run_id
                )
            case Seen() as seen:
                execute("UPDATE articles SET last_seen = ? WHERE key = ?", (seen.at, seen.key))
                self._pages(seen.key, seen.urls, seen.at, seen.validators, seen.content_hash, run_id)
            case Failed() as failed:
                execute(
                    "INSERT INTO failures VALUES (?, ?, ?, ?, 1, ?, ?, ?) ON CONFLICT (url) DO UPDATE"
                    " SET reason = excluded.reason, detail = excluded.detail, permanent = excluded.permanent,"
                    " attempts = attempts + 1, last_failed = excluded.last_failed,"
                    " last_run = excluded.last_run",
                    (
                        failed.url,
                        failed.reason,
                        failed.detail,
                        failed.permanent,
                        failed.at,
                        failed.at,
                        run_id,
                    ),
                )
                execute("DELETE FROM inflight WHERE url = ?", (failed.url,))
            case Settled():
                execute("DELETE FROM inflight WHERE url = ?", (observation.url,))

    def _pages(
        self,
        key: str,
        urls: tuple[str, ...],
        at: str,
        validators: Validators,
        content_hash: str | None,
        run_id: str,
    ) -> None:
        for url in urls:
            self.db.execute(
                "INSERT INTO pages VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (url) DO UPDATE"
                " SET key = excluded.key, last_seen = excluded.last_seen, last_run = excluded.last_run,"
                " content_hash = coalesce(excluded.content_hash, content_hash),"
                " last_modified = coalesce(excluded.last_modified, last_modified),"
                " etag = coalesce(excluded.etag, etag)",
                (url, key, content_hash, validators.last_modified, validators.etag, at, at, run_id),
            )
            self.db.execute("DELETE FROM failures WHERE url = ?", (url,))
            self.db.execute("DELETE FROM inflight WHERE url = ?", (url,))

    def file_known(self, path: Path) -> bool:
        stat = path.stat()
        row: tuple[int, int] | None = self.db.execute(
            "SELECT size, mtime_ns FROM files WHERE path = ?", (str(path),)
        ).fetchone()
        return row == (stat.st_size, stat.st_mtime_ns)

    def file_stored(self, path: Path, records: int, at: str) -> None:
        stat = path.stat()
        self.db.execute(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            (str(path), stat.st_size, stat.st_mtime_ns, records, at),
        )

    def archive_stored(self, path: Path, responses: int, run_id: str, at: str) -> None:
        """A WARC file of the run's archive, complete (see cnis_crawler.crawling.archive)."""
        self.db.execute(
            "INSERT OR REPLACE INTO archives VALUES (?, ?, ?, ?, ?)",
            (str(path), path.stat().st_size, responses, run_id, at),
        )

    def archives(self) -> list[tuple[str, int, int, str]]:
        """The archive's WARC files: path, size, responses, run id; oldest first."""
        return self.db.execute("SELECT path, size, responses, run_id FROM archives ORDER BY path").fetchall()

    def changed_files(self) -> list[tuple[Path, str]]:
        """The run files whose records it counts that are gone or not as stored: (path, how)."""
        return file_changes(self.db.execute(FILES_AS_STORED).fetchall())

    def known_files(self) -> list[Path]:
        return [Path(row[0]) for row in self.db.execute("SELECT path FROM files ORDER BY path")]

    def keep_only(
        self, present: set[tuple[str, int]], files: Iterable[tuple[Path, int]], at: str
    ) -> list[str]:
        """The run files hold only the record versions in ``present``: every article whose
        latest version is not among them goes back to its latest version that is, or is forgotten
        when none is, so that the next crawl fetches it and writes it again. ``files``: the run
        files that hold them now, with their record counts. Returns the keys gone back."""
        rows = self.db.execute("SELECT key, version FROM articles").fetchall()
        lost = [key for key, version in rows if (key, version) not in present]
        with self.transaction():
            for key in lost:
                kept = [
                    (version, content_hash)
                    for version, content_hash in self.db.execute(
                        "SELECT version, content_hash FROM versions WHERE key = ? ORDER BY version", (key,)
                    )
                    if (key, version) in present
                ]
                if not kept:
                    for table in ("versions", "pages", "articles"):
                        self.db.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
                    continue
                version, content_hash = kept[-1]
                self.db.execute("DELETE FROM versions WHERE key = ? AND version > ?", (key, version))
                self.db.execute(
                    "UPDATE articles SET version = ?, content_hash = ? WHERE key = ?",
                    (version, content_hash, key),
                )
                self.db.execute("UPDATE pages SET content_hash = ? WHERE key = ?", (content_hash, key))
            self.db.execute("DELETE FROM files")
            for path, records in files:
                self.file_stored(path, records, at)
        return lost

    def adopt(self, path: Path, run_id: str, at: str) -> tuple[int, int]:
        """Learn the records of a JSON lines feed file this state has not seen stored. Returns
        (records new to the state, lines that are no record of this crawler). Idempotent."""
        new, records, foreign = [], 0, 0
        with path.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                try:
                    record = Written.from_record(json.loads(line))
                except (ValueError, KeyError, TypeError):  # another crawler's, or an older format
                    foreign += 1
                    continue
                records += 1
                known = self.db.execute(
                    "SELECT 1 FROM versions WHERE key = ? AND version = ?", (record.key, record.version)
                ).fetchone()
                if not known:
                    new.append(record)
        with self.transaction():
            for record in new:
                self._store(record, run_id)
            self.file_stored(path, records, at)
        return len(new), foreign

    def adopt_files(self, paths: Iterable[Path], run_id: str, at: str) -> list[tuple[Path, int, int]]:
        """:meth:`adopt` each of ``paths`` not known as stored: (path, new records, foreign lines)."""
        return [(path, *self.adopt(path, run_id, at)) for path in sorted(paths) if not self.file_known(path)]

    def sections_told(self, verdicts: Iterable[SectionVerdict], run_id: str) -> None:
        """What a run made of each section it read (the run that first told one is kept)."""
        with self.transaction():
            self.db.executemany(
                "INSERT INTO sections (key, kind, why, first_page_articles, found_run, told_run)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET kind = excluded.kind,"
                " why = excluded.why, first_page_articles = excluded.first_page_articles,"
                " told_run = excluded.told_run",
                [(*astuple(verdict)[:4], run_id, run_id) for verdict in verdicts],
            )

    def sections(self) -> list[SectionVerdict]:
        """Every section a run told, by key."""
        return [SectionVerdict(*row) for row in self.db.execute(SECTIONS_TOLD)]

    def start_run(self, run_id: str, at: str, mode: str = "", pass_run: str | None = None) -> None:
        """``pass_run``: the run that began the pass this one finishes (itself when None)."""
        self.db.execute(
            "INSERT OR REPLACE INTO runs (run_id, started, mode, pass_run) VALUES (?, ?, ?, ?)",
            (run_id, at, mode, pass_run or run_id),
        )

    def finish_run(
        self, run_id: str, at: str, reason: str, accounting: dict[str, Any], completed: bool = False
    ) -> None:
        """``completed``: the run did all it set out to (a stopped one did not)."""
        self.db.execute(
            "UPDATE runs SET finished = ?, finish_reason = ?, accounting = ?, completed = ? WHERE run_id = ?",
            (at, reason, json.dumps(accounting, sort_keys=True), completed, run_id),
        )

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """The block commits as a whole, or not at all."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
