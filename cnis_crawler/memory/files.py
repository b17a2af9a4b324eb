"""The run files and other output written whole or not at all; where a run's files are.

No Scrapy: the feed storage (:mod:`cnis_crawler.crawling.feedstorage`), the summary, the export
and the report all write through :func:`replacing`. A file is written beside its target as
``.<name>.<pid>.part``, synced and renamed into place, so a reader sees the old file or the new
one, never half of one; a kill leaves a part file that the next writer into the folder removes.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterator

TEMPORARY_RE = re.compile(r"^\..+\.(?P<pid>\d+)\.part$")
RUN_FILES = "cnis-*.jsonl"
"""The records of every run, as settings.FEEDS names them, in the folder of the crawl state."""
RUN_FILE_RE = re.compile(r"^cnis-(?P<run_id>\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d(?:\.\d+)?)-(?P<batch>\d+)\.jsonl$")
PLACEHOLDER_RE = re.compile(r"%\([^)]*\)[-#0 +]*\d*[a-z]")


def new_run_id() -> str:
    """Names a run's files (``%(run_id)s`` in FEEDS, the archive's, a re-extraction's): sortable,
    and unique even for two runs started within the same second."""
    return datetime.now(UTC).strftime(RUN_ID_FORMAT)


RUN_ID_FORMAT = "%Y-%m-%dT%H-%M-%S.%f"


def run_time(run_id: str) -> datetime:
    """When a run began, from its id (or a state timestamp); the distant past for anything else."""
    for form in (RUN_ID_FORMAT, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(run_id, form).replace(tzinfo=UTC)
        except ValueError:
            continue
    return datetime.min.replace(tzinfo=UTC)


@contextmanager
def replacing(target: Path) -> Iterator[IO[bytes]]:
    """A file to write ``target``'s new content into; it replaces ``target`` only when complete.

    The content goes into ``.<name>.<pid>.part`` beside the target, is synced, renamed over it
    and the rename synced: a reader sees the old file or the new one, never half of one. An
    exception leaves the target as it was; a kill leaves a part file that the next writer into
    the folder removes.
    """
    with staged(target) as (part, file):
        yield file
    os.replace(part, target)
    sync_directory(target.parent)


@contextmanager
def staged(target: Path) -> Iterator[tuple[Path, IO[bytes]]]:
    """The part file of ``target`` (``.<name>.<pid>.part``) and a file open on it, synced when
    the block ends; removed if the block raises. Renaming it over ``target`` is the caller's,
    when every file it writes together is complete (:func:`replacing` renames at once)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_parts(target.parent)
    part = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with part.open("wb") as file:
            yield part, file
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        with suppress(OSError):  # a read-only folder: nothing was written either
            part.unlink(missing_ok=True)
        raise


def ensure_writable(folder: Path) -> None:
    """Make ``folder`` if missing and write a file into it: OSError where the disk refuses."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-"):
        pass


def write_atomically(path: Path, content: str | bytes) -> None:
    with replacing(path) as file:
        file.write(content.encode("utf-8") if isinstance(content, str) else content)


def sync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` survive a power cut, not only a killed process."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_abandoned_parts(directory: Path) -> list[Path]:
    """Delete the temporary feed files of processes that no longer run; return them."""
    removed = []
    for path in directory.iterdir():
        match = TEMPORARY_RE.match(path.name)
        if match and not process_alive(int(match["pid"])):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def parse_record(line: bytes) -> tuple[dict[str, Any] | None, str]:
    """A record of this crawler (a JSON object with its ``key`` and ``version``) from a run
    file's line, or None and why the line is none: the crawl and the export read run files alike."""
    try:
        record = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError:
        return None, "not UTF-8"
    except json.JSONDecodeError as error:
        return None, f"not JSON ({error.msg})"
    if not isinstance(record, dict) or "key" not in record or "version" not in record:
        return None, "not a record of this crawler (no key and version)"
    return record, ""


def records_in(path: Path) -> Iterator[tuple[str, int]]:
    """(key, version) of each whole record of a run file; a line cut short or damaged is none."""
    with path.open("rb") as lines:
        for line in lines:
            record, _ = parse_record(line)
            if record is not None:
                yield str(record["key"]), int(record["version"])


def local_path(uri: str) -> Path | None:
    """The file a feed URI names, or None for a remote feed (S3, FTP …)."""
    parts = urlsplit(uri)
    if parts.scheme == "file":
        return Path(unquote(parts.path))
    return Path(uri) if not parts.scheme else None


def writes_run_files(template: Path, state_path: str) -> bool:
    """Whether a feed's files are run files the export reads: ``cnis-*.jsonl`` in the folder of
    the crawl state."""
    in_state_folder = template.parent.resolve() == Path(state_path).parent.resolve()
    # Named as the export reads run files: a sample run's name must match RUN_FILE_RE.
    sample = {"name": "cnis", "run_id": "2026-01-01T00-00-00.000001", "batch_id": 1}
    try:
        name = template.name % sample
    except (KeyError, TypeError, ValueError):
        return False
    return in_state_folder and RUN_FILE_RE.match(name) is not None


def feed_files(template: Path) -> list[Path]:
    """The files a feed's path template has produced: its placeholders read as wildcards."""
    pattern = PLACEHOLDER_RE.sub("*", template.name)
    return [match for match in template.parent.glob(pattern) if match.is_file()]


def run_files(output_dir: Path) -> list[Path]:
    """The run files under ``output_dir`` (named as settings.FEEDS names them), oldest run first;
    an export or ``-o`` feed that happens to start with ``cnis-`` is none."""
    found = {path: match for path in output_dir.glob(RUN_FILES) if (match := RUN_FILE_RE.match(path.name))}
    return sorted(found, key=lambda path: (found[path]["run_id"], int(found[path]["batch"])))
