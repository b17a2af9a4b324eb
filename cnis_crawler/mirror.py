"""Serve an offline mirror of the CNIS sites on loopback, each host under ``/<host>/``.

    python -m cnis_crawler.mirror tests/fixtures/site              # serve until Ctrl-C
    python -m cnis_crawler.mirror tests/fixtures/site --port 8080
    python -m cnis_crawler.mirror tests/fixtures/site -- scrapy crawl cnis -a mirror={url}

The first line printed is the base URL. With a command after ``--``, the mirror serves while the
command runs (``{url}`` in it is replaced by the base URL) and the exit status is the command's.
Directory URLs answer with their ``index.html``/``index.shtml``, as the TRS sites do. A
``_headers.json`` at the mirror's root maps paths (``/<host>/<path>``) to the Content-Type the
server sends for them, so a mirror can reproduce a server that declares the wrong charset.
Files carry ``Last-Modified`` and an nginx-style ``ETag`` from their stat, and conditional requests
get 304 as from nginx (``If-None-Match`` overriding ``If-Modified-Since``), because the crawler's
``-a revalidate=1`` revalidates known articles with them.

``--faults FILE`` makes chosen paths fail as a live server does (error statuses, timeouts, resets,
truncated, soft-404, redirected, empty, PDF, mis-encoded, huge pages, a pager declaring too
many pages) and counts every request (``GET /_faults/requests``): see ``cnis_crawler.faults``.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from twisted.web.resource import IResource
    from twisted.web.server import Request

INDEX_NAMES = ("index.shtml", "index.html", "index.htm")
HEADERS_FILE = "_headers.json"
CONTENT_TYPES = {".shtml": "text/html", ".html": "text/html", ".htm": "text/html"}


def content_type_overrides(root: Path) -> dict[str, str]:
    path = root / HEADERS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def etag_matches(if_none_match: bytes, etag: bytes) -> bool:
    """Weak comparison (RFC 9110 §13.1.2) of ``etag`` with an ``If-None-Match`` list.

    Twisted's own ``Request.setETag`` splits the header on whitespace only, so it misses a tag
    followed by a comma in a list and any ``W/`` tag.
    """
    tags = [tag.strip().removeprefix(b"W/") for tag in if_none_match.split(b",")]
    return b"*" in tags or etag.removeprefix(b"W/") in tags


def locate(top: Path, overrides: dict[str, str], path: str) -> tuple[Path, str] | None:
    """The file served at a mirror path (``/<host>/<path>``) and its Content-Type, as MirrorFile
    serves them; None if nothing is. Faults that send (part of) a page read it from here."""
    file = (top / path.lstrip("/")).resolve()
    if file.is_dir():
        file = next((file / name for name in INDEX_NAMES if (file / name).is_file()), file)
    if not file.is_file() or not file.is_relative_to(top):
        return None
    own = overrides.get("/" + file.relative_to(top).as_posix())
    return file, own or CONTENT_TYPES.get(file.suffix) or mimetypes.guess_type(file.name)[0] or "text/html"


def serve(root: Path, host: str, port: int, faults_file: Path | None = None) -> None:
    from twisted.internet import reactor
    from twisted.web.http import NOT_MODIFIED
    from twisted.web.pages import forbidden
    from twisted.web.server import Site
    from twisted.web.static import File

    top = root.resolve()
    overrides = content_type_overrides(top)

    class MirrorFile(File):
        indexNames = list(INDEX_NAMES)  # noqa: N815, RUF012 (Twisted's attribute)
        contentTypes = {**File.contentTypes, **CONTENT_TYPES}  # noqa: N815, RUF012

        def createSimilarFile(self, path: str) -> File:  # noqa: N802 (Twisted's method)
            child = super().createSimilarFile(path)
            if content_type := overrides.get("/" + Path(path).relative_to(top).as_posix()):
                child.type, child.encoding = content_type, None
            return child

        def directoryListing(self) -> IResource:  # noqa: N802 (Twisted's method)
            # A web server of the live site never lists a folder; a listing would also expose
            # the .expected.json files to the crawler.
            return forbidden()

        def render_GET(self, request: Request) -> bytes | int:  # noqa: N802 (Twisted's method)
            self.restat(False)
            if not self.isfile():
                return super().render_GET(request)
            # From the stat, as nginx does, so that large pages are never read just to tag them.
            stat = os.stat(self.path)
            etag = request.etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'.encode()
            if_none_match = request.getHeader(b"If-None-Match")
            if if_none_match is not None:
                # RFC 9110 §13.2.2: If-None-Match overrides If-Modified-Since, so a changed tag
                # gets the new body even when the file's mtime is not after the client's date.
                request.requestHeaders.removeHeader(b"If-Modified-Since")
                if etag_matches(if_none_match, etag):
                    request.setResponseCode(NOT_MODIFIED)
                    request.setLastModified(self.getModificationTime())
                    return b""
            return super().render_GET(request)

        render_HEAD = render_GET  # noqa: N815 (Twisted's method)

    site = Site(MirrorFile(str(top)))
    if faults_file is not None:
        # Imported only here: a mirror without faults runs exactly the code it always did.
        from cnis_crawler.faults import FaultError, FaultySite, load_faults

        try:
            faults = load_faults(faults_file)
            site = FaultySite(site.resource, faults, lambda path: locate(top, overrides, path))
        except FaultError as error:
            raise SystemExit(f"mirror: {error}") from error
    listening = reactor.listenTCP(port, site, interface=host)  # type: ignore[attr-defined]
    address = listening.getHost()
    print(f"http://{address.host}:{address.port}", flush=True)
    reactor.run()  # type: ignore[attr-defined]


@contextmanager
def running_mirror(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Path | Mapping[str, Any] | None = None,
) -> Iterator[str]:
    """Serve ``root`` in a child process for the duration of the block; yields the base URL.

    ``faults``: a faults file, or its content as a mapping (see :mod:`cnis_crawler.faults`).
    """
    if faults is None:
        with _mirror_process(root, host, port, None) as url:
            yield url
        return
    from cnis_crawler.faults import load_faults

    load_faults(faults)  # a mistake in the faults fails here, with its message, not in the child
    if isinstance(faults, Path):
        with _mirror_process(root, host, port, faults) as url:
            yield url
        return
    with tempfile.TemporaryDirectory(prefix="mirror-faults-") as directory:
        faults_file = Path(directory) / "faults.json"
        faults_file.write_text(json.dumps(dict(faults)), encoding="utf-8")
        with _mirror_process(root, host, port, faults_file) as url:
            yield url


@contextmanager
def _mirror_process(root: Path, host: str, port: int, faults_file: Path | None) -> Iterator[str]:
    command = [
        sys.executable,
        "-u",
        "-m",
        "cnis_crawler.mirror",
        str(root),
        "--host",
        host,
        "--port",
        str(port),
        *(["--faults", str(faults_file)] if faults_file is not None else []),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise RuntimeError(f"mirror server did not start (exit code {process.wait()})")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    # Everything after "--" is the command, split off before argparse sees it, so that options
    # of the command are never read as the server's own.
    split = arguments.index("--") if "--" in arguments else len(arguments)
    own, command = arguments[:split], arguments[split + 1 :]
    parser = argparse.ArgumentParser(prog="python -m cnis_crawler.mirror", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("root", type=Path, help="mirror directory holding one folder per host")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--faults", type=Path, metavar="FILE", help="JSON faults per path (cnis_crawler.faults)"
    )
    args = parser.parse_args(own)
    if not args.root.is_dir():
        parser.error(f"not a directory: {args.root}")
    if args.faults is not None:
        from cnis_crawler.faults import FaultError, load_faults

        try:
            load_faults(args.faults)
        except FaultError as error:
            parser.error(str(error))
    if not command:
        serve(args.root, args.host, args.port, args.faults)
        return 0
    with running_mirror(args.root, args.host, args.port, args.faults) as url:
        print(f"Mirror of {args.root} served at {url}", flush=True)
        return subprocess.call([part.replace("{url}", url) for part in command])


if __name__ == "__main__":
    sys.exit(main())
