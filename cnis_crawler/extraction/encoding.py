"""Bytes to text: the one place where page bytes are decoded.

Chinese government sites often declare an encoding their bytes do not use: a server that says
``charset=utf-8`` (or Apache's old default ``ISO-8859-1``) in front of GBK pages, a
``<meta charset=gb2312>`` left in a template that now writes UTF-8, or no declaration at all.
Scrapy's ``response.text`` decodes by the first declaration it finds (BOM, then HTTP header,
then ``<meta>``), so a lying server header turns a GBK page into replacement characters. Here
every candidate is checked by decoding strictly, in this order:

1. a byte-order mark (it cannot be there by accident);
2. UTF-8, when the bytes are valid UTF-8 (GBK text practically never is);
3. the multi-byte charsets the HTTP header and the ``<meta>`` declare (w3lib reads gb2312 and gbk
   as their superset gb18030);
4. gb18030, the superset of every Chinese encoding these sites use;
5. single-byte charsets (cp1252, latin-1, …) last: they decode any bytes without error, so a
   successful decode proves nothing.

Bytes that no candidate decodes strictly (a stray truncated character) are decoded by the
candidate that needs the fewest replacement characters.

Bytes that are no text at all (a transfer that delivered garbage) still decode to *something*;
:func:`garbled_share` tells such text from a page by its share of characters no page contains.
"""

from __future__ import annotations

import codecs
import re

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

FALLBACK = "gb18030"
REPLACEMENT = "\ufffd"
# Characters no web page's text holds: C0 controls but tab, newline, carriage return and form
# feed; DEL and the C1 controls (what stray bytes become in a single-byte charset); and U+FFFD,
# what bytes become that the chosen charset cannot decode.
GARBLE_RE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]+")
# A whole page above this share is garbage, not text. Random bytes decode to 10-40 % of such
# characters in any candidate charset; a real page has none, or a few from one damaged character.
GARBLED_MAX_SHARE = 0.01
SINGLE_BYTE = frozenset(codecs.lookup(name).name for name in ("cp1252", "latin-1", "ascii", "iso8859-15"))


def is_single_byte(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in SINGLE_BYTE
    except LookupError:
        return False


def candidate_encodings(body: bytes, content_type: str | None) -> list[str]:
    """Every encoding worth trying, strongest evidence first (see the module's docstring)."""
    declared = [http_content_type_encoding(content_type), html_body_declared_encoding(body)]
    known = [name for name in declared if name]
    multi_byte = [name for name in known if not is_single_byte(name)]
    single_byte = [name for name in known if is_single_byte(name)]
    return list(dict.fromkeys(["utf-8", *multi_byte, FALLBACK, *single_byte]))


def decode_html(body: bytes, content_type: str | None = None) -> str:
    encoding, bom = read_bom(body)
    if encoding is not None and bom is not None:
        return body[len(bom) :].decode(encoding, errors="replace")
    candidates = candidate_encodings(body, content_type)
    for candidate in candidates:
        try:
            return body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    decodings = []
    for candidate in candidates:
        try:
            decodings.append(body.decode(candidate, errors="replace"))
        except LookupError:
            continue
    return min(decodings, key=lambda text: text.count(REPLACEMENT))


def garbled_share(text: str) -> float:
    """The share of ``text``'s characters that no page holds (see :data:`GARBLE_RE`); 0 when empty."""
    if not text:
        return 0.0
    return sum(match.end() - match.start() for match in GARBLE_RE.finditer(text)) / len(text)


# What a server sends for a "page" that is a file of another kind, whatever its URL and header.
BINARY_SIGNATURES = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\xd0\xcf\x11\xe0")
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")


def media_type(content_type: str) -> str:
    """``text/html`` of ``text/html; charset=gbk``, lower case."""
    return content_type.split(";", 1)[0].strip().lower()


def not_html_page(content_type: str, body: bytes) -> str | None:
    """Why a response with this ``Content-Type`` and body is no HTML page, or None: another
    declared type, or the bytes of a PDF, an archive, a picture or a Word file."""
    declared = media_type(content_type)
    if declared not in HTML_TYPES:
        return f"not HTML ({declared or 'no Content-Type'})"
    if body.lstrip()[:8].startswith(BINARY_SIGNATURES):
        return f"not HTML (a {body.lstrip()[:4]!r}… file served as {declared or 'no type'})"
    return None
