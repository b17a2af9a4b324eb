"""The project's own settings, read so that a bad value is refused in one line naming it.

``Settings.getint("X")`` on ``-s X=abc`` raises ``invalid literal for int()``, which names
neither the setting nor what it takes. :func:`number` does, and checks the range too; the crawl
command shows the :class:`SettingError` as one line and exits 2 before anything starts.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

N = TypeVar("N", int, float)


class SettingError(ValueError):
    """A setting's value is not one it takes; the message says which, and what it takes."""


def number(
    settings: BaseSettings,
    name: str,
    default: N,
    minimum: N,
    maximum: N | None = None,
    above_minimum: bool = False,
) -> N:
    """``settings[name]`` as the type of ``default``, within ``[minimum, maximum]`` (or above
    ``minimum`` when ``above_minimum``)."""
    value = settings.get(name, default)
    kind = type(default)
    what = "a whole number" if kind is int else "a number"
    bound = f"more than {minimum}" if above_minimum else f"{minimum} or more"
    if maximum is not None:
        bound = f"from {minimum} to {maximum}"
    try:
        read = kind(value)
    except (TypeError, ValueError):
        raise SettingError(f"{name} must be {what}, {bound}; got {value!r}") from None
    if (
        (kind is float and not math.isfinite(read))
        or read < minimum
        or (above_minimum and read == minimum)
        or (maximum is not None and read > maximum)
    ):
        raise SettingError(f"{name} must be {what}, {bound}; got {value!r}")
    return read
