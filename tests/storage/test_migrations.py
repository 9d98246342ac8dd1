"""Alembic migrations build exactly the tables the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from needlecare.storage.migrate import MIGRATIONS_DIR, downgrade, upgrade
from needlecare.storage.tables import metadata

from .conftest import Database

TABLES = {
    "users",
    "treatments",
    "photos",
    "checkins",
    "audit_events",
    "newsletter_subscriptions",
    "mail_deliveries",
    "ended_sessions",
}
TABLES |= {"clinics", "clinic_memberships", "clinic_invitations", "clinic_messages", "clinic_flags"}


def test_upgrade_creates_every_table(db: Database) -> None:
    names = set(inspect(db.engine).get_table_names())
    assert names == TABLES | {"alembic_version"}


def test_migrations_match_models(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_downgrade_to_base_and_back(db: Database) -> None:
    with db.engine.begin() as conn:
        downgrade(db.url, "base", connection=conn)
    assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
    with db.engine.begin() as conn:
        upgrade(db.url, connection=conn)
    assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_revision_files_are_date_first() -> None:
    names = [p.name for p in (MIGRATIONS_DIR / "versions").glob("*.py")]
    assert names
    for name in names:
        year, month, day = name.split("_")[:3]
        assert (len(year), len(month), len(day)) == (4, 2, 2), name
        assert (year + month + day).isdigit(), name


def test_the_tables_module_registers_every_table_in_a_fresh_interpreter() -> None:
    import ast
    import subprocess
    import sys

    code = "from needlecare.storage.tables import metadata; print(sorted(metadata.tables))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert set(ast.literal_eval(out)) >= TABLES
