"""PDF report: a real PDF with the expected pages, text, thumbnails and notes (read with ``pdftext``)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from needlecare.exports.data import REGIONS, collect
from needlecare.exports.pdf_report import pdf_report
from needlecare.exports.pdf_sections import SHAREABLE_CONSENTS
from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.common import DISCLAIMER
from needlecare.knowledge.evidence import evidence
from needlecare.storage.models import User

from .conftest import Seeded
from .pdftext import page_count, text

NOW = dt.datetime(2026, 11, 25, 9, 0, tzinfo=dt.UTC)  # day 5 in Europe/Berlin


def _flat(pdf: bytes) -> str:
    """The drawn text with line wraps undone (paragraph lines joined by single spaces)."""
    return re.sub(r"\s+", " ", text(pdf))


@pytest.fixture
def report(seeded: Seeded) -> bytes:
    return pdf_report(collect(seeded.db, user=seeded.a), seeded.store, now=NOW)


def test_is_a_pdf_of_a_few_pages(report: bytes) -> None:
    assert report.startswith(b"%PDF-1.")
    assert report.rstrip().endswith(b"%%EOF")
    assert 2 <= page_count(report) <= 8


def test_summary_window_and_disclaimer(seeded: Seeded, report: bytes) -> None:
    flat = _flat(report)
    expected = course.expected(seeded.a_treatment)
    low, high = expected["typical_days"]
    for part in (
        "needlecare report for the dermatologist",
        "Patient: ann@example.org",
        re.sub(r"\s+", " ", DISCLAIMER),
        "Treatment of 2026-11-20",
        "2026-11-20 (today is day 5)",
        "Needle depth 1 mm",
        "Factors bleeding, serum",
        f"Typical redness lasts about day {low:g} to day {high:g}",
        f"outside expected after day {expected['outside_expected_after_days']:g}",
        re.sub(r"\s+", " ", expected["reasons"][0]["text"]),
        "Self-rating on the 0-4 CEA/PSA scale (0 clear ... 4 severe).",
    ):
        assert part in flat, part
    assert text(report).count("decision support, not a diagnosis") == page_count(report)  # every footer


def test_measurement_table_values(seeded: Seeded, report: bytes) -> None:
    lines = text(report).splitlines()
    start = lines.index("Measurements per region")
    table = lines[
        start : lines.index("Index unit: OD_hb (optical density of haemoglobin); higher is redder.")
    ]
    header = " ".join(table[1 : table.index("2026-11-19")])  # header cells may wrap onto two lines
    assert header == "Date Day Face forehead nose left cheek right cheek chin Quality"
    day1 = seeded.a_photos[1].analysis.model_dump(mode="json")
    i = table.index("2026-11-21")
    values = [f"{day1['redness']['index']:.3f}", *(f"{day1['regions'][r]['index']:.3f}" for r in REGIONS)]
    assert table[i + 2 : i + 2 + len(values)] == values
    i5 = table.index("2026-11-25")
    assert table[i5 + 2 + len(REGIONS)] == "-"  # the unmeasured chin
    assert "face_too_small" in table
    assert "not measured" in table  # the photo without analysis
    assert any("other light than" in line for line in table)  # obama2 against obama, no colour card


def test_photos_respect_consent_and_missing_files(seeded: Seeded, report: bytes) -> None:
    shown = [p for p in seeded.a_photos if p.consent in SHAREABLE_CONSENTS and p is not seeded.missing_photo]
    heatmaps = [p for p in shown if p.heatmap_path]
    assert (len(shown), len(heatmaps)) == (3, 2)
    assert report.count(b"/Subtype /Image") == len(shown) + len(heatmaps)
    flat = _flat(report)
    assert "No heatmap available. 2026-11-26, day 6. Not measured." in flat  # heatmap cell, then caption
    day1 = seeded.a_photos[1].analysis.model_dump(mode="json")
    assert f"2026-11-21, day 1. Redness index {day1['redness']['index']:.3f} OD_hb; quality ok." in flat
    assert "Photo of 2026-11-23, day 3: not shown, the patient kept it private" in flat
    assert "Photo of 2026-11-25, day 5: the stored file is missing or unreadable; skipped." in flat
    for p in shown:
        label = "baseline" if p.is_baseline else f"day {p.day}"
        assert f"{p.taken_on.isoformat()}, {label}" in flat


def test_triage_history_plan_and_sources(seeded: Seeded, report: bytes) -> None:
    flat = _flat(report)
    for c in seeded.a_checkins:
        assert re.sub(r"\s+", " ", c.triage["reasons"][0]["text"]) in flat
    assert "same day" in flat  # blisters on day 4
    today = course.plan_for(seeded.a_treatment, dt.date(2026, 11, 25))
    assert today is not None
    assert "Day 5 (2026-11-25). Do:" in flat
    for item in [*today["do"], *today["avoid"]]:
        assert re.sub(r"\s+", " ", item) in flat
    sources = flat[flat.index("Sources") :]
    psa = evidence().sources[evidence().grading.scales["psa"].sources[0]]
    assert psa.citation in sources
    for short in course.expected(seeded.a_treatment)["reasons"][0]["sources"]:
        full = next(s for s in evidence().sources.values() if str(s) == short)
        assert full.citation in sources


def test_unreadable_photo_and_unusual_text(seeded: Seeded) -> None:
    """A stored file that is not an image is skipped; characters outside the PDF font do not break it."""
    photo = seeded.a_photos[1]
    seeded.store.publish(seeded.store.stage(b"\xff\xd8\xff not really a jpeg"), photo.file_path)
    seeded.a_treatment.notes = "Stern ✓ und Pfeil →, <b>kein</b> Markup & so"
    seeded.db.commit()
    pdf = pdf_report(collect(seeded.db, user=seeded.a), seeded.store, now=NOW)
    flat = _flat(pdf)
    assert "Photo of 2026-11-21, day 1: the stored file is missing or unreadable; skipped." in flat
    assert "Stern ? und Pfeil ?, <b>kein</b> Markup & so" in flat
    assert pdf.count(b"/Subtype /Image") == 3  # baseline photo and heatmap, day-6 photo


def test_only_the_users_own_data(seeded: Seeded) -> None:
    pdf = pdf_report(collect(seeded.db, user=seeded.b), seeded.store, now=NOW)
    flat = _flat(pdf)
    assert "Patient: bob@example.org" in flat
    assert "ann@example.org" not in flat
    assert "Dr. Müller" not in flat
    assert "Area neck" in flat
    assert pdf.count(b"/Subtype /Image") == 2  # Bob's photo and its heatmap


def test_no_treatments(seeded: Seeded) -> None:
    nobody = User(id=10_000, email="new@example.org", password_hash="x")
    pdf = pdf_report(collect(seeded.db, user=nobody), seeded.store, now=NOW)
    assert page_count(pdf) == 1
    assert "No treatments are recorded." in _flat(pdf)


def test_compression_changes_bytes_not_content(seeded: Seeded, report: bytes) -> None:
    raw = pdf_report(collect(seeded.db, user=seeded.a), seeded.store, now=NOW, compress=False)
    assert b"(needlecare report for the dermatologist) Tj" in raw  # plain text in the uncompressed file
    assert b"(needlecare report for the dermatologist) Tj" not in report
    assert text(raw) == text(report)
    assert pdf_report(collect(seeded.db, user=seeded.a), seeded.store, now=NOW) == report  # invariant build


def test_photos_the_app_leaves_out_of_the_curve_are_marked() -> None:
    from needlecare.exports.data import comparable
    from needlecare.exports.pdf_report import _photo_caption
    from needlecare.storage.models import Photo

    assert comparable(Photo(analysis={"baseline": {"comparable": False}})) is False
    assert comparable(Photo(analysis={"baseline": {"comparable": True}}))
    assert comparable(Photo(analysis=None))
    assert comparable(Photo(analysis={"redness": {"index": 0.5}}))  # a single-photo measurement
    assert "Hollow grey points (2)" in _photo_caption(2)
    assert "Hollow" not in _photo_caption(0)
