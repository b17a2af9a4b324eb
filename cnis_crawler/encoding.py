"""Bytes to text: the one place where page bytes are decoded.

Chinese government sites often declare an encoding their bytes do not use: a server that says
``charset=utf-8`` in front of GBK pages, a ``<meta charset=gb2312>`` left in a template that now
writes UTF-8, or no declaration at all. Scrapy's ``response.text`` decodes by the first
declaration it finds (BOM, then HTTP header, then ``<meta>``), so a lying server header turns a
GBK page into replacement characters. Here every candidate is checked by decoding strictly, in
this order:

1. a byte-order mark (it cannot be there by accident);
2. UTF-8, when the bytes are valid UTF-8 (GBK text practically never is);
3. the HTTP header's charset, then the ``<meta>`` charset, gb2312/gbk read as gb18030;
4. gb18030, the superset of every Chinese encoding these sites use.
"""

from __future__ import annotations

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom

# gb2312 and gbk pages routinely contain characters only gb18030 has (镕, 堃, 喆).
SUPERSETS = {"gb2312": "gb18030", "gbk": "gb18030", "cp936": "gb18030", "ascii": "utf-8"}
FALLBACK = "gb18030"


def declared_encodings(body: bytes, content_type: str | None) -> list[str]:
    """The encodings the HTTP header and the page itself declare, header first."""
    found = [http_content_type_encoding(content_type), html_body_declared_encoding(body)]
    return [SUPERSETS.get(name, name) for name in found if name]


def decode_html(body: bytes, content_type: str | None = None) -> str:
    encoding, bom = read_bom(body)
    if encoding is not None and bom is not None:
        return body[len(bom) :].decode(encoding, errors="replace")
    for candidate in ("utf-8", *declared_encodings(body, content_type), FALLBACK):
        try:
            return body.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode(FALLBACK, errors="replace")
