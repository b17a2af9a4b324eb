"""Faults the mirror server injects on chosen paths, to test what the crawler does when the site fails.

``python -m cnis_crawler.tools.mirror DIR --faults FILE`` (or ``running_mirror(DIR, faults=...)``)
serves ``DIR`` as usual except on the paths ``FILE`` names. ``FILE`` is a JSON object mapping
mirror paths (``/<host>/<path>``, as in ``_headers.json``; matched exactly, query ignored) to one
fault each::

    {
      "/en.cnis.ac.cn/kycg/index.shtml": {"kind": "status", "statuses": [503, 502], "then": "serve"},
      "/en.cnis.ac.cn/kycg/202105/t20210525_46830.shtml": {"kind": "reset", "after_bytes": 2000},
      "/www.cnis.ac.cn/tzgg/index.html": {"kind": "pager", "declare": 5}
    }

Every fault takes ``times``: only the first that many requests of the path meet it, later ones
get the file (default: every request). The kinds and what each sends:

``status``      ``statuses`` in order, one per request, with nginx's error page; then the last
                one again, or with ``"then": "serve"`` the file. ``headers`` are added (e.g.
                ``{"Retry-After": "3"}``).
``timeout``     reads the request and never answers; with ``seconds``, answers as usual after
                that long. With ``after_bytes``, sends the headers and that much of the body
                first, then goes silent (or, with ``seconds``, sends the rest after that long).
``reset``       the headers (Content-Length of the whole page) and ``after_bytes`` of the body,
                then a TCP reset (RST).
``truncate``    the headers (Content-Length of the whole page) and ``fraction`` (or
                ``after_bytes``) of the body, then an orderly close (FIN).
``soft404``     200 with a not-found page in the site's frame, in ``lang`` ``en`` or ``zh``
                (default: the host's language).
``redirect``    ``status`` (302) to ``to``: a mirror path (``/<host>/<path>``, made absolute on
                the mirror) or any absolute URL, e.g. the ``https://`` one of the live page.
``redirect_loop`` ``status`` (302) to itself, or with ``via`` to that path, which redirects back.
``empty``       200, ``text/html``, no body.
``pdf``         200, ``application/pdf``, a small valid one-page PDF.
``encoding``    the page's text encoded in ``actual`` while the Content-Type header and the
                ``<meta>`` charset declare ``declared`` (default: the page's own charset).
``huge``        the page padded to ``megabytes`` MiB (10) with HTML comments, or with
                ``"padding": "paragraphs"`` with text, inserted before ``before``
                (``</body>``); streamed a 64 KiB block at a time.
``pager``       the listing page with its script pager declaring ``declare`` pages. A crawler
                reading each page's own pager stops at the last real page, which declares the
                true count: fault that page too to have it ask for one that does not exist.

The server also counts requests (of every path, faulted or not): ``GET /_faults/requests``
answers ``{path: [{"at": unix time, "method": ..., "answer": "serve" | "503" | kind}, ...]}``,
``POST /_faults/reset`` forgets them, which starts every status sequence and ``times`` again,
and ``GET /_faults`` shows the faults loaded.
"""

from __future__ import annotations

import codecs
import copy
import json
import math
import re
import struct
import time
import urllib.request
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

from twisted.internet.interfaces import IPullProducer
from twisted.web.resource import Resource, getChildForRequest
from twisted.web.server import NOT_DONE_YET, Site
from zope.interface import implementer

from cnis_crawler.site import HOSTS

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from twisted.internet.interfaces import ITCPTransport
    from twisted.web.resource import IResource
    from twisted.web.server import Request

