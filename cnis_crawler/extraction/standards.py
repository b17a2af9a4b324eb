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
from functools import lru_cache

# Dashes a page may write between a number and its year or part.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\uff0d", "-"))
# Nothing of a code may stand right before it ("SGB 123", "1GB/T"), nor a slash after a letter
# (the IEC of "ISO/IEC"); after a number's slash a code starts again: the ISO half of the dual
# number "GB/T 19001-2016/ISO 9001:2015".
# Every code starts with a capital: looked ahead for first, the lookbehinds are only tried there
# (twice as fast a scan, the same matches).
_START = r"(?=[A-Z])(?<![A-Za-z0-9])(?<![A-Za-z]/)"
_YEAR = r"(?:19|20)\d\d"
# Chinese measure words: "ISO 167个成员" counts members, it names no standard.
_COUNTERS = "个名家项位届次多余年月日"

STANDARD_CODES = (
    r"GBZ(?:\s*/\s*T)?",
    r"GB(?:\s*/\s*[TZ])?",
    r"ISO(?:\s*/\s*(?:IEC|IEEE|ASTM))*(?:\s*[/ ]\s*(?:TS|TR|PAS|DIS|FDIS|CD|Guide))?",
    r"IEC(?:\s*[/ ]\s*(?:TS|TR|PAS))?",
    r"EN(?:\s+ISO)?",
    r"ASTM",
    r"IEEE",
    r"ITU-T\s*[A-Z]\.",
    r"JJ[FG]",
    r"[A-Z]{2,3}(?:\s*\d{2})?\s*/\s*T",
    r"[TQ]\s*/\s*[A-Z]{2,8}",
)
"""Codes of standards, longest first where one begins another."""
_MANDATORY_CODE = r"[A-Z]{2,3}"
"""A sector's mandatory standards (``YY 0505-2012``, ``JGJ 3-2010``): taken with a year only, as
two or three capitals and a number alone are as often a product (``RTX 4090``)."""
_NUMBER = r"(?P<number>[A-Z]?\d+(?:\.\d+)*)"
_TAIL = rf"(?P<tail>(?:\s?-\s?(?!{_YEAR}(?!\d))\d+)*)"
_END = rf"(?![\d.]*\d)(?![A-Za-z{_COUNTERS}])"
_STANDARD_RE = re.compile(
    _START
    + rf"(?:(?P<code>{'|'.join(STANDARD_CODES)})\s*{_NUMBER}{_TAIL}"
    + rf"(?P<year>\s?[-:]\s?{_YEAR}(?!\d))?"
    + rf"|(?P<mandatory>{_MANDATORY_CODE})\s*(?P<m_number>\d+(?:\.\d+)*)(?P<m_year>\s?-\s?{_YEAR}(?!\d)))"
    + _END
)
INTERNATIONAL = ("ISO", "IEC", "EN", "ASTM", "IEEE", "ITU")
"""Codes whose year follows a colon (``ISO 9001:2015``); others' a dash (``GB/T 19001-2016``)."""
_COMMITTEE_RE = re.compile(
    _START
    + r"(?:(?P<body>ISO\s*/\s*IEC|CEN\s*[-/]\s*CENELEC|ISO|IEC|SAC|CENELEC|CEN)\s*[-/]?\s*)?"
    + r"(?P<kind>TC|JTC|PC|SC)\s*(?P<number>\d+[A-Z]?)"
    + r"(?P<subs>(?:\s*/?\s*(?:SC|WG)\s*\d+[A-Z]?)*)"
    + r"(?![\dA-Za-z])"
)


# "ISO 9001, 14001 and 45001", "GB/T 19001、19004": numbers that share the code before them.
_LISTED_RE = re.compile(
    rf"\s*(?:,|、|/|和|与|及|or|and|&)\s*(?P<number>\d{{3,}}(?:\.\d+)*){_TAIL}"
    rf"(?P<year>\s?[-:]\s?{_YEAR}(?!\d))?{_END}"
)


def named_in(title: str | None, subtitle: str | None, body: str | None) -> tuple[list[str], list[str]]:
    """The standards and the committees an article names: in its headline and its text, not in
    the page's menus and sidebars."""
    about = "\n".join(filter(None, (title, subtitle, body)))
    return standards_in(about), committees_in(about)


def standards_in(text: str) -> list[str]:
    """The standards ``text`` mentions, normalised, each once, in order of first mention."""
    found: dict[str, None] = {}
    plain = _plain(text)
    for match in _STANDARD_RE.finditer(plain):
        if match["mandatory"]:
            found.setdefault(f"{match['mandatory']} {match['m_number']}-{match['m_year'].strip(' -')}", None)
            continue
        code = re.sub(r"\s*/\s*", "/", match["code"])
        code = re.sub(r"([A-Z])\s+(\d)", r"\1\2", re.sub(r"\s+", " ", code))  # DB 11/T: DB11/T
        if first := _standard(code, match):
            found.setdefault(first, None)
            end = match.end()
            while listed := _LISTED_RE.match(plain, end):
                if more := _standard(code, listed):
                    found.setdefault(more, None)
                end = listed.end()
    return list(found)


def _standard(code: str, match: re.Match[str]) -> str | None:
    """The normalised name of the standard ``code`` and ``match`` (its number, tail, year)
    give, or None when the number is a year ("ISO 2021 annual meeting", "ISO 2016-2020")."""
    number, tail, year = match["number"], re.sub(r"\s", "", match["tail"] or ""), match["year"] or ""
    if not tail and re.fullmatch(_YEAR, number) and not code.startswith(("GB", "T/")):
        return None
    if year:
        year = (":" if code.startswith(INTERNATIONAL) else "-") + year.strip(" -:")
    elif not code.startswith(INTERNATIONAL) and (short := re.fullmatch(r"-([5-9]\d)", tail)):
        # A Chinese standard of the last century gave its year in two digits (GB 2760-96: of
        # 1996); its parts are numbered after a dot (GB 4706.1), never after a dash.
        tail, year = "", f"-19{short[1]}"
    space = "" if code.endswith(".") else " "  # ITU-T Y.4900
    return f"{code}{space}{number}{tail}{year}"


def committees_in(text: str) -> list[str]:
    """The committees ``text`` mentions, normalised, each once, in order of first mention."""
    found: dict[str, None] = {}
    for match in _COMMITTEE_RE.finditer(_plain(text)):
        body = re.sub(r"\s", "", match["body"] or "").replace("CEN/CENELEC", "CEN-CENELEC")
        kind = match["kind"]
        if kind == "JTC":
            name = f"{body or 'ISO/IEC'} JTC {match['number']}"  # ISO/IEC's, unless named
        elif not body or (kind == "SC" and body != "IEC"):
            continue  # "TC 46" alone: of no body a reader can tell; only IEC has SCs of its own
        else:
            name = f"{body}/{kind} {match['number']}"
        for sub, number in re.findall(r"(SC|WG)\s*(\d+[A-Z]?)", match["subs"] or ""):
            name += f"/{sub} {number}"
        found.setdefault(name, None)
    return list(found)


@lru_cache(maxsize=2)  # the same text is read for standards, then for committees
def _plain(text: str) -> str:
    """Full-width letters and digits as ASCII, every dash as ``-``."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)
