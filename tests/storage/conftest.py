"""Database fixtures: every storage test runs on SQLite and on the real local PostgreSQL server.

PostgreSQL tests use a schema of their own (random name) so parallel runs (xdist) never collide; the schema is
dropped at the end.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import Photo, Treatment, User

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Database:
    """A migrated, empty database: its URL, engine and (PostgreSQL) schema."""

    def __init__(self, url: str, engine: Engine, schema: str | None) -> None:
        self.url = url
        self.engine = engine
        self.schema = schema

    def session(self) -> Session:
        return make_sessionmaker(self.engine)()


def add_user_photo(s: Session, email: str, *, day: int, analysis: dict[str, Any] | None = None) -> Photo:
    """A new user *email* with one treatment (2026-11-01) and one photo taken *day* days after it, added to
    *s* and flushed (ids assigned, not committed)."""
    user = User(email=email, password_hash="x")
    treatment = Treatment(
        user=user, treated_on=dt.date(2026, 11, 1), device="pen", depth_mm=0.5, passes=2, area="face",
        skin_type=2,
    )  # fmt: skip
    s.add_all([user, treatment])
    s.flush()
    photo = Photo(
        user_id=user.id, treatment=treatment, taken_on=treatment.treated_on + dt.timedelta(days=day), day=day,
        consent="private", file_path=f"{user.id}/a.jpg", width=10, height=10, analysis=analysis,
    )  # fmt: skip
    s.add(photo)
    s.flush()
    return photo


def _postgres_schema() -> Iterator[tuple[Engine, str]]:
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, schema=schema)
    try:
        yield engine, schema
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database (no tables) on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.db'}"
        engine = make_engine(url)
        yield Database(url, engine, None)
        engine.dispose()
    else:
        for engine, schema in _postgres_schema():
            yield Database(POSTGRES_URL, engine, schema)


@pytest.fixture
def db(blank_db: Database) -> Database:
    """A database migrated to ``head`` by Alembic."""
    with blank_db.engine.begin() as conn:
        upgrade(blank_db.url, connection=conn)
    return blank_db