CONTROL_PATH = "/_faults"
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
# A huge page's padding is one block of this size written again and again, as the connection
# takes it: no 10 MB string is ever built, and the server's buffer holds about one block.
BLOCK_SIZE = 64 * 1024
# How long a reset waits at most for the partial body to reach the client before the RST.
RESET_FLUSH_SECONDS = 2.0
META_CHARSET_RE = re.compile(r"""(<meta\b[^>]*?charset\s*=\s*["']?)([\w.:-]+)""", re.IGNORECASE)
# The page count of the three script pager shapes (see cnis-site-facts.md §3): the first numeric
# argument of createPageHTML (after an element id in the newer shape), and countPage = N.
PAGER_COUNT_RE = re.compile(
    rb"""(createPageHTML\(\s*(?:(['"])[^'"]*\2\s*,\s*)?)(\d+)|(\bcountPage\s*=\s*)(\d+)"""
)


class FaultError(ValueError):
    """A faults file that cannot be served as written."""


# --- What a path would serve ---------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A faulted path and what the mirror serves there without the fault."""

    path: str
    file: Path | None
    content_type: str
    serve: Callable[[Request], None]
    """Answers a request as the mirror would without faults."""

    @property
    def host(self) -> str:
        return self.path.lstrip("/").split("/", 1)[0]

    def body(self) -> bytes:
        assert self.file is not None, self.path  # checked when the faults were loaded
        return self.file.read_bytes()


# --- The faults ----------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Fault:
    kind: ClassVar[str]
    times: int | None = None
    """Only the first ``times`` requests of the path meet the fault; None: every request."""

    def __post_init__(self) -> None:
        require(self.times is None or is_count(self.times), "times must be a whole number >= 0")

    def applies(self, number: int) -> bool:
        """Whether the ``number``-th request of the path (0 for the first) meets the fault."""
        return self.times is None or number < self.times

    def label(self, number: int) -> str:
        return self.kind

    def needs_file(self) -> bool:
        """Whether the fault sends (part of) the file, which must then exist."""
        return False

    def check(self, target: Target) -> None:
        """Refuses at start-up a fault that could not be served on ``target``."""
        if self.needs_file() and target.file is None:
            raise FaultError(f"{target.path}: {self.kind} needs a file there, and the mirror has none")

    def answer(self, request: Request, number: int, target: Target) -> bytes | int:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            **{name: value for name, value in asdict(self).items() if value is not None},
        }


@dataclass(kw_only=True)
class Status(Fault):
    kind = "status"
    statuses: list[int]
    then: str = "repeat"
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        valid = isinstance(self.statuses, list) and self.statuses
        require(valid and all(is_status(code) for code in self.statuses), "statuses: a list of HTTP codes")
        require(self.then in ("repeat", "serve"), 'then: "repeat" (the last status) or "serve"')
        require(isinstance(self.headers, dict), "headers: an object of header names and values")
        if self.then == "serve" and self.times is None:
            self.times = len(self.statuses)

    def status(self, number: int) -> int:
        return self.statuses[min(number, len(self.statuses) - 1)]

    def label(self, number: int) -> str:
        return str(self.status(number))

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        code = self.status(number)
        request.setResponseCode(code)
        for name, value in self.headers.items():
            request.setHeader(name, str(value))
        request.setHeader("Content-Type", "text/html")
        return error_page(code)


@dataclass(kw_only=True)
class Timeout(Fault):
    kind = "timeout"
    seconds: float | None = None
    after_bytes: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.seconds is None or is_amount(self.seconds), "seconds must be a number >= 0")
        require(self.after_bytes is None or is_count(self.after_bytes), "after_bytes must be >= 0")

    def needs_file(self) -> bool:
        return self.after_bytes is not None

    def answer(self, request: Request, number: int, target: Target) -> int:
        if self.after_bytes is None:
            if self.seconds is not None:
                later(request, self.seconds, lambda: target.serve(request))
            return NOT_DONE_YET  # and nothing else, ever: the client's timeout must end it
        body = target.body()
        cut = partial_length(len(body), self.after_bytes)
        start_body(request, target.content_type, len(body))

        def rest(request: Request) -> None:
            if self.seconds is not None:
                later(request, self.seconds, lambda: Sender(request, [body[cut:]], finish).start())

        Sender(request, [body[:cut]], rest).start()
        return NOT_DONE_YET


