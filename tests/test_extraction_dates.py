"""Dates as pages write them: every accepted form, and what is no date."""

from __future__ import annotations

import pytest

from cnis_crawler.extraction.dates import find_dates, parse_day


@pytest.mark.parametrize(
    ("text", "day", "span"),
    [
        ("2024-03-15", "2024-03-15", "2024-03-15"),
        ("2024/3/5", "2024-03-05", "2024/3/5"),
        ("2024.03.15", "2024-03-15", "2024.03.15"),
        ("2024年3月15日", "2024-03-15", "2024年3月15日"),
        ("2024 年 03 月 15 日 星期五", "2024-03-15", "2024 年 03 月 15 日"),
        ("15 March 2024", "2024-03-15", "15 March 2024"),
        ("March 15, 2024", "2024-03-15", "March 15, 2024"),
        ("Mar. 15, 2024", "2024-03-15", "Mar. 15, 2024"),
        ("sept 3, 2021", "2021-09-03", "sept 3, 2021"),
        ("Release time: 2024-03-15 09:30 | CNIS", "2024-03-15", "2024-03-15 09:30"),
        ("发布时间：2024年03月15日 10:20:11 来源：", "2024-03-15", "2024年03月15日 10:20:11"),
        ("2024-03-15T09:30:00+08:00", "2024-03-15", "2024-03-15T09:30:00"),
        ("15 March 2024 10:00 am", "2024-03-15", "15 March 2024 10:00 am"),
        ("Release date: 22-Oct-2025 Source: CNIS", "2025-10-22", "22-Oct-2025"),
        ("Published: 22/10/2025", "2025-10-22", "22/10/2025"),
        ("10/22/2025 09:00", "2025-10-22", "10/22/2025 09:00"),
        ("Posted on October 22nd, 2025 by admin", "2025-10-22", "October 22nd, 2025"),
        ("Submitted by webmaster on Wed, 05/10/2023 - 08:00", "2023-05-10", "05/10/2023 - 08:00"),
        ("2024年03月29日 10时21分 稿源：", "2024-03-29", "2024年03月29日 10时21分"),
        ("2024年03月29日16:02 | 来源：", "2024-03-29", "2024年03月29日16:02"),
        ("2021 05/25 10:30", "2021-05-25", "2021 05/25 10:30"),
    ],
)
def test_a_date_and_its_span(text: str, day: str, span: str) -> None:
    (found,) = find_dates(text)
    assert found.day == day
    assert text[found.start : found.end] == span


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30",
        "03-15",
        "[03-15]",
        "12024-03-15",
        "2024-03-150",
        "Mayday 15, 2024",
        "ISO 9001:2015",
        "2024",
    ],
)
def test_no_date(text: str) -> None:
    assert find_dates(text) == []
    assert parse_day(text) is None


def test_every_date_in_order() -> None:
    assert [found.day for found in find_dates("From 2024-03-01 to March 5, 2024.")] == [
        "2024-03-01",
        "2024-03-05",
    ]
