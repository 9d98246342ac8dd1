"""Column types: datetimes read back as timezone-aware UTC on every database, and the photo analysis read
back as a :class:`~needlecare.storage.photo_analysis.PhotoAnalysis`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from needlecare.storage.photo_analysis import PhotoAnalysis, parse_analysis


def as_utc(moment: dt.datetime) -> dt.datetime:
    """*moment* as an aware UTC datetime; a naive one is taken as UTC already (as stored).

    Examples
    --------
    >>> as_utc(dt.datetime(2026, 12, 5, 8, 0)).isoformat()
    '2026-12-05T08:00:00+00:00'
    """
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


class UtcDateTime(TypeDecorator[dt.datetime]):
    """``DateTime(timezone=True)`` that stores UTC and always reads an aware UTC datetime.

    PostgreSQL keeps the zone; SQLite stores the wall-clock digits only, so values are converted to UTC
    before they are written and given the UTC zone when read (RFC 3339 times in every API answer).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """An aware *value* converted to UTC (a naive one is taken as UTC already)."""
        if value is not None and value.tzinfo is not None:
            return value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """The stored value as an aware UTC datetime."""
        if value is None:
            return None
        return as_utc(value)


class AnalysisJSON(TypeDecorator[PhotoAnalysis]):
    """``JSON`` holding a photo analysis: written as its versioned JSON object, read as a parsed model.

    A row is parsed once, when it is loaded (:func:`~needlecare.storage.photo_analysis.parse_analysis`: an
    object without ``version`` is version 1, one that does not match its version raises
    :class:`~needlecare.storage.photo_analysis.InvalidStoredAnalysisError`). A plain dict given to an
    ``UPDATE`` is parsed the same way before it is written, so no row is stored in a shape it cannot be read
    back in.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: PhotoAnalysis | dict[str, Any] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        """The JSON object to store (with ``version``), or None."""
        return None if value is None else parse_analysis(value).stored_json()

    def process_result_value(self, value: Any, dialect: Dialect) -> PhotoAnalysis | None:
        """The stored JSON object parsed, or None when the photo has no analysis."""
        return None if value is None else parse_analysis(value)