@dataclass(kw_only=True)
class Reset(Fault):
    kind = "reset"
    after_bytes: int = 1024

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_count(self.after_bytes), "after_bytes must be a whole number >= 0")

    def needs_file(self) -> bool:
        return True

    def answer(self, request: Request, number: int, target: Target) -> int:
        body = target.body()
        start_body(request, target.content_type, len(body))
        Sender(request, [body[: partial_length(len(body), self.after_bytes)]], reset).start()
        return NOT_DONE_YET


@dataclass(kw_only=True)
class Truncate(Fault):
    kind = "truncate"
    fraction: float = 0.5
    after_bytes: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        fraction_ok = isinstance(self.fraction, int | float) and 0 <= self.fraction < 1
        require(fraction_ok, "fraction must be a number from 0 up to (not including) 1")
        require(self.after_bytes is None or is_count(self.after_bytes), "after_bytes must be >= 0")

    def needs_file(self) -> bool:
        return True

    def answer(self, request: Request, number: int, target: Target) -> int:
        body = target.body()
        wanted = int(len(body) * self.fraction) if self.after_bytes is None else self.after_bytes
        start_body(request, target.content_type, len(body))
        Sender(request, [body[: partial_length(len(body), wanted)]], close).start()
        return NOT_DONE_YET


@dataclass(kw_only=True)
class Soft404(Fault):
    kind = "soft404"
    lang: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(self.lang in (None, *SOFT_404_PAGES), f"lang must be one of {sorted(SOFT_404_PAGES)}")

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        request.setHeader("Content-Type", "text/html")
        host = HOSTS.get(target.host)
        return SOFT_404_PAGES[self.lang or (host.lang if host else "en")].encode("utf-8")


@dataclass(kw_only=True)
class Redirect(Fault):
    kind = "redirect"
    to: str
    status: int = 302

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_location(self.to), "to: a mirror path /<host>/<path> or an absolute http(s) URL")
        require(self.status in REDIRECT_STATUSES, f"status must be one of {REDIRECT_STATUSES}")

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        return redirect(request, self.status, self.to)


@dataclass(kw_only=True)
class RedirectLoop(Fault):
    kind = "redirect_loop"
    via: str | None = None
    status: int = 302

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.via is None or is_location(self.via, absolute=False), "via: a mirror path /<host>/<path>"
        )
        require(self.status in REDIRECT_STATUSES, f"status must be one of {REDIRECT_STATUSES}")

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        return redirect(request, self.status, self.via or target.path)


@dataclass(kw_only=True)
class Empty(Fault):
    kind = "empty"

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        request.setHeader("Content-Type", "text/html")
        return b""


@dataclass(kw_only=True)
class Pdf(Fault):
    kind = "pdf"

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        request.setHeader("Content-Type", "application/pdf")
        return PDF


@dataclass(kw_only=True)
class Encoding(Fault):
    kind = "encoding"
    actual: str
    declared: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_codec(self.actual), "actual: the name of a Python codec, e.g. gb18030")
        require(self.declared is None or is_codec(self.declared), "declared: the name of a codec")

    def needs_file(self) -> bool:
        return True

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        text, own = decode_page(target.body(), target.content_type)
        declared = self.declared or own
        text = META_CHARSET_RE.sub(lambda match: match[1] + declared, text)
        request.setHeader("Content-Type", f"text/html; charset={declared}")
        # A character the actual encoding lacks becomes a character reference: the page stays
        # whole, and the bytes are still those of the actual encoding.
        return text.encode(self.actual, errors="xmlcharrefreplace")


