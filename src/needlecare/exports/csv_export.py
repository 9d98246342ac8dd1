"""CSV tables of redness measurements (one row per photo) and check-ins (one row per check-in).

RFC 4180: comma-separated, CRLF line ends, fields quoted when they contain a comma, quote or line
break, a header row first. Text is UTF-8 (``text/csv; charset=utf-8; header=present``). Lists inside a field
(quality warnings, symptoms) are joined with ``;``. Empty fields mean "not measured"; numbers use ``.`` as
decimal mark and are not rounded (the stored float, ``repr`` form).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from needlecare.exports.data import REGIONS, PatientExport, comparison, quality, redness, region_index
from needlecare.storage.types import as_utc

MEDIA_TYPE = "text/csv; charset=utf-8; header=present"

#: Column names of the measurements table (regions appended as ``index_<region>``).
MEASUREMENT_COLUMNS: tuple[str, ...] = (
    "photo_id",
    "treatment_id",
    "taken_on",
    "uploaded_at",
    "day_since_treatment",
    "is_baseline",
    "index",
    "unit",
    *(f"index_{r}" for r in REGIONS),
    "quality_ok",
    "quality_warnings",
    "colour_reference",
    "delta_from_baseline",
    "lighting_differs_from_baseline",
    "comparable_with_baseline",
)

#: Column names of the check-ins table.
CHECKIN_COLUMNS: tuple[str, ...] = (
    "checkin_id",
    "treatment_id",
    "checked_on",
    "day_since_treatment",
    "self_rating_0_4",
    "symptoms",
    "triage_urgency",
)


def _cell(value: Any) -> str:
    """One CSV field: ``""`` for missing, ``true``/``false`` for booleans, ISO 8601 for dates and times."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def _write(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, dialect="excel", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buf.getvalue()


def measurements_csv(record: PatientExport) -> str:
    """The redness measurements table: one row per photo (unmeasured photos have empty index fields).

    Columns are :data:`MEASUREMENT_COLUMNS`: ``taken_on`` (date, patient's calendar), ``uploaded_at`` (UTC
    ISO 8601), ``day_since_treatment`` (whole days, 0 = treatment day, negative = before), ``index`` and
    ``index_<region>`` in ``unit`` (OD_hb), ``quality_ok``, ``quality_warnings`` (codes joined by ``;``) and
    ``colour_reference`` (how colour was normalised); for a photo measured against a baseline photo, the
    whole-face change (OD_hb), whether the two were taken under different light and whether they can be
    compared at all (false: other light and no colour card; the change mixes skin and light). Empty for
    baselines and photos measured without one.
    """
    rows = []
    for photo in record.photos:
        whole = redness(photo)
        q = quality(photo)
        against = comparison(photo)
        rows.append(
            [
                photo.id,
                photo.treatment_id,
                photo.taken_on,
                as_utc(photo.created_at),
                photo.day,
                photo.is_baseline,
                None if whole is None else whole.index,
                None if whole is None else whole.unit,
                *(region_index(photo, r) for r in REGIONS),
                q.ok,
                ";".join(q.warnings),
                q.colour_reference,
                None if against is None else against.delta,
                None if against is None else against.lighting_differs,
                None if against is None else against.comparable,
            ]
        )
    return _write(MEASUREMENT_COLUMNS, rows)


def checkins_csv(record: PatientExport) -> str:
    """The check-ins table: date, day since treatment, 0-4 self-rating (PSA anchors), symptom ids, urgency."""
    rows = [
        [
            c.id,
            c.treatment_id,
            c.checked_on,
            c.day,
            c.self_rating,
            ";".join(c.symptoms or []),
            (c.triage or {}).get("urgency"),
        ]
        for c in record.checkins
    ]
    return _write(CHECKIN_COLUMNS, rows)
