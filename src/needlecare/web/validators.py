"""The value rules shared by the JSON schemas and the HTML forms: text, dates, finite numbers.

Every stored value passes these, so no later page, export or calendar feed meets a value it cannot
compute with (a date at the end of the calendar, a NUL that PostgreSQL refuses, a lone surrogate that
cannot be encoded).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

#: Earliest accepted treatment date.
EARLIEST_TREATMENT = dt.date(2000, 1, 1)

#: How many days before its treatment a baseline ("before") photo may have been taken.
BASELINE_LEAD_DAYS = 90

#: The largest UTC offset in use (Pacific/Kiritimati, UTC+14): "today" somewhere on Earth.
_MAX_UTC_OFFSET = dt.timedelta(hours=14)

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")

#: JSON Schema pattern of text without NUL (lone surrogates cannot be written in valid UTF-8 JSON at all).
NO_NUL_PATTERN = r"^[^\x00]*$"


def latest_today(now: dt.datetime | None = None) -> dt.date:
    """The latest calendar date anywhere on Earth at *now* (default: the current time).

    Examples
    --------
    >>> latest_today(dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC))
    datetime.date(2026, 12, 6)
    """
    now = now or dt.datetime.now(dt.UTC)
    return (now.astimezone(dt.UTC) + _MAX_UTC_OFFSET).date()


def clean_text(value: str) -> str:
    """*value* unchanged; ``ValueError`` if it holds a NUL character or a lone UTF-16 surrogate.

    Examples
    --------
    >>> clean_text("fine")
    'fine'
    >>> clean_text("a\\x00b")
    Traceback (most recent call last):
    ...
    ValueError: text may not contain the character U+0000
    """
    bad = _BAD_TEXT.search(value)
    if bad is not None:
        raise ValueError(f"text may not contain the character U+{ord(bad.group()):04X}")
    return value


def treatment_date(value: dt.date) -> dt.date:
    """*value* if it lies between 2000-01-01 and today; ``ValueError`` otherwise."""
    latest = latest_today()
    if value > latest:
        raise ValueError("The date of treatment cannot be in the future: record it once it took place")
    if value < EARLIEST_TREATMENT:
        raise ValueError(f"The date of treatment must be from {EARLIEST_TREATMENT:%d %b %Y} on")
    return value


def event_date(value: dt.date) -> dt.date:
    """A photo or check-in date: not after today, not before the earliest treatment's baseline window."""
    earliest = EARLIEST_TREATMENT - dt.timedelta(days=BASELINE_LEAD_DAYS)
    if value > latest_today():
        raise ValueError("This date is after today")
    if value < earliest:
        raise ValueError(f"This date is too early: dates from {earliest:%d %b %Y} on")
    return value


def finite(value: float) -> float:
    """*value* if it is a finite number; ``ValueError`` for NaN and the infinities."""
    if not math.isfinite(value):
        raise ValueError(f"{value!r} is not a finite number")
    return value


#: Text without NUL characters or lone surrogates (the schema states the NUL rule as a pattern).
SafeText = Annotated[str, StringConstraints(pattern=NO_NUL_PATTERN), AfterValidator(clean_text)]

#: A treatment date: 2000-01-01 to today.
TreatmentDate = Annotated[dt.date, AfterValidator(treatment_date)]

#: A photo or check-in date, before the check against its treatment (photos and check-ins services).
EventDate = Annotated[dt.date, AfterValidator(event_date)]

#: A finite float.
FiniteFloat = Annotated[float, AfterValidator(finite)]
