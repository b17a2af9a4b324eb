"""Serve an offline mirror of the CNIS sites on loopback, each host under ``/<host>/``.

    cnis-crawler mirror tests/fixtures/site              # serve until Ctrl-C
    cnis-crawler mirror tests/fixtures/site --port 8080
    cnis-crawler mirror tests/fixtures/site -- scrapy crawl cnis -a mirror={url}
    cnis-crawler mirror --warc output/warc/            # replay a crawl's archive

The first line printed is the base URL. With a command after ``--``, the mirror serves while the
command runs (``{url}`` in it is replaced by the base URL) and the exit status is the command's.
Directory URLs answer with their ``index.html``/``index.shtml``, as the TRS sites do. A
``_headers.json`` at the mirror's root maps paths (``/<host>/<path>``) to the Content-Type the
server sends for them, so a mirror can reproduce a server that declares the wrong charset.
Files carry ``Last-Modified`` and an nginx-style ``ETag`` from their stat, and conditional requests
get 304 as from nginx (``If-None-Match`` overriding ``If-Modified-Since``), because the crawler's
``-a revalidate=1`` revalidates known articles with them.

``--warc FOLDER`` serves a crawl's archive (``output/warc/``) the same way: each ``/<host>/<path>``
answers with the newest response kept for that live URL, as it was (status, headers, body), so a
crawl of it makes the records the archived crawl made; what was never fetched is a 404.
"""

# The tests serve the same mirror with faults injected on chosen paths (tests/tooling/), by
# wrapping mirror_resource.

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from cnis_crawler.memory.warc import archive_files, index_archive, read_capture
from cnis_crawler.tools.cli import fail, plain
from cnis_crawler.urls import mirrored_live_url

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from twisted.internet.address import IPv4Address, IPv6Address
    from twisted.web.resource import IResource, Resource
    from twisted.web.server import Request, Site

    # What serve() uses of the reactor (IReactorTCP.listenTCP, IReactorCore.run) and of the port
    # listenTCP returns. Twisted types these as zope interfaces, whose methods take no ``self``:
    # mypy reads them only with the mypy-zope plugin, and IListeningPort.getHost gives no host.
    class _ListeningPort(Protocol):
        def getHost(self) -> IPv4Address | IPv6Address: ...  # noqa: N802 (Twisted's method)

    class _Reactor(Protocol):
        def listenTCP(  # noqa: N802 (Twisted's method)
            self, port: int, factory: Site, backlog: int = ..., interface: str = ...
        ) -> _ListeningPort: ...

        def run(self) -> None: ...


SERVER = "cnis_crawler.tools.mirror"
INDEX_NAMES = ("index.shtml", "index.html", "index.htm")
HEADERS_FILE = "_headers.json"
CONTENT_TYPES = {".shtml": "text/html", ".html": "text/html", ".htm": "text/html"}
# Headers the replaying server sends of its own (a kept page's length is its body's).
REPLACED_HEADERS = frozenset(("date", "server", "content-length", "transfer-encoding", "content-encoding"))


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


def mirror_resource(root: Path) -> Resource:
    """The Twisted resource serving the mirror at ``root`` as the live sites serve their pages."""
    from twisted.web.http import NOT_MODIFIED
    from twisted.web.pages import forbidden
    from twisted.web.static import File

    top = root.resolve()
    overrides = content_type_overrides(top)

    class MirrorFile(File):
        indexNames = list(INDEX_NAMES)  # noqa: N815, RUF012 (Twisted's attribute)
        contentTypes = {**File.contentTypes, **CONTENT_TYPES}  # noqa: N815, RUF012

        def createSimilarFile(self, path: str) -> File:  # noqa: N802 (Twisted's method)
            child: File = super().createSimilarFile(path)  # untyped in Twisted
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
                return self._render_file(request)
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
            return self._render_file(request)

        def _render_file(self, request: Request) -> bytes | int:
            rendered: bytes | int = super().render_GET(request)  # untyped in Twisted
            return rendered

        render_HEAD = render_GET  # noqa: N815 (Twisted's method)

    return MirrorFile(str(top))