@dataclass(kw_only=True)
class Huge(Fault):
    kind = "huge"
    megabytes: float = 10
    padding: str = "comment"
    before: str = "</body>"

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_amount(self.megabytes), "megabytes must be a number >= 0")
        require(self.padding in PADDING_BLOCKS, f"padding must be one of {sorted(PADDING_BLOCKS)}")
        require(isinstance(self.before, str) and bool(self.before), "before: a string of the page")

    def needs_file(self) -> bool:
        return True

    def check(self, target: Target) -> None:
        super().check(target)
        if self.before.encode() not in target.body():
            raise FaultError(f"{target.path}: huge pads before {self.before!r}, which the page lacks")

    def answer(self, request: Request, number: int, target: Target) -> int:
        body = target.body()
        cut = body.rfind(self.before.encode())
        block = PADDING_BLOCKS[self.padding]
        blocks = max(0, math.ceil((self.megabytes * 2**20 - len(body)) / len(block)))
        start_body(request, target.content_type, len(body) + blocks * len(block))
        chunks = [body[:cut], *[block] * blocks, body[cut:]]
        Sender(request, chunks, finish).start()
        return NOT_DONE_YET


@dataclass(kw_only=True)
class Pager(Fault):
    kind = "pager"
    declare: int

    def __post_init__(self) -> None:
        super().__post_init__()
        require(is_count(self.declare), "declare: the page count to declare, a whole number >= 0")

    def needs_file(self) -> bool:
        return True

    def check(self, target: Target) -> None:
        super().check(target)
        if not has_pager(target.body()):
            raise FaultError(f"{target.path}: pager needs a page with a script pager, and this has none")

    def answer(self, request: Request, number: int, target: Target) -> bytes:
        request.setHeader("Content-Type", target.content_type)
        return declare_pages(target.body(), self.declare)


KINDS: dict[str, type[Fault]] = {
    kind.kind: kind
    for kind in (
        Status,
        Timeout,
        Reset,
        Truncate,
        Soft404,
        Redirect,
        RedirectLoop,
        Empty,
        Pdf,
        Encoding,
        Huge,
        Pager,
    )
}


def require(condition: object, message: str) -> None:
    if not condition:
        raise FaultError(message)


def is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def is_amount(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def is_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def is_location(value: object, absolute: bool = True) -> bool:
    """A mirror path, or (if ``absolute``) an http(s) URL."""
    if not isinstance(value, str):
        return False
    return value.startswith("/") or (absolute and bool(re.match(r"https?://", value)))


def is_codec(value: object) -> bool:
    try:
        codecs.lookup(str(value))
    except LookupError:
        return False
    return isinstance(value, str)


def load_faults(source: Path | str | Mapping[str, Any] | None) -> dict[str, Fault]:
    """The faults of a faults file (or of its parsed JSON), by mirror path; FaultError if invalid."""
    if source is None:
        return {}
    if isinstance(source, Path | str):
        try:
            source = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise FaultError(f"cannot read the faults file {source}: {error}") from error
    if not isinstance(source, Mapping):
        raise FaultError("a faults file is a JSON object mapping /<host>/<path> to a fault")
    faults = {path: parse_fault(path, spec) for path, spec in source.items()}
    # The way back of a loop through another path: that path redirects to the first.
    for path, fault in list(faults.items()):
        if isinstance(fault, RedirectLoop) and fault.via and fault.via != path:
            if fault.via in faults:
                raise FaultError(f"{path}: the loop's via {fault.via} has a fault of its own")
            faults[fault.via] = Redirect(to=path, status=fault.status, times=fault.times)
    return faults


def parse_fault(path: str, spec: object) -> Fault:
    if not isinstance(path, str) or not path.startswith("/") or path.startswith(CONTROL_PATH):
        raise FaultError(f"{path!r}: a faulted path is a mirror path /<host>/<path>")
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str) or spec["kind"] not in KINDS:
        raise FaultError(f"{path}: a fault is an object with a kind, one of {', '.join(KINDS)}")
    kind = KINDS[spec["kind"]]
    parameters = {name: value for name, value in spec.items() if name != "kind"}
    unknown = set(parameters) - {parameter.name for parameter in fields(kind)}
    if unknown:
        raise FaultError(f"{path}: {kind.kind} takes no {', '.join(sorted(unknown))}")
    try:
        return kind(**parameters)
    except TypeError as error:  # a required parameter is missing
        raise FaultError(f"{path}: {kind.kind}: {error}") from error
    except FaultError as error:
        raise FaultError(f"{path}: {kind.kind}: {error}") from error


