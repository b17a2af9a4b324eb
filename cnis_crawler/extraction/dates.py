"""Calendar dates as pages print them: ``2024-03-15``, ``2024/3/15``, ``2024.03.15``,
``2024年3月15日``, ``15 March 2024``, ``15-Mar-2024``, ``March 15, 2024``, ``Mar. 15, 2024``, and
``15/03/2024`` or ``03/15/2024`` (month first where both numbers could be the month); each maybe
followed by a time (``09:30``, ``09时30分``). Only whole, valid dates count: ``2024-02-30`` and
``03-15`` are none."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("January", "Jan"),
            ("February", "Feb"),
            ("March", "Mar"),
            ("April", "Apr"),
            ("May",),
            ("June", "Jun"),
            ("July", "Jul"),
            ("August", "Aug"),
            ("September", "Sept", "Sep"),
            ("October", "Oct"),
            ("November", "Nov"),
            ("December", "Dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# Digits are not part of a longer number on either side: "12024-03-15" and "2024-03-150" are no dates.
# A year may stand apart from a two-digit month and day printed in elements of their own (Xinhua's
# <em>2021</em> <em>05</em>/<em>25</em>); "2021 3.5" is no date.
_NUMERIC = (
    r"(?<!\d)(?P<y>\d{4})(?:\s*[-/.年]\s*(?P<m>\d{1,2})|\s+(?P<m0>\d{2})(?=[-/.]\d{2}(?!\d)))"
    r"\s*[-/.月]\s*(?P<d>\d{1,2})(?!\d)(?:\s*日)?"
)
_DAY_MONTH_YEAR = (
    rf"(?<![\w])(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+|-)(?P<m2>{_MONTH})\.?,?(?:\s+|-)(?P<y2>\d{{4}})(?!\d)"
)
# 22/10/2025 or 10/22/2025: read only where the day cannot be the month (above 12).
_DAY_OR_MONTH_FIRST = r"(?<![\d/.])(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y4>\d{4})(?!\d)"
_MONTH_DAY_YEAR = (
    rf"(?<![\w])(?P<m3>{_MONTH})\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}})(?!\d)"
)
_TIME = (
    # "2024-03-15 09:30", "…T09:30", "Wed, 05/10/2023 - 08:00", "3月15日16:02", "10时21分"
    r"(?:(?:\s*T\s*|\s*[-\u2013,]\s*|\s+|(?<=日))"
    r"(?:\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?|\d{1,2}时\d{1,2}分(?:\d{1,2}秒)?))?"
)
DATE_RE = re.compile(
    rf"(?:{_NUMERIC}|{_DAY_MONTH_YEAR}|{_MONTH_DAY_YEAR}|{_DAY_OR_MONTH_FIRST}){_TIME}", re.IGNORECASE
)
# Before the full pattern: most lines hold no digit run of four, and then no date.
_YEAR_RE = re.compile(r"\d{4}")


@dataclass(frozen=True)
class FoundDate:
    day: str
    """ISO ``YYYY-MM-DD``."""
    start: int
    end: int
    """Where the date (and its time, if any) stands in the text searched."""
    other_reading: str | None = None
    """Day first, where ``05/10/2023`` could be either (``day`` reads it month first): the
    reader may know better (a date is never later than its URL's)."""


def may_hold_a_date(text: str) -> bool:
    """Whether ``text`` holds four digits in a row, as every date does: most lines do not."""
    return _YEAR_RE.search(text) is not None


def find_dates(text: str) -> list[FoundDate]:
    """Every valid date in ``text``, in order."""
    if not may_hold_a_date(text):
        return []
    found = []
    for match in DATE_RE.finditer(text):
        if (day := _iso(match)) is not None:
            found.append(FoundDate(day, match.start(), match.end(), _day_first(match)))
    return found


def parse_day(text: str | None) -> str | None:
    """The first valid date in ``text`` as ``YYYY-MM-DD``, or None."""
    found = find_dates(text) if text else []
    return found[0].day if found else None


def _iso(match: re.Match[str]) -> str | None:
    if match["y"]:
        year, month, day = match["y"], match["m"] or match["m0"], match["d"]
    elif match["y2"]:
        year, month, day = match["y2"], str(MONTHS[_month_key(match["m2"])]), match["d2"]
    elif match["y3"]:
        year, month, day = match["y3"], str(MONTHS[_month_key(match["m3"])]), match["d3"]
    else:
        first, second = int(match["a"]), int(match["b"])
        if first > 12 and second > 12:
            return None
        # The day is the number above 12; where neither is, month first, as US-made CMSs print
        # (Drupal's "05/10/2023"): a site in Chinese writes the year first.
        month, day = (str(second), str(first)) if first > 12 else (str(first), str(second))
        year = match["y4"]
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        return None


def _day_first(match: re.Match[str]) -> str | None:
    """The day-first reading of an ambiguous ``05/10/2023``, if it is a date; else None."""
    if not match["y4"] or int(match["a"]) > 12 or int(match["b"]) > 12 or match["a"] == match["b"]:
        return None
    try:
        return date(int(match["y4"]), int(match["b"]), int(match["a"])).isoformat()
    except ValueError:
        return None


def _month_key(name: str) -> str:
    """Month names match case-insensitively; the table is keyed as the names are written."""
    return name[:1].upper() + name[1:].lower()
