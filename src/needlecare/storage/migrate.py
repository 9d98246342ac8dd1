"""Run Alembic migrations from code (``needlecare db upgrade``, ``needlecare serve``, the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from needlecare.storage.private import private_file, sqlite_path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """Alembic config for *url* built from the packaged ``alembic.ini``.

    Parameters
    ----------
    url
        SQLAlchemy URL of the target database.
    connection
        Optional open connection to migrate on (used by tests to target one PostgreSQL schema).
    """
    cfg = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head", connection: Connection | None = None) -> None:
    """Migrate the database at *url* (or on *connection*) up to *revision* (default ``head``)."""
    database_file = sqlite_path(url)
    if database_file is not None:
        private_file(database_file)
    command.upgrade(alembic_config(url, connection), revision)


def downgrade(url: str, revision: str, connection: Connection | None = None) -> None:
    """Migrate the database at *url* down to *revision* (``base`` removes every table)."""
    command.downgrade(alembic_config(url, connection), revision)
