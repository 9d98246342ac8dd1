"""CSV exports parsed back with the csv module: header, one row per photo / check-in, values as stored."""

from __future__ import annotations

import csv
import io

import pytest

from needlecare.exports.csv_export import CHECKIN_COLUMNS, MEASUREMENT_COLUMNS, checkins_csv, measurements_csv
from needlecare.exports.data import REGIONS, collect

from .conftest import Seeded


def _parse(text: str) -> list[dict[str, str]]:
    assert text.endswith("\r\n")  # RFC 4180 record separator
    return list(csv.DictReader(io.StringIO(text, newline=""), strict=True))


def test_measurements_one_row_per_photo_with_stored_values(seeded: Seeded) -> None:
    text = measurements_csv(collect(seeded.db, user=seeded.a))
    assert text.splitlines()[0].split(",") == list(MEASUREMENT_COLUMNS)
    rows = _parse(text)
    assert [int(r["photo_id"]) for r in rows] == [p.id for p in seeded.a_photos]
    for row, photo in zip(rows, seeded.a_photos, strict=True):
        assert row["taken_on"] == photo.taken_on.isoformat()
        assert int(row["day_since_treatment"]) == photo.day
        assert row["is_baseline"] == ("true" if photo.is_baseline else "false")
        assert row["uploaded_at"].endswith("+00:00")
        if photo.analysis is None:
            assert row["index"] == row["unit"] == row["quality_ok"] == row["index_chin"] == ""
            continue
        a = photo.analysis.model_dump(mode="json")  # the stored JSON object
        assert float(row["index"]) == a["redness"]["index"]  # full precision, no rounding
        assert row["unit"] == "OD_hb"
        for region in REGIONS:
            expected = a["regions"][region]["index"]
            assert row[f"index_{region}"] == ("" if expected is None else repr(expected))
        assert row["quality_ok"] == ("true" if a["quality"]["ok"] else "false")
        assert row["quality_warnings"].split(";") == (a["quality"]["warnings"] or [""])
        assert row["colour_reference"] == a["quality"]["colour_reference"]
        comparison = a.get("baseline")
        if comparison is None:
            assert row["delta_from_baseline"] == row["comparable_with_baseline"] == ""
        else:
            assert float(row["delta_from_baseline"]) == comparison["delta"]
            assert row["lighting_differs_from_baseline"] == str(comparison["lighting_differs"]).lower()
            assert row["comparable_with_baseline"] == str(comparison["comparable"]).lower()
    assert [r["day_since_treatment"] for r in rows] == ["-1", "1", "3", "5", "6"]
    # obama2 against obama: two different occasions under different light, no colour card
    assert (rows[1]["lighting_differs_from_baseline"], rows[1]["comparable_with_baseline"]) == (
        "true",
        "false",
    )
    assert rows[0]["delta_from_baseline"] == ""  # the baseline itself
    assert rows[2]["quality_ok"] == "false"
    assert "face_too_small" in rows[2]["quality_warnings"].split(";")
    assert rows[3]["index_chin"] == ""
    assert float(rows[3]["index_nose"]) > 0


def test_checkins_rows_with_symptoms_and_triage(seeded: Seeded) -> None:
    text = checkins_csv(collect(seeded.db, user=seeded.a))
    rows = _parse(text)
    assert tuple(rows[0].keys()) == CHECKIN_COLUMNS
    assert [(r["checked_on"], r["day_since_treatment"], r["self_rating_0_4"]) for r in rows] == [
        ("2026-11-20", "0", "3"),
        ("2026-11-22", "2", "2"),
        ("2026-11-24", "4", "1"),
    ]
    assert rows[1]["symptoms"].split(";") == ["tightness", "flaking"]
    assert [r["triage_urgency"] for r in rows] == [c.triage["urgency"] for c in seeded.a_checkins]
    assert rows[2]["triage_urgency"] == "same_day"  # blisters are a same-day red flag in red_flags.yaml


def test_only_the_users_rows(seeded: Seeded) -> None:
    rows_b = _parse(measurements_csv(collect(seeded.db, user=seeded.b)))
    assert len(rows_b) == 1
    assert {r["treatment_id"] for r in rows_b} == {str(seeded.b.treatments[0].id)}
    checkins_b = _parse(checkins_csv(collect(seeded.db, user=seeded.b)))
    assert [r["symptoms"] for r in checkins_b] == ["pus"]


def test_one_treatment_only_and_someone_elses_is_refused(seeded: Seeded) -> None:
    from needlecare.exports.data import TreatmentNotFoundError

    only = collect(seeded.db, user=seeded.a, treatment_id=seeded.a_treatment.id)
    assert len(_parse(measurements_csv(only))) == 5
    with pytest.raises(TreatmentNotFoundError):
        collect(seeded.db, user=seeded.b, treatment_id=seeded.a_treatment.id)


def test_quoting_and_utf8_round_trip(seeded: Seeded) -> None:
    """Fields with commas, quotes, line breaks and non-ASCII text survive a round trip."""
    from needlecare.exports.csv_export import _write

    tricky = ["a,b", 'say "hi"', "two\r\nlines", "Müller ✓"]
    text = _write(["x", "y", "z", "w"], [tricky])
    assert text.encode("utf-8").decode("utf-8") == text
    assert next(csv.reader(io.StringIO(text.split("\r\n", 1)[1], newline=""))) == tricky
    assert '"say ""hi"""' in text  # quotes doubled inside a quoted field (RFC 4180 rule 7)


def test_empty_record_is_just_the_header(seeded: Seeded) -> None:
    from needlecare.storage.models import User

    nobody = User(id=10_000, email="none@example.org", password_hash="x")
    assert measurements_csv(collect(seeded.db, user=nobody)) == ",".join(MEASUREMENT_COLUMNS) + "\r\n"
    assert _parse(checkins_csv(collect(seeded.db, user=nobody))) == []
