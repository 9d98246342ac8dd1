"""How a treatment's fields and values read in mails (the treatment form shows the same names)."""

from __future__ import annotations

import datetime as dt

from needlecare.web.treatments.labels import change_lines, long_date, value_text


def test_values_read_as_a_patient_would_write_them() -> None:
    assert long_date(dt.date(2026, 11, 5)) == "5 November 2026"
    assert value_text("treated_on", dt.date(2026, 12, 31)) == "31 December 2026"
    assert [value_text("depth_mm", v) for v in (1.0, 0.25, 2)] == ["1 mm", "0.25 mm", "2 mm"]
    assert value_text("device", "stamp") == "Derma stamp"
    assert value_text("skin_type", 6) == "VI – never burns"
    assert [value_text("prp", v) for v in (True, False)] == ["yes", "no"]
    assert (value_text("passes", 2), value_text("area", "scalp")) == ("2", "scalp")
    assert value_text("timezone", "America/New_York") == "America/New_York"


def test_notes_are_one_shortened_line() -> None:
    assert value_text("notes", None) == "none"
    assert value_text("notes", "  Cool\n\ncompresses  only ") == '"Cool compresses only"'
    words = "word " * 30
    assert value_text("notes", words) == f'"{"word " * 15}word…"'  # 79 characters and the ellipsis
    assert value_text("notes", "x" * 100) == f'"{"x" * 79}…"'  # one long word: cut inside it


def test_changed_fields_are_listed_in_the_forms_order() -> None:
    changes: dict[str, tuple[object, object]] = {
        "notes": (None, "ok"),
        "serum": (True, False),
        "treated_on": (dt.date(2026, 11, 20), dt.date(2026, 11, 18)),
    }
    assert change_lines(changes) == [
        "Date of treatment: 20 November 2026 → 18 November 2026",
        "Serum applied during treatment: yes → no",
        'Notes: none → "ok"',
    ]
