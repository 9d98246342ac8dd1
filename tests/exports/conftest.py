"""Export fixtures: a database with two users, real photo analyses and real triage verdicts.

Photos are analysed once per session with ``analyze_photo`` on the test faces; check-ins are triaged with the
knowledge rules, so the exports run on the same data the web app stores.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy.orm import Session

from needlecare.knowledge.triage import triage
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import Base, CheckIn, Photo, Treatment, User

TREATED = dt.date(2026, 11, 20)
NOTES = 'Ärztin: Dr. Müller, "Klinik am See"\nzweite Zeile'


@dataclass
class Analysed:
    """A test face photo's bytes, its ``analyze_photo(...).to_dict()`` and its heatmap overlay (JPEG)."""

    jpeg: bytes
    analysis: dict[str, Any]
    heatmap: bytes


def _analysed(path: Path, baseline: Path | None = None) -> Analysed:
    from needlecare import analyze_photo
    from needlecare.analysis.pictures import overlay

    report = analyze_photo(path, baseline=baseline)
    buf = io.BytesIO()
    Image.fromarray(overlay(report)).save(buf, format="JPEG")
    return Analysed(path.read_bytes(), report.to_dict(), buf.getvalue())


@pytest.fixture(scope="session")
def analysed(faces_dir: Path) -> dict[str, Analysed]:
    """obama.jpg (baseline), obama2.jpg measured against it, obama-240p.jpg (a face_too_small warning)."""
    base = faces_dir / "obama.jpg"
    return {
        "baseline": _analysed(base),
        "day1": _analysed(faces_dir / "obama2.jpg", baseline=base),
        "day3": _analysed(faces_dir / "obama-240p.jpg"),
    }


@dataclass
class Seeded:
    """The seeded database: session, photo store, user A (full data) and user B (one of each)."""

    db: Session
    store: PhotoStore
    a: User
    b: User
    a_treatment: Treatment
    a_photos: list[Photo]
    a_checkins: list[CheckIn]
    missing_photo: Photo


def _store(store: PhotoStore, user_id: int, data: bytes, suffix: str = ".jpg") -> str:
    relpath = store.new_relpath(user_id, suffix)
    store.publish(store.stage(data), relpath)
    return relpath


def _photo(store: PhotoStore, t: Treatment, shot: Analysed, day: int, consent: str, **kw: Any) -> Photo:
    """A photo row with its file and heatmap file stored as the upload would store them."""
    return Photo(
        user_id=t.user_id, treatment_id=t.id, taken_on=t.treated_on + dt.timedelta(days=day), day=day,
        consent=consent, file_path=_store(store, t.user_id, shot.jpeg),
        heatmap_path=_store(store, t.user_id, shot.heatmap, ".heatmap.jpg"),
        width=640, height=480, analysis=shot.analysis, **kw,
    )  # fmt: skip


def _chin_unmeasured(shot: Analysed) -> Analysed:
    """A copy whose chin region had too few measurable pixels (``index`` None, as the pipeline reports it)."""
    analysis = copy.deepcopy(shot.analysis)
    analysis["regions"]["chin"] = {"index": None, "pixels": 12}
    return Analysed(shot.jpeg, analysis, shot.heatmap)


def _checkin(t: Treatment, day: int, rating: int, symptoms: list[str]) -> CheckIn:
    return CheckIn(
        user_id=t.user_id, treatment_id=t.id, checked_on=t.treated_on + dt.timedelta(days=day), day=day,
        self_rating=rating, symptoms=symptoms, triage=triage(day, symptoms, redness=rating).to_dict(),
    )  # fmt: skip


@pytest.fixture
def seeded(tmp_path: Path, analysed: dict[str, Analysed]) -> Iterator[Seeded]:
    """User A: a treatment with a baseline, four follow-up photos and three check-ins.

    Of the follow-ups, day 3 carries a quality warning, day 5 has an unmeasured region and its file is
    missing, day 6 has no analysis.

    User B: a treatment with one photo and one check-in of their own.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'exports.db'}")
    Base.metadata.create_all(engine)
    store = PhotoStore(tmp_path / "photos")
    with make_sessionmaker(engine)() as db:
        a, b = (
            User(email="ann@example.org", password_hash="x"),
            User(email="bob@example.org", password_hash="x"),
        )
        db.add_all([a, b])
        db.flush()
        ta = Treatment(
            user_id=a.id, treated_on=TREATED, device="pen", depth_mm=1.0, passes=3, area="face", skin_type=2,
            bleeding=True, serum=True, timezone="Europe/Berlin", notes=NOTES,
        )  # fmt: skip
        tb = Treatment(user_id=b.id, treated_on=TREATED, device="roller", depth_mm=0.5, passes=2, area="neck",
                       skin_type=4)  # fmt: skip
        db.add_all([ta, tb])
        db.flush()
        photos = [
            _photo(store, ta, analysed["baseline"], -1, "clinician", is_baseline=True),
            _photo(store, ta, analysed["day1"], 1, "clinician"),
            _photo(store, ta, analysed["day3"], 3, "private"),
            _photo(store, ta, _chin_unmeasured(analysed["day3"]), 5, "clinician"),
            _photo(store, ta, analysed["day3"], 6, "clinician"),
        ]
        photos[4].analysis = photos[4].heatmap_path = None  # not measured: exported without numbers
        checkins = [
            _checkin(ta, 0, 3, []),
            _checkin(ta, 2, 2, ["tightness", "flaking"]),
            _checkin(ta, 4, 1, ["blisters"]),
        ]
        db.add_all([*photos, *checkins])
        db.add_all([_photo(store, tb, analysed["day3"], 2, "clinician"), _checkin(tb, 2, 4, ["pus"])])
        db.commit()
        store.delete(photos[3].file_path)  # the day-5 photo's file is gone: exports must cope
        yield Seeded(db, store, a, b, ta, photos, checkins, photos[3])
    engine.dispose()
