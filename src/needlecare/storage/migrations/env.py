"""Alembic environment: reads the app's metadata; uses a passed-in connection or the configured URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from needlecare.storage.db import make_engine
from needlecare.storage.tables import metadata

target_metadata = metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    url = context.config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the connection in ``config.attributes['connection']`` or a new engine."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # A migration that rebuilds a SQLite table drops the old one; with foreign keys on, that drop
                # would delete every row that refers to it (ON DELETE CASCADE). The keys are checked instead
                # once the migration is done.
                conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                conn.commit()
            with conn.begin():
                _run(conn)
                if sqlite and (broken := conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()):
                    raise RuntimeError(
                        f"the migration left rows whose foreign keys point nowhere: {broken[:5]}"
                    )
    finally:
        engine.dispose()


# Only when Alembic runs this file (a test collector importing it has no Alembic context).
if getattr(context, "config", None) is not None:
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()
