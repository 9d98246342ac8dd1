"""Row ids are handed out once: after the newest row is deleted, the next row gets a new id (SQLite
AUTOINCREMENT; PostgreSQL's sequences), and the migration that turns it on keeps every row and key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Connection, Integer, delete, func, select, text

from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import Treatment, User
from needlecare.storage.tables import metadata

from .conftest import Database

BEFORE = "3c6f0a9d2e14"  # the revision before ids were made unique for good


def _treatment(user_id: int) -> Treatment:
    return Treatment(
        user_id=user_id, treated_on=dt.date(2026, 11, 20), device="pen", depth_mm=1.0, passes=1, area="face",
        skin_type=2, timezone="UTC",
    )  # fmt: skip


def test_every_table_with_an_integer_id_never_reuses_it_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        schema = dict(conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
    engine.dispose()
    tables = [
        t.name
        for t in metadata.sorted_tables
        if [c.name for c in t.primary_key.columns] == ["id"] and isinstance(t.c.id.type, Integer)
    ]
    assert len(tables) >= 11
    for name in tables:
        assert "AUTOINCREMENT" in schema[name].upper(), name
        assert metadata.tables[name].dialect_options["sqlite"]["autoincrement"], name


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


def _insert_user(conn: Connection, email: str) -> int:
    conn.execute(
        text("INSERT INTO users (email, password_hash, session_version, created_at) VALUES (:e, 'x', 0, :t)"),
        {"e": email, "t": dt.datetime(2026, 11, 20, tzinfo=dt.UTC)},
    )
    return int(conn.execute(text("SELECT id FROM users WHERE email = :e"), {"e": email}).scalar_one())


def _insert_treatment(conn: Connection, user_id: int) -> int:
    conn.execute(
        text(
            "INSERT INTO treatments (user_id, treated_on, device, depth_mm, passes, area, skin_type,"
            " sensitive, rosacea, bleeding, prp, serum, cold_sore, timezone, created_at)"
            " VALUES (:u, '2026-11-20', 'pen', 1.0, 1, 'face', 2, 0, 0, 0, 0, 0, 0, 'UTC',"
            " '2026-11-20 00:00:00')"
        ),
        {"u": user_id},
    )
    return int(conn.execute(text("SELECT max(id) FROM treatments")).scalar_one())


def test_the_migration_keeps_rows_ids_and_cascades(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, BEFORE)  # rows are written with SQL: the models describe the newest tables
    engine = make_engine(url)
    with engine.begin() as conn:
        users = [_insert_user(conn, f"u{i}@example.org") for i in range(3)]
        treatments = [_insert_treatment(conn, u) for u in users]
        conn.execute(
            text(
                "INSERT INTO checkins (user_id, treatment_id, checked_on, day, self_rating, symptoms, triage,"
                " created_at) VALUES (:u, :t, '2026-11-21', 1, 1, '[]', '{}', '2026-11-21 00:00:00')"
            ),
            {"u": users[2], "t": treatments[2]},
        )
        conn.execute(text("DELETE FROM users WHERE id = :u"), {"u": users[2]})  # the newest: its id is free
        kept = sorted(conn.execute(text("SELECT id FROM treatments")).scalars())
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
    with engine.begin() as conn:
        _insert_user(conn, "a@example.org")
    with engine.begin() as conn, pytest.raises(RuntimeError, match="foreign keys are on"):
        upgrade(url, connection=conn)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM users")).scalar_one() == 1
    engine.dispose()
