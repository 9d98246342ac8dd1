"""Models on both backends: ownership cascades, JSON round-trips, constraints."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from needlecare.storage.models import AuditEvent, CheckIn, Photo, Treatment, User

from .conftest import Database, add_user_photo


def _user_with_data(db: Database, email: str) -> int:
    with db.session() as s:
        photo = add_user_photo(s, email, day=1, analysis={"redness": {"index": 12.5, "unit": "a*"}})
        user = photo.treatment.user
        checkin = CheckIn(
            user_id=user.id, treatment=photo.treatment, checked_on=dt.date(2026, 11, 2), day=1, self_rating=2,
            symptoms=["itching"], triage={"urgency": "routine", "reasons": []},
        )  # fmt: skip
        s.add(checkin)
        s.flush()
        s.add(
            AuditEvent(
                user_id=user.id, action="photo_consent", photo_id=photo.id, detail={"consent": "private"}
            )
        )
        s.commit()
        return user.id


def _count(db: Database, model: type[object], user_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(model.user_id == user_id)) or 0  # type: ignore[attr-defined]


def test_json_columns_round_trip(db: Database) -> None:
    uid = _user_with_data(db, "a@example.org")
    with db.session() as s:
        photo = s.scalars(select(Photo).where(Photo.user_id == uid)).one()
        checkin = s.scalars(select(CheckIn).where(CheckIn.user_id == uid)).one()
    assert photo.analysis is not None
    assert photo.analysis.model_dump(mode="json") == {"redness": {"index": 12.5, "unit": "a*"}}
    assert checkin.symptoms == ["itching"]
    assert checkin.triage["urgency"] == "routine"


def test_database_cascade_deletes_all_user_rows(db: Database) -> None:
    a = _user_with_data(db, "a@example.org")
    b = _user_with_data(db, "b@example.org")
    with db.session() as s:
        s.execute(delete(User).where(User.id == a))
        s.commit()
    for model in (Treatment, Photo, CheckIn, AuditEvent):
        assert _count(db, model, a) == 0
        assert _count(db, model, b) == 1


def test_orm_cascade_deletes_all_user_rows(db: Database) -> None:
    a = _user_with_data(db, "a@example.org")
    with db.session() as s:
        user = s.get(User, a)
        assert user is not None
        s.delete(user)
        s.commit()
    for model in (Treatment, Photo, CheckIn, AuditEvent):
        assert _count(db, model, a) == 0


def test_email_is_unique(db: Database) -> None:
    _user_with_data(db, "a@example.org")
    with db.session() as s:
        s.add(User(email="a@example.org", password_hash="y"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_timestamps_are_timezone_aware(db: Database) -> None:
    uid = _user_with_data(db, "a@example.org")
    with db.session() as s:
        user = s.get(User, uid)
        assert user is not None
        s.expire(user)
        created = user.created_at
    # SQLite stores naive values; PostgreSQL keeps the zone. Either way the instant is within a minute of now.
    now = dt.datetime.now(dt.UTC)
    aware = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
    assert abs((now - aware).total_seconds()) < 60
