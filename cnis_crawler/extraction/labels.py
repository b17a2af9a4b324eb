"""The metadata line of an article page: labels known and found by shape, the date a line shows,
and label cells read with their values.

A *date line* holds a date with a known label (``Date:``, ``时间：``, the strongest), another
``label：value`` label ("Release time:", "发稿时间："), or none ("2024-03-15 | CNIS"), followed only
by a time, separators, other label/value pairs or one short value (the source, on an unlabelled
line). Which date line is the page's is for :mod:`cnis_crawler.extraction.article` to decide.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import TYPE_CHECKING

from cnis_crawler.extraction.dates import FoundDate, find_dates, may_hold_a_date
from cnis_crawler.extraction.document import Line
from cnis_crawler.extraction.furniture import is_control_text
from cnis_crawler.extraction.patterns import alternation, has_colon
from cnis_crawler.site import (
    COLON,
    DATE_LABELS,
    OTHER_META_LABELS,
    READING_TIME,
    SOURCE_LABEL_WORDS,
    SOURCE_LABELS,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.etree import _Element as Element

# The date rungs a date line is read by, strongest first (see RUNGS in article.py).
DATE_LABEL_RUNG, ANY_LABEL_RUNG, UNLABELLED_RUNG = "date-label", "date-any-label", "date-unlabelled"


# A label stands after a space, punctuation or a digit, never after a letter or CJK character:
# "Update:", "数据来源：", "培训时间：" are words in a sentence, not labels. The exception is 日,
# the end of a Chinese date: "时间：2025年10月20日部门：…" puts the next label right after it.
_LABEL_START = r"(?<![^\W\d日])"
_CJK_CHAR = r"[\u4e00-\u9fff]"
# A known label may stand in brackets ("[发布时间] 2025/10/22"), and a Chinese one without a colon,
# its value in the next element ("<span>来源</span><span>人力资源部</span>").
_LABEL_END = rf"\s*(?:{COLON}|[\]】])"
_CJK_SOURCE_LABELS = tuple(label for label in SOURCE_LABELS if not label.isascii())
_ASCII_SOURCE_LABELS = tuple(label for label in SOURCE_LABELS if label.isascii())
SOURCE_FIELD_RE = re.compile(
    rf"{_LABEL_START}[\[【]?(?:(?:{alternation(SOURCE_LABELS)}){_LABEL_END}"
    rf"|(?:{alternation(_CJK_SOURCE_LABELS)})(?={_CJK_CHAR})"
    rf"|(?:{alternation(_ASCII_SOURCE_LABELS)})(?=\s*[A-Z]))\s*(?P<value>.*)"  # "Source CNIS", "SourceCNIS"
)
_ALL_LABELS = alternation(DATE_LABELS + SOURCE_LABELS + OTHER_META_LABELS)
ANY_LABEL_RE = re.compile(rf"{_LABEL_START}(?:{_ALL_LABELS})\s*{COLON}")
KNOWN_DATE_LABEL_BEFORE_RE = re.compile(
    rf"{_LABEL_START}[\[【]?(?:{alternation(DATE_LABELS)})(?:{_LABEL_END})?\s*$"
)
# Labels are short: only this much text before a date is searched for one (a long line holding
# many dates must not cost its length for each).
LABEL_WINDOW = 32
# Inside a value already known to be one, the next label ends it even right after CJK text:
# "来源：科技管理部浏览次数：88".
NEXT_LABEL_RE = re.compile(rf"(?:{_ALL_LABELS})\s*{COLON}")
# Any label, known or not, by its shape: a few words or CJK characters and a colon ("Release
# time:", "发稿时间："). The CJK form is cut to its last characters where it runs on from a title.
_WORDS_LABEL = r"[A-Za-z][A-Za-z.]*(?: [A-Za-z.]+){0,3}"
_CJK_LABEL = r"[\u4e00-\u9fff]{1,8}"
# At the start of a line a label may be spaced out to align a table ("名　　称：", "索 引 号："); it
# is never longer than four characters ("各有关单位：" opens a notice).
_CJK_LABEL_AT_START = r"[\u4e00-\u9fff](?: ?[\u4e00-\u9fff]){0,3}"
LABEL_BEFORE_RE = re.compile(
    rf"(?:(?<![A-Za-z])(?P<words>{_WORDS_LABEL})|(?P<cjk>{_CJK_LABEL}))\s*{COLON}\s*$"
)
LABEL_AT_START_RE = re.compile(rf"^[\[【(（]?\s*(?:{_WORDS_LABEL}|{_CJK_LABEL_AT_START})\s*{COLON}")
LABEL_PAIR_RE = re.compile(rf"(?:(?<![A-Za-z])(?P<words>{_WORDS_LABEL})|(?P<cjk>{_CJK_LABEL}))\s*{COLON}\s*")
# Where a value runs into the next label: the label is its last word ("CNIS Views: 88").
VALUE_NEXT_LABEL_RE = re.compile(rf"(?:\s(?P<label>[A-Za-z]+)|(?P<cjk>[\u4e00-\u9fff]{{2,4}}))\s*{COLON}")
# Chinese labels run 2-4 characters (时间, 来源, 发布时间, 信息来源): a longer run before a colon is
# a title or a sentence running into its label.
CJK_LABEL_MAX = 4
# The head of a longer label that ends in a known one: "发表" of "人力资源部 发表时间：".
LABEL_HEAD_RE = re.compile(r"(?<=\s)[\u4e00-\u9fff]{1,3}$")
KNOWN_LABEL_END_RE = re.compile(rf"(?<![A-Za-z])(?:{_ALL_LABELS})$")
KNOWN_LABEL_START_RE = re.compile(rf"^(?:{_ALL_LABELS})(?![a-z])")
# A word right before an English label makes it another label: "Release Date:" is not "Date:".
WORD_BEFORE_RE = re.compile(r"(?<![A-Za-z])[A-Za-z]+ $")
# A label in brackets, a value after it ("[文章来源] 人力资源部"); not "【大 中 小】", nor a value in
# brackets at the end ("[05-Dec-2018] [CNIS]").
BRACKET_LABEL_RE = re.compile(rf"[\[【](?P<label>{_WORDS_LABEL}|[\u4e00-\u9fff]{{2,4}})[\]】](?=\s*\S)")
# A label alone in its cell, its value in the next one: <td>发布时间：</td><td>2015-04-18</td>.
LABEL_ONLY_RE = re.compile(rf"^(?:{_WORDS_LABEL}|{_CJK_LABEL_AT_START})\s*{COLON}$")
# A known label alone on its line, no colon: its value is the next line ("Source" / "CNIS").
KNOWN_LABEL_WORDS = frozenset(
    label.casefold() for label in DATE_LABELS + SOURCE_LABELS + SOURCE_LABEL_WORDS + OTHER_META_LABELS
)
# A cell of a label/value table or list: <dt>发布时间</dt><dd>2024-03-15</dd>.
LABEL_CELL_TAGS = frozenset(("dt", "th"))
VALUE_CELL_TAGS = frozenset(("dd", "td"))
SEPARATOR_CHARS = " |/·—\u2013-｜,，;；"  # also the en dash
OPENING_BRACKETS, CLOSING_BRACKETS = "[【(（", "]】)）"
WEEKDAY_RE = re.compile(
    r"^(?:(?:星期|周|礼拜)[一二三四五六日天]|(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\b\.?)",
    re.IGNORECASE,
)
AUTHOR_RE = re.compile(r"(?i)by\s")
BRACKETED_VALUE_RE = re.compile(r"^[\[【](?P<value>[^\]】\d:：]{2,30})[\]】]\s*$")
READING_TIME_RE = re.compile(READING_TIME)
# A value ends where a widget or separator starts: "CNIS [Print]", "人力资源部 | 浏览".
VALUE_END_RE = re.compile(r"\s*[\[【|｜]")
SOURCE_LABEL_WORDS_RE = re.compile(alternation(SOURCE_LABEL_WORDS), re.IGNORECASE)
# An unlabelled value after the date ("2024-03-15 | CNIS") is a source up to this length; longer
# text after a date is a sentence.
BARE_VALUE_MAX_CHARS = 40
ATTRIBUTION_MAX_CHARS = 80
# A label's value on a line of metadata is short: a name, a number, a date.
LABEL_VALUE_MAX_CHARS = 30
# A line holding a date, without a known label, is a date line only when this short.
DATE_LINE_MAX_CHARS = 160
SENTENCE_END_RE = re.compile(r"[.!?。！？…”\"')）]$")
# Not commas: "NLS, Standards Information Institute" is a value.
SENTENCE_PUNCTUATION_RE = re.compile(r"[.!?。！？；;]\s")


def is_metadata(line: Line) -> bool:
    """A line that starts with a known label ("Source: CNIS", "浏览次数：12") is metadata, not prose."""
    return is_metadata_text(line.text)


def _label_of(match: re.Match[str], after_value: bool = True) -> tuple[str, int]:
    """A label found by shape and where it starts; a long CJK run keeps its last characters.
    After a value, words before a known label are the value's ("CNIS Editor:")."""
    if match["words"]:
        words, start = match["words"], match.start("words")
        known = KNOWN_LABEL_END_RE.search(words) if after_value else None
        if known and known.start() > 0:
            return known.group(), start + known.start()
        return words, start
    cjk = match["cjk"][-CJK_LABEL_MAX:]
    return cjk, match.end("cjk") - len(cjk)


