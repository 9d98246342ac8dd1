"""Engine and session factory (SQLAlchemy 2), for SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from needlecare.storage.private import private_file, sqlite_path


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str, *, schema: str | None = None) -> Engine:
    """Create an engine for *url*.

    Parameters
    ----------
    url
        SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://...``). A SQLite file is created with
        mode 0600 in a 0700 directory.
    schema
        PostgreSQL only: a schema put first on the ``search_path`` (the tests use one schema per run).
    """
    connect_args: dict[str, Any] = {}
    database_file = sqlite_path(url)
    if database_file is not None:
        private_file(database_file)  # SQLite gives its journal files the database file's mode
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False
    elif schema is not None:
        connect_args["options"] = f"-csearch_path={schema}"
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=not url.startswith("sqlite"))
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Session factory; objects stay readable after commit (``expire_on_commit=False``)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