def archive_resource(folder: Path) -> Resource:
    """The Twisted resource replaying the archive under ``folder`` as a mirror: each path
    ``/<host>/<path>`` answers with the newest response kept for its live URL (status, headers,
    body), 404 for what was never fetched; a tag it sent before gets 304."""
    from twisted.web.http import INTERNAL_SERVER_ERROR, NOT_FOUND, NOT_MODIFIED
    from twisted.web.resource import Resource

    index = index_archive(archive_files(folder))

    class Replay(Resource):
        isLeaf = True  # noqa: N815 (Twisted's attribute)

        def render_GET(self, request: Request) -> bytes:  # noqa: N802 (Twisted's method)
            path, _, query = request.uri.decode("latin-1").partition("?")
            live = mirrored_live_url(path, query)
            # A folder's URL answers with its index page, as the sites (and a folder mirror) do.
            candidates = (
                [live, *(f"{live}{name}" for name in INDEX_NAMES if path.endswith("/"))] if live else []
            )
            capture = next((found for url in candidates if (found := index.captures.get(url))), None)
            if capture is None:
                request.setResponseCode(NOT_FOUND)
                return b"Not in the archive"
            try:
                archived = read_capture(capture)
            except Exception as error:  # noqa: BLE001 (one response it cannot give back, not the server)
                print(f"Unreadable in the archive: {path} ({type(error).__name__}: {error})", file=sys.stderr)
                request.setResponseCode(INTERNAL_SERVER_ERROR)
                return b"Unreadable in the archive"
            request.setResponseCode(archived.status)
            for name, value in archived.headers:
                if name.lower() not in REPLACED_HEADERS:
                    request.responseHeaders.addRawHeader(name, value.encode("utf-8"))
            etag, asked = archived.header("ETag").encode("utf-8"), request.getHeader(b"If-None-Match")
            if etag and asked is not None and etag_matches(asked, etag):
                request.setResponseCode(NOT_MODIFIED)
                return b""
            return archived.body

        render_HEAD = render_GET  # noqa: N815 (Twisted's method)

    return Replay()


def serve(site: Site, host: str, port: int) -> None:
    """Serve ``site`` until the process ends; the first line printed is its base URL."""
    from twisted.internet import reactor as global_reactor

    reactor = cast("_Reactor", global_reactor)
    listening = reactor.listenTCP(port, site, interface=host)
    address = listening.getHost()
    print(f"http://{address.host}:{address.port}", flush=True)
    reactor.run()


class MirrorNotStartedError(RuntimeError):
    """The child serving a mirror ended before it listened (its own error is on stderr)."""


@contextmanager
def running_mirror(
    root: Path | None,
    host: str = "127.0.0.1",
    port: int = 0,
    server: Sequence[str] = (SERVER,),
    warc: Path | None = None,
) -> Iterator[str]:
    """Serve ``root`` (or the archive in ``warc``) in a child process for the duration of the
    block; yields the base URL. ``server``: the command (after ``python -m``) that serves it,
    given ``root --host --port``."""
    served = [str(root)] if warc is None else ["--warc", str(warc)]
    command = [sys.executable, "-u", "-m", *server, *served, "--host", host, "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http"):
            raise MirrorNotStartedError(f"the mirror server did not start (exit status {process.wait()})")
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
    parser = argparse.ArgumentParser(prog="cnis-crawler mirror", description=plain(__doc__))
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("root", type=Path, nargs="?", help="mirror directory holding one folder per host")
    parser.add_argument("--warc", type=Path, help="serve the crawl archive in this folder instead (replay)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=port_number, default=0, help="0 picks a free port")
    args = parser.parse_args(own)
    if (args.root is None) == (args.warc is None):
        parser.error("give a mirror directory or --warc FOLDER (one of them)")
    served: Path = args.root or args.warc
    if not served.is_dir():
        parser.error(f"not a directory: {served}")
    if args.warc is not None and not archive_files(args.warc):
        parser.error(f"no archive file (*.warc.gz) in {args.warc}")
    if not command:
        from twisted.internet.error import CannotListenError
        from twisted.web.server import Site

        resource = mirror_resource(args.root) if args.warc is None else archive_resource(args.warc)
        try:
            serve(Site(resource), args.host, args.port)
        except CannotListenError as error:
            print(
                f"{parser.prog}: error: cannot listen on {args.host}:{args.port}: {error.socketError}",
                file=sys.stderr,
            )
            return 2
        return 0
    try:
        with running_mirror(args.root, args.host, args.port, warc=args.warc) as url:
            print(f"Mirror of {served} served at {url}", flush=True)
            return subprocess.call([part.replace("{url}", url) for part in command])
    except MirrorNotStartedError as error:
        return fail(parser.prog, str(error))


def port_number(text: str) -> int:
    """A TCP port, 0 to 65535: an argparse type."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is no port: 0 to 65535 (0 picks a free one)")
    return int(text)


if __name__ == "__main__":
    sys.exit(main())