def is_label_line(line: Line) -> bool:
    """A ``label：value`` line ("Views: 1024", "作者：李明") beside a date line: a known label, or a
    short value ("Photo: training course opens in Hangzhou" is a headline), or several pairs."""
    return has_colon(line.text) and _is_label_text(line.text)


@lru_cache(maxsize=4096)
def _is_label_text(text: str) -> bool:
    if is_metadata_text(text):
        return True
    if len(text) > BARE_VALUE_MAX_CHARS * 2 or not (label := LABEL_AT_START_RE.match(text)):
        return False
    value = text[label.end() :]
    if SENTENCE_END_RE.search(value) and not value.endswith((")", "）", '"', "”")):
        return False  # "摘要：报告系统梳理了我国标准化发展现状。": a sentence
    return len(value) <= LABEL_VALUE_MAX_CHARS or LABEL_PAIR_RE.search(value) is not None


def read_date_line(text: str) -> tuple[FoundDate, str, int, str | None] | None:
    """(date, rung, where the metadata starts, bare value after the date) if ``text`` reads as a
    date line: a date with a known label, another label or none, followed only by a time,
    separators, other ``label：value`` pairs or one short value."""
    if not may_hold_a_date(text):
        return None
    text = unbracket_labels(text)
    for found in find_dates(text):
        before, after = text[: found.start], text[found.end :]
        window = max(0, found.start - LABEL_WINDOW)
        known = KNOWN_DATE_LABEL_BEFORE_RE.search(before, window)
        if known and not WORD_BEFORE_RE.search(before, max(0, known.start() - LABEL_WINDOW), known.start()):
            start, rung = known.start(), DATE_LABEL_RUNG
        elif len(text) > DATE_LINE_MAX_CHARS:
            continue  # a paragraph that mentions a date
        elif label_match := LABEL_BEFORE_RE.search(before, window):  # also "Release Date:", not "Date:"
            start, rung = _label_of(label_match, after_value=False)[1], ANY_LABEL_RUNG
        else:
            start, rung = found.start, UNLABELLED_RUNG
        ok, bare_value = _metadata_tail(after, text[found.end - 1].isdigit())
        if ok:
            if has_colon(before) and (first_label := ANY_LABEL_RE.search(before)):
                start = min(start, first_label.start())  # "Source: CNIS  Date: …": no title
            return found, rung, start, bare_value
    return None


