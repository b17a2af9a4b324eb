"""Two small helpers every reader of labels and lines shares."""

from __future__ import annotations

import re


def alternation(words: tuple[str, ...]) -> str:
    """A regex alternation that tries longer words first, so 发布时间 wins over 时间."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


def has_colon(text: str) -> bool:
    """Every label has a colon: most lines are spared the label patterns."""
    return ":" in text or "：" in text
