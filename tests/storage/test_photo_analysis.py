"""The stored photo analysis on both backends: parsed when read, versioned when written, loud when it does
not match its version, and stamped with ``version`` 1 by the migration (old rows read as version 1 before it
too)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select, update

from needlecare.storage.migrate import downgrade, upgrade
from needlecare.storage.models import Photo
from needlecare.storage.photo_analysis import InvalidStoredAnalysisError, PhotoAnalysis, parse_analysis

from .conftest import Database, add_user_photo

BEFORE = "a4c8e2f6b1d9"  # the revision before stored analyses carried a version

#: The photos table seen as plain JSON, to write and read rows without the analysis column type.
RAW = sa.table("photos", sa.column("id", sa.Integer()), sa.column("analysis", sa.JSON()))

#: An analysis as the job stores it (a follow-up with a baseline comparison), without ``version``.
STORED: dict[str, Any] = {
    "photo": None,
    "redness": {"index": 0.81, "unit": "OD_hb", "unit_description": "OD_hb: optical density"},
    "regions": {"forehead": {"index": 0.75, "pixels": 5120}, "chin": {"index": None, "pixels": 12}},
    "face": {"box": [250, 150, 300, 300], "yaw": 1.5, "pitch": -2.0, "roll": 0.25, "faces_found": 1},
    "quality": {
        "ok": False,
        "warnings": ["compressed"],
        "messages": ["The photo is heavily compressed."],
        "colour_reference": "none",
        "colour_reference_detail": None,
    },
    "notes": [],
    "baseline": {
        "photo": None,
        "index": 0.6,
        "delta": 0.21,
        "delta_a_star": 3.5,
        "visible_delta": 0.185,
        "regions": {"forehead": {"baseline": 0.6, "delta": 0.15}, "chin": {"baseline": None, "delta": None}},
        "lighting_differs": False,
        "comparable": True,
        "notes": ["light matched on the eyes"],
        "difference_map": {"pixels": 20000, "mean": 0.2},
    },
    "heatmap_scale": {"min": 0.1, "max": 1, "unit": "OD_hb", "from": "baseline"},
}


def _photo(db: Database, email: str = "a@example.org") -> int:
    """A photo row without an analysis (of a new user *email*); returns its id."""
    with db.session() as s:
        photo = add_user_photo(s, email, day=2)
        s.commit()
        return photo.id


def _write_raw(db: Database, photo_id: int, data: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(RAW).where(RAW.c.id == photo_id).values(analysis=data))


def _read_raw(db: Database, photo_id: int) -> Any:
    with db.engine.connect() as conn:
        return conn.execute(select(RAW.c.analysis).where(RAW.c.id == photo_id)).scalar_one()


def _load(db: Database, photo_id: int) -> PhotoAnalysis | None:
    with db.session() as s:
        return s.scalars(select(Photo.analysis).where(Photo.id == photo_id)).one()


def test_an_unversioned_row_reads_as_version_1_with_every_key(db: Database) -> None:
    photo_id = _photo(db)
    _write_raw(db, photo_id, STORED)
    analysis = _load(db, photo_id)
    assert analysis is not None
    assert analysis.version == 1
    assert analysis.index == 0.81
    assert analysis.region_index("chin") is None
    assert analysis.baseline is not None
    assert analysis.baseline.regions["forehead"].delta == 0.15
    assert analysis.heatmap_scale is not None
    assert analysis.heatmap_scale.source == "baseline"
    assert json.dumps(analysis.model_dump(mode="json")) == json.dumps(STORED)  # same keys, order and numbers


def test_a_written_analysis_carries_its_version_and_keeps_unknown_keys(db: Database) -> None:
    photo_id = _photo(db)
    newer = {**STORED, "baseline": {**STORED["baseline"], "light_match": {"eyes": True}}, "extra": [1, 2]}
    with db.session() as s:
        photo = s.get(Photo, photo_id)
        assert photo is not None
        photo.analysis = newer  # type: ignore[assignment]  # a dict is parsed when assigned
        assert isinstance(photo.analysis, PhotoAnalysis)
        s.commit()
    assert _read_raw(db, photo_id) == {"version": 1, **newer}
    analysis = _load(db, photo_id)
    assert analysis is not None
    assert analysis.baseline is not None
    assert analysis.baseline.model_extra == {"light_match": {"eyes": True}}
    assert analysis.model_dump(mode="json") == newer


def test_a_core_update_with_a_dict_is_checked_and_versioned(db: Database) -> None:
    photo_id = _photo(db)
    with db.session() as s:
        s.execute(update(Photo).where(Photo.id == photo_id).values(analysis={"redness": {"index": 0.5}}))
        s.commit()
    assert _read_raw(db, photo_id) == {"version": 1, "redness": {"index": 0.5}}
    with db.session() as s, pytest.raises(sa.exc.StatementError, match=r"redness\.index: Field required"):
        s.execute(update(Photo).where(Photo.id == photo_id).values(analysis={"redness": {"value": 0.5}}))


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ({**STORED, "baseline": {**STORED["baseline"], "comparable": None}}, r"baseline\.comparable"),
        (
            {**STORED, "quality": {"is_ok": True, "warnings": []}},  # "ok" renamed
            r"does not match version 1: quality\.ok: Field required",
        ),
        ({**STORED, "regions": {"chin": {"index": 0.5}}}, r"regions\.chin\.pixels: Field required"),
        ({**STORED, "heatmap_scale": {"min": 0, "max": 1, "source": "baseline"}}, r"heatmap_scale\.from"),
        ({**STORED, "version": 2}, r"does not match version 2: version: Input should be 1"),
        ({**STORED, "face": {"box": [250, 150, 300]}}, r"face\.box\.3: Field required"),
        ({**STORED, "redness": {"index": "high"}}, r"redness\.index: Value error, expected a number"),
    ],
)
def test_a_row_that_does_not_match_its_version_fails_when_read(
    db: Database, stored: dict[str, Any], problem: str
) -> None:
    photo_id = _photo(db)
    _write_raw(db, photo_id, stored)
    with pytest.raises(InvalidStoredAnalysisError, match=problem):
        _load(db, photo_id)


def test_a_photo_without_an_analysis_reads_none(db: Database) -> None:
    photo_id = _photo(db)
    assert _load(db, photo_id) is None
    assert _read_raw(db, photo_id) is None


def test_missing_keys_read_as_none_and_are_not_written_out() -> None:
    analysis = parse_analysis({"redness": {"index": 1}, "baseline": {"comparable": False}})
    assert analysis.face is None
    assert analysis.quality is None
    assert analysis.heatmap_scale is None
    assert analysis.redness is not None
    assert analysis.redness.unit is None
    assert analysis.baseline is not None
    assert analysis.baseline.delta is None
    assert analysis.baseline.notes == []
    assert analysis.model_dump_json() == '{"redness":{"index":1},"baseline":{"comparable":false}}'
    stored = {"version": 1, "redness": {"index": 1}, "baseline": {"comparable": False}}
    assert analysis.stored_json() == stored


def test_the_comparison_helpers_follow_the_curve_rule() -> None:
    assert parse_analysis({}).comparable is True  # no baseline: nothing to compare against
    other_light = parse_analysis({"baseline": {"comparable": False, "delta_a_star": 4.0}})
    assert other_light.comparable is False
    assert other_light.comparable_delta_a_star is None
    same_light = parse_analysis({"baseline": {"comparable": True, "delta_a_star": 4.0}})
    assert same_light.comparable_delta_a_star == 4.0
    assert parse_analysis({"face": {"faces_found": 2}}).several_faces is True
    assert parse_analysis({"face": {"box": [1, 2, 3, 4]}}).several_faces is False


def test_the_migration_stamps_old_rows_and_its_downgrade_removes_the_stamp(blank_db: Database) -> None:
    with blank_db.engine.begin() as conn:
        upgrade(blank_db.url, BEFORE, connection=conn)
    old, empty = _photo(blank_db), _photo(blank_db, "b@example.org")
    _write_raw(blank_db, old, STORED)
    with blank_db.engine.begin() as conn:
        upgrade(blank_db.url, connection=conn)
    stamped = _read_raw(blank_db, old)
    assert next(iter(stamped)) == "version"
    assert stamped == {"version": 1, **STORED}
    assert _read_raw(blank_db, empty) is None
    assert _load(blank_db, old) == parse_analysis(STORED)
    with blank_db.engine.begin() as conn:
        downgrade(blank_db.url, BEFORE, connection=conn)
    assert _read_raw(blank_db, old) == STORED