def _metadata_tail(after: str, date_ends_in_digit: bool = False) -> tuple[bool, str | None]:
    """Whether what follows a date is metadata, and the unlabelled value it starts with, if any."""
    skipped = SEPARATOR_CHARS + CLOSING_BRACKETS  # "【2024-03-15】"
    rest = after.lstrip(skipped)
    if weekday := WEEKDAY_RE.match(rest):
        rest = rest[weekday.end() :].lstrip(skipped)
    if rest and (second := find_dates(rest[:DATE_LINE_MAX_CHARS])) and second[0].start == 0:
        rest = rest[second[0].end :].lstrip(skipped)  # published and updated: "May 10, 2023May 13, 2023"
    if rest and (bracketed := BRACKETED_VALUE_RE.match(rest)) and not is_control_text(rest):
        return True, bracketed["value"]  # "[2017-05-16]  [党委办公室]"
    if (
        not rest
        or rest[0] in OPENING_BRACKETS
        or is_control_text(rest)
        or KNOWN_LABEL_START_RE.match(rest)
        or READING_TIME_RE.match(rest)
    ):
        return True, None  # "… 13:35Share - WeChat", "2024-03-27SourceCNIS": controls or a label follow
    # A time's digits end the date: "2025年10月22日 10:12人力资源部" is separated all the same.
    separated = len(rest) < len(after) or (date_ends_in_digit and not rest[0].isdigit())
    value = READING_TIME_RE.split(VALUE_END_RE.split(rest, maxsplit=1)[0], maxsplit=1)[0]
    if next_label := LABEL_PAIR_RE.search(value):
        value = value[: _label_of(next_label)[1]]
        if not value:  # a label right after the date
            return True, None
    value = value.strip(SEPARATOR_CHARS)
    if separated and value and len(value) <= BARE_VALUE_MAX_CHARS and not is_sentence(value):
        # "by cnis-editor" and "Last updated 2 April 2024" are no source
        return True, None if AUTHOR_RE.match(value) or find_dates(value) else value
    return False, None


def is_sentence(text: str) -> bool:
    return bool(SENTENCE_PUNCTUATION_RE.search(text + " "))


def _is_value_of(label: str, value: str) -> bool:
    """Whether a line is the value of a label line above it: short, and a date or a source."""
    return (
        len(value) <= BARE_VALUE_MAX_CHARS
        and not is_sentence(value)
        and (bool(find_dates(value)) or bool(SOURCE_LABEL_WORDS_RE.search(label)) or is_metadata_text(label))
    )