# --- On the wire ---------------------------------------------------------------------------------


def start_body(request: Request, content_type: str, length: int) -> None:
    """200 with the Content-Length of the whole page, whatever part of it is then sent."""
    request.setHeader("Content-Type", content_type)
    request.setHeader("Content-Length", str(length))


def partial_length(length: int, wanted: int) -> int:
    """At most ``wanted`` bytes, and always fewer than the whole page: the fault is mid-body."""
    return max(0, min(wanted, length - 1))


def redirect(request: Request, status: int, to: str) -> bytes:
    if to.startswith("/"):
        host = request.getHeader("host") or f"{request.getHost().host}:{request.getHost().port}"
        to = f"http://{host}{to}"
    request.setResponseCode(status)
    request.setHeader("Location", to)
    request.setHeader("Content-Type", "text/html")
    return error_page(status)


def later(request: Request, seconds: float, action: Callable[[], None]) -> None:
    """Runs ``action`` after ``seconds``, unless the client has gone away by then."""
    from twisted.internet import reactor

    call = reactor.callLater(seconds, action)  # type: ignore[attr-defined]
    request.notifyFinish().addErrback(lambda _: call.cancel() if call.active() else None)


@implementer(IPullProducer)
class Sender:
    """Writes ``chunks`` as the connection takes them (a pull producer, as Twisted's static files
    are sent), then ends the response with ``end``: finished, closed early, reset or left open."""

    def __init__(self, request: Request, chunks: Iterable[bytes], end: Callable[[Request], None]) -> None:
        self.request: Request | None = request
        self.chunks: Iterator[bytes] = iter(chunks)
        self.end = end

    def start(self) -> None:
        assert self.request is not None
        self.request.registerProducer(self, False)

    def resumeProducing(self) -> None:  # noqa: N802 (Twisted's interface)
        if self.request is None:
            return
        chunk = next(self.chunks, None)
        if chunk is not None:
            self.request.write(chunk)
            return
        request, self.request = self.request, None
        request.unregisterProducer()
        self.end(request)

    def stopProducing(self) -> None:  # noqa: N802 (Twisted's interface)
        self.request = None


def finish(request: Request) -> None:
    request.finish()


def close(request: Request) -> None:
    """An orderly close (FIN) once what was written has gone out: a clean end, short of the
    Content-Length."""
    request.channel.transport.loseConnection()


def reset(request: Request) -> None:
    """A TCP reset once what was written has reached the client.

    Twisted's abortConnection sends the RST (SO_LINGER 0, then close) but drops whatever is still
    in its own buffer, and the kernel drops what it has not yet delivered: so it waits for both.
    """
    from twisted.internet import reactor

    transport: ITCPTransport = request.channel.transport
    deadline = time.monotonic() + RESET_FLUSH_SECONDS

    def when_flushed() -> None:
        if unsent_bytes(transport) and time.monotonic() < deadline:
            reactor.callLater(0.01, when_flushed)  # type: ignore[attr-defined]
        else:
            transport.abortConnection()

    when_flushed()


