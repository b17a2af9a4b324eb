"""The standards and committees a text mentions, normalised, in order of first mention.

Standards: Chinese national (``GB``, ``GB/T``, ``GB/Z``), industry and local (``SN/T``, ``HG/T``,
``DB11/T``, ``JJF``, ``JJG``), group (``T/CAS``), international and foreign (``ISO``, ``ISO/IEC``,
``ISO/TS``, ``IEC``, ``EN``, ``ASTM``), each with its number, parts and year as written:
``GB/T 1.1-2020``, ``ISO/IEC 27001:2022``, ``IEC 60335-1``, ``ASTM D6400``. Committees: technical
committees and their subcommittees (``ISO/TC 268/SC 1``, ``IEC/TC 111``, ``SAC/TC 28/SC 1``) and
``ISO/IEC JTC 1``.

Pages write them in many ways: in full-width letters (as a Chinese input method types them),
with a long dash before the year (``GB/T 1.1—2020``), without the space (``GB/T19001-2016``) or
with more (``GB / T 19001``). A mention is normalised to one form: ASCII, one space between the
code and the number, ``-`` before a year or part. A number alone is never a standard (a year
range, a phone number); a code followed by a year alone (``ISO 2021``) is a year, not ISO 2021.
"""

from __future__ import annotations

import re
import unicodedata

# Dashes a page may write between a number and its year or part.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d", "-"))
# Nothing of a code may stand right before it: "SGB 123" or "1GB/T" is no mention.
_START = r"(?<![A-Za-z0-9/])"
_YEAR = r"(?:19|20)\d\d"

STANDARD_CODES = (
    r"GB(?:\s*/\s*[TZ])?",
    r"ISO(?:\s*/\s*(?:IEC|TS|TR|PAS|ASTM))*",
    r"IEC(?:\s*/\s*(?:TS|TR|PAS))*",
    r"EN(?:\s+ISO)?",
    r"ASTM",
    r"JJ[FG]",
    r"[A-Z]{2}(?:\d{2})?\s*/\s*T",
    r"T\s*/\s*[A-Z]{2,8}",
)
_STANDARD_RE = re.compile(
    _START
    + rf"(?P<code>{'|'.join(STANDARD_CODES)})"
    + r"\s*(?P<number>[A-Z]?\d+(?:\.\d+)*)"
    + rf"(?P<tail>(?:\s?-\s?(?!{_YEAR}(?!\d))\d+)*)"
    + rf"(?P<year>(?:\s?[-:]\s?{_YEAR}(?!\d)))?"
    + r"(?![\d.]*\d)"
)
_COMMITTEE_RE = re.compile(
    _START
    + r"(?:(?P<body>ISO\s*/\s*IEC|ISO|IEC|SAC|CEN|CENELEC)\s*/?\s*)?"
    + r"(?P<kind>TC|JTC|PC)\s*(?P<number>\d+)"
    + r"(?P<subs>(?:\s*/\s*(?:SC|WG)\s*\d+[A-Z]?)*)"
    + r"(?!\d)"
)


def standards_in(text: str) -> list[str]:
    """The standards ``text`` mentions, normalised, each once, in order of first mention."""
    found: dict[str, None] = {}
    for match in _STANDARD_RE.finditer(_plain(text)):
        code = re.sub(r"\s*/\s*", "/", match["code"])
        code = re.sub(r"\s+", " ", code)
        number, tail, year = match["number"], match["tail"] or "", match["year"] or ""
        if not tail and not year and re.fullmatch(_YEAR, number) and not code.startswith(("GB", "T/")):
            continue  # "ISO 2021 annual meeting": a year
        tail = re.sub(r"\s", "", tail)
        year = re.sub(r"\s", "", year)
        found.setdefault(f"{code} {number}{tail}{year}", None)
    return list(found)


def committees_in(text: str) -> list[str]:
    """The committees ``text`` mentions, normalised, each once, in order of first mention."""
    found: dict[str, None] = {}
    for match in _COMMITTEE_RE.finditer(_plain(text)):
        body = re.sub(r"\s", "", match["body"] or "")
        kind = match["kind"]
        if kind == "JTC":
            body = "ISO/IEC"  # the one joint technical committee
            name = f"{body} JTC {match['number']}"
        elif not body:
            continue  # "TC 46" alone: of no body a reader can tell
        else:
            name = f"{body}/{kind} {match['number']}"
        for sub, number in re.findall(r"(SC|WG)\s*(\d+[A-Z]?)", match["subs"] or ""):
            name += f"/{sub} {number}"
        found.setdefault(name, None)
    return list(found)


def _plain(text: str) -> str:
    """Full-width letters and digits as ASCII, every dash as ``-``."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)