def is_metadata_text(text: str) -> bool:
    return has_colon(text) and bool(ANY_LABEL_RE.match(text))


def join_label_cells(lines: Sequence[Line]) -> list[Line]:
    """Lines as they read: a label alone on its line (or in a ``dt``/``th`` cell, or in the cell
    before its value's) is joined with the value line (or cell) after it. A body line ending in a
    colon ("Key points:") keeps the paragraph after it: a value is short, and a date or a source."""
    joined: list[Line] = []
    for line in lines:
        previous = joined[-1] if joined else None
        text = None if previous is None else _joined_label(previous, line)
        if previous is None or text is None:
            joined.append(line)
        else:  # the value's block: a joined dt/dd pair takes no further dd
            joined[-1] = Line(text, line.block, previous.link_chars + line.link_chars)
    return joined


def _joined_label(label: Line, value: Line) -> str | None:
    """The text of a label line and the value line after it read as one, or None."""
    label_cell = label.block.tag in LABEL_CELL_TAGS
    known_word = not label_cell and label.text.casefold() in KNOWN_LABEL_WORDS  # "Source" / "CHIS"
    if not (label_cell or known_word or has_colon(label.text)) or is_label_line(value):
        return None  # most lines: no label before them
    if (label_cell and value.block.tag in VALUE_CELL_TAGS) or (
        known_word and _is_value_of(label.text, value.text)
    ):
        return f"{label.text}：{value.text}" if not has_colon(label.text) else label.text + value.text
    if LABEL_ONLY_RE.match(label.text) and (
        _is_value_of(label.text, value.text) or _cells_of_one_row(label.block, value.block)
    ):
        return label.text + value.text
    return None


def closing_attribution(text: str) -> str | None:
    """What a closing line in brackets made of labels says ("（供稿单位：科技管理部　撰稿：刘洋）",
    "(Editor: Li Na)"), or None: metadata, never body."""
    if len(text) > ATTRIBUTION_MAX_CHARS or text[:1] not in "(（" or text[-1:] not in ")）":
        return None
    inner = text[1:-1].strip()
    return inner if has_colon(inner) and LABEL_AT_START_RE.match(inner) else None


def is_label_only(line: Line) -> bool:
    """A label alone, its value in the next element: "名　　称："."""
    return has_colon(line.text) and bool(LABEL_ONLY_RE.match(line.text))


def meta_value_unlabelled(value: str | None) -> str | None:
    """A meta tag's value less a label the CMS left in it ("来源：人力资源部"); None if nothing else."""
    if value and has_colon(value) and (label := LABEL_AT_START_RE.match(value)):
        value = value[label.end() :].strip()
    return value or None


def _cells_of_one_row(block: Element, other: Element) -> bool:
    """<tr><td>发文机关：</td><td>人力资源部</td></tr>"""
    return block.tag == other.tag == "td" and block.getparent() is other.getparent()


def unbracket_labels(text: str) -> str:
    """Labels in brackets as labels with a colon, keeping every position: "[文章来源] X" reads
    " 文章来源： X"."""
    if "[" not in text and "【" not in text:
        return text
    return BRACKET_LABEL_RE.sub(lambda match: f" {match['label']}：", text)


def labelled_source(text: str) -> str | None:
    """The value of the first label on ``text`` that names a source ("来源：", "发布部门：")."""
    text = unbracket_labels(text)
    pairs = (
        pair for pair in LABEL_PAIR_RE.finditer(text) if SOURCE_LABEL_WORDS_RE.search(_label_of(pair)[0])
    )
    if (pair := next(pairs, None)) is not None:  # "来源单位：", "Provided by:", "信息来源："
        value = text[pair.end() :]
    elif match := SOURCE_FIELD_RE.search(text):  # a known label without a colon: "来源人力资源部"
        value = match["value"]
    else:
        return None
    if next_label := NEXT_LABEL_RE.search(value):
        value = value[: next_label.start()]
        # A label ending in a known one, after a space: "人力资源部 发表时间：" ends at "发表".
        if (run := LABEL_HEAD_RE.search(value)) and len(run.group()) + len(
            next_label.group()
        ) <= CJK_LABEL_MAX + 1:
            value = value[: run.start()]
    if next_pair := VALUE_NEXT_LABEL_RE.search(value):
        value = value[: next_pair.start("label" if next_pair["label"] else "cjk")]
    value = VALUE_END_RE.split(value, maxsplit=1)[0]
    value = READING_TIME_RE.split(value, maxsplit=1)[0].strip(" ,;，；" + CLOSING_BRACKETS)
    return value or None
