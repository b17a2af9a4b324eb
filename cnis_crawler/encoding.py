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
"""

from __future__ import annotations

import codecs

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

FALLBACK = "gb18030"
REPLACEMENT = "\ufffd"
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