def unsent_bytes(transport: ITCPTransport) -> int:
    """Bytes written to ``transport`` that the peer has not received yet: those in Twisted's
    buffer (its FileDescriptor's attributes; no public API tells) and, on Linux, in the socket's
    send queue (SIOCOUTQ: sent but not acknowledged, which on loopback means not delivered)."""
    buffered = (
        len(getattr(transport, "dataBuffer", b""))
        - getattr(transport, "offset", 0)
        + getattr(transport, "_tempDataLen", 0)
    )
    try:
        import fcntl
        import termios

        handle = transport.getHandle()
        queued = struct.unpack("i", fcntl.ioctl(handle.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
    except (ImportError, OSError, AttributeError):
        queued = 0
    return buffered + queued


# --- Page content --------------------------------------------------------------------------------


def error_page(code: int) -> bytes:
    """The body nginx sends with an error or redirect status."""
    try:
        title = f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        title = str(code)
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    ).encode()


def decode_page(body: bytes, content_type: str) -> tuple[str, str]:
    """The page's text and the charset it declares (header first, then ``<meta>``; UTF-8 if
    none). gb2312 and gbk are read as their superset gb18030, as browsers do."""
    declared = re.search(r"charset=([\w.:-]+)", content_type, re.IGNORECASE) or re.search(
        rb"""<meta\b[^>]*?charset\s*=\s*["']?([\w.:-]+)""", body[:4096], re.IGNORECASE
    )
    charset = declared[1] if declared else "utf-8"
    charset = charset.decode("ascii") if isinstance(charset, bytes) else charset
    codec = "gb18030" if charset.lower() in ("gb2312", "gbk") else charset
    return body.decode(codec if is_codec(codec) else "utf-8", errors="replace"), charset


def has_pager(body: bytes) -> bool:
    return any(PAGER_COUNT_RE.search(line) for line in body.splitlines() if not is_comment(line))


def declare_pages(body: bytes, count: int) -> bytes:
    """The listing page with every script pager declaring ``count`` pages; commented-out lines
    stay as they are, as the crawler must ignore them anyway."""

    def replace(match: re.Match[bytes]) -> bytes:
        prefix = match[1] if match[1] is not None else match[4]
        return prefix + str(count).encode()

    lines = body.splitlines(keepends=True)
    return b"".join(line if is_comment(line) else PAGER_COUNT_RE.sub(replace, line) for line in lines)


def is_comment(line: bytes) -> bool:
    return line.lstrip().startswith(b"//")


def minimal_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF showing ``lines`` (ASCII), its cross-reference offsets computed."""
    text = "".join(f"({line}) Tj 0 -20 Td " for line in lines)
    stream = f"BT /F1 14 Tf 72 770 Td {text}ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for number, content in enumerate(objects, 1):
        offsets.append(len(pdf))
        pdf += b"%d 0 obj\n%s\nendobj\n" % (number, content)
    xref = len(pdf)
    pdf += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    pdf += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return pdf


PDF = minimal_pdf(
    ["China National Institute of Standardization", "This notice is published as a PDF document."]
)

PADDING_BLOCKS = {
    # "--" may not occur inside an HTML comment.
    "comment": ("<!-- " + "padding " * ((BLOCK_SIZE - 9) // 8) + "-->\n").encode(),
    "paragraphs": (
        "<p>" + "This paragraph only pads the page to a great size. " * ((BLOCK_SIZE - 8) // 52) + "</p>\n"
    ).encode(),
}

# The not-found pages a TRS site serves with status 200, in the frame of the fixture pages
# (header, navigation, footer). The site facts know no CNIS error page: the wording is that of
# Chinese government sites' 404 pages ("对不起，您访问的页面不存在") and its English versions.
# Kept as HTML files beside this module (tests/tooling/fault_pages/).
SOFT_404_PAGES = {
    lang: Path(__file__).with_name("fault_pages").joinpath(f"soft_404_{lang}.html").read_text("utf-8")
    for lang in ("en", "zh")
}
SOFT_404_EN, SOFT_404_ZH = SOFT_404_PAGES["en"], SOFT_404_PAGES["zh"]


# --- The server ----------------------------------------------------------------------------------


class RequestLog:
    """Every request the server answered, by path: when, how asked, and what it got."""

    def __init__(self) -> None:
        self.requests: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)

    def count(self, path: str) -> int:
        return len(self.requests.get(path, ()))

    def record(self, path: str, method: bytes, answer: str) -> None:
        entry = {"at": round(time.time(), 6), "method": method.decode("ascii", "replace"), "answer": answer}
        self.requests[path].append(entry)

    def clear(self) -> None:
        self.requests.clear()


class FaultySite(Site):
    """A Site that answers faulted paths with their fault, everything else from ``resource``."""

    def __init__(
        self,
        resource: IResource,
        faults: dict[str, Fault],
        locate: Callable[[str], tuple[Path, str] | None],
    ) -> None:
        super().__init__(resource)
        self.faults = faults
        self.locate = locate
        self.seen = RequestLog()
        self.control = Control(self)
        for path, fault in faults.items():
            fault.check(self.target(path))

    def target(self, path: str) -> Target:
        found = self.locate(path)
        file, content_type = found if found else (None, "text/html")
        return Target(path, file, content_type, self.serve)

    def serve(self, request: Request) -> None:
        request.render(getChildForRequest(self.resource, request))

    def getResourceFor(self, request: Request) -> IResource:  # noqa: N802 (Twisted's method)
        path = unquote(request.path.decode("ascii", "replace"))
        resource: IResource
        if path == CONTROL_PATH or path.startswith(f"{CONTROL_PATH}/"):
            resource = self.control
        else:
            number = self.seen.count(path)
            fault = self.faults.get(path)
            if fault is None or not fault.applies(number):
                self.seen.record(path, request.method, "serve")
                return super().getResourceFor(request)
            self.seen.record(path, request.method, fault.label(number))
            resource = FaultResource(fault, number, self.target(path))
        # As Site.getResourceFor does before it walks the resource tree, which these skip.
        request.site = self
        request.sitepath = copy.copy(request.prepath)
        return resource


class FaultResource(Resource):
    isLeaf = True  # noqa: N815 (Twisted's attribute)

    def __init__(self, fault: Fault, number: int, target: Target) -> None:
        super().__init__()
        self.fault, self.number, self.target = fault, number, target

    def render(self, request: Request) -> bytes | int:
        return self.fault.answer(request, self.number, self.target)


class Control(Resource):
    """``/_faults``: the faults loaded (GET), ``/requests`` (GET) and ``/reset`` (POST)."""

    isLeaf = True  # noqa: N815 (Twisted's attribute)

    def __init__(self, site: FaultySite) -> None:
        super().__init__()
        self.site = site

    def render(self, request: Request) -> bytes:
        action = unquote(request.path.decode("ascii", "replace"))[len(CONTROL_PATH) :].strip("/")
        answers: dict[tuple[bytes, str], Callable[[], object]] = {
            (b"GET", ""): lambda: {path: fault.describe() for path, fault in self.site.faults.items()},
            (b"GET", "requests"): lambda: self.site.seen.requests,
            (b"POST", "reset"): self.reset,
        }
        answer = answers.get((request.method, action))
        if answer is None:
            request.setResponseCode(404 if action not in {name for _, name in answers} else 405)
            return b""
        request.setHeader("Content-Type", "application/json")
        request.setHeader("Cache-Control", "no-store")
        return json.dumps(answer(), ensure_ascii=False, indent=1).encode("utf-8")

    def reset(self) -> dict[str, bool]:
        self.site.seen.clear()
        return {"reset": True}


# --- For tests -----------------------------------------------------------------------------------


def requests_seen(base_url: str) -> dict[str, list[dict[str, Any]]]:
    """What a faulting mirror at ``base_url`` was asked, by path (``GET /_faults/requests``)."""
    with urllib.request.urlopen(f"{base_url}{CONTROL_PATH}/requests", timeout=10) as response:
        return json.load(response)


def reset_requests(base_url: str) -> None:
    """Forget the requests seen, which starts every status sequence and ``times`` again."""
    request = urllib.request.Request(f"{base_url}{CONTROL_PATH}/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass
