"""Row ids are handed out once: after the newest row is deleted, the next row gets a new id (SQLite
AUTOINCREMENT; PostgreSQL's sequences), and the migration that turns it on keeps every row and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Integer, delete, func, select, text
from sqlalchemy.orm import Session

from needlecare.storage import clinics as _clinics  # noqa: F401  (its tables are part of Base.metadata)
from needlecare.storage import newsletter as _newsletter  # noqa: F401  (its table is part of Base.metadata)
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import Base, CheckIn, Treatment, User

from .conftest import Database

BEFORE = "3c6f0a9d2e14"  # the revision before ids were made unique for good


def _treatment(user_id: int) -> Treatment:
    return Treatment(
        user_id=user_id, treated_on=dt.date(2026, 11, 20), device="pen", depth_mm=1.0, passes=1, area="face",
        skin_type=2, timezone="UTC",
    )  # fmt: skip


def _old_user(s: Session, email: str) -> int:
    """A user row written with the columns of revision ``BEFORE`` (the model has gained columns since)."""
    s.execute(
        text(
            "INSERT INTO users (email, password_hash, session_version, created_at, reminders_enabled) "
            "VALUES (:email, 'x', 0, :now, 1)"
        ),
        {"email": email, "now": dt.datetime(2026, 11, 20, tzinfo=dt.UTC)},
    )
    uid = s.scalar(text("SELECT id FROM users WHERE email = :email"), {"email": email})
    assert isinstance(uid, int)
    return uid


def test_every_table_with_an_integer_id_never_reuses_it_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        schema = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
    engine.dispose()
    tables = [
        t.name
        for t in Base.metadata.sorted_tables
        if [c.name for c in t.primary_key.columns] == ["id"] and isinstance(t.c.id.type, Integer)
    ]
    assert len(tables) >= 11
    for name in tables:
        assert "AUTOINCREMENT" in schema[name].upper(), name
        assert Base.metadata.tables[name].dialect_options["sqlite"]["autoincrement"], name


def test_a_deleted_newest_row_leaves_its_id_unused(db: Database) -> None:
    with db.session() as s:
        users = [User(email=f"u{i}@example.org", password_hash="x") for i in range(2)]
        s.add_all(users)
        s.flush()
        first = _treatment(users[0].id)
        s.add(first)
        s.commit()
        old_user, old_treatment = users[1].id, first.id
        s.delete(first)
        s.delete(users[1])
        s.commit()
        newer_user = User(email="new@example.org", password_hash="x")
        s.add(newer_user)
        s.flush()
        newer = _treatment(newer_user.id)
        s.add(newer)
        s.commit()
        assert newer_user.id > old_user
        assert newer.id > old_treatment


def test_the_migration_keeps_rows_ids_and_cascades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, BEFORE)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        users = [_old_user(s, f"u{i}@example.org") for i in range(3)]
        treatments = [_treatment(u) for u in users]
        s.add_all(treatments)
        s.flush()
        s.add(
            CheckIn(user_id=users[2], treatment_id=treatments[2].id, checked_on=dt.date(2026, 11, 21),
                    day=1, self_rating=1, symptoms=[], triage={})
        )  # fmt: skip
        s.commit()
        s.execute(delete(User).where(User.id == users[2]))  # the newest: its ids would be free again
        s.commit()
        kept = sorted(s.scalars(select(Treatment.id)))
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as s:
        assert sorted(s.scalars(select(Treatment.id))) == kept  # rows and ids kept
        assert s.scalar(select(func.count()).select_from(User)) == 2
        s.execute(delete(User).where(User.id == users[1]))  # foreign keys still cascade
        s.commit()
        assert sorted(s.scalars(select(Treatment.id))) == kept[:1]
        user = User(email="later@example.org", password_hash="x")
        s.add(user)
        s.flush()
        # The sequence starts after the largest id in use at migration (2): an id freed before the migration
        # (3) cannot be known, but the one freed after it (2) is never handed out again.
        assert user.id == 3
    engine.dispose()


def test_the_migration_refuses_a_filled_database_with_foreign_keys_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, BEFORE)
    engine = make_engine(url)  # foreign keys on, as the app's engines have them
    with make_sessionmaker(engine)() as s:
        _old_user(s, "a@example.org")
        s.commit()
    with engine.begin() as conn, pytest.raises(RuntimeError, match="foreign keys are on"):
        upgrade(url, connection=conn)
    with make_sessionmaker(engine)() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1
    engine.dispose()
