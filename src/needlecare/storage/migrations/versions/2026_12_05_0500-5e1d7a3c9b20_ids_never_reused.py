"""ids never reused: SQLite tables hand out each row id once (AUTOINCREMENT)

Without AUTOINCREMENT, SQLite gives a new row the largest id plus one, so deleting the newest treatment,
photo or account made its id free again: an old link, or a signed-in browser of a deleted account, could then
reach somebody's newer record. Each table is rebuilt with AUTOINCREMENT, its rows, ids and indexes kept; the
sequence starts after the largest id in use. PostgreSQL's sequences never reuse ids, so nothing changes there.

Revision ID: 5e1d7a3c9b20
Revises: 3c6f0a9d2e14
Create Date: 2026-12-05 05:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "5e1d7a3c9b20"
down_revision: str | Sequence[str] | None = "3c6f0a9d2e14"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Parents before children, so that each rebuilt table's foreign keys point at a rebuilt parent.
TABLES = (
    "users",
    "treatments",
    "photos",
    "checkins",
    "audit_events",
    "mail_deliveries",
    "newsletter_subscriptions",
    "clinics",
    "clinic_memberships",
    "clinic_invitations",
    "clinic_messages",
)


def _rebuild(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar():
        # Dropping a rebuilt table would delete the rows that refer to it (ON DELETE CASCADE); the migration
        # environment switches foreign keys off for SQLite, a connection passed in with them on must be empty.
        filled = [t for t in TABLES if bind.exec_driver_sql(f"SELECT 1 FROM {t} LIMIT 1").first()]
        if filled:
            raise RuntimeError(f"foreign keys are on and {filled} hold rows: migrate without a connection")
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    """Apply this revision."""
    _rebuild(True)


def downgrade() -> None:
    """Revert this revision."""
    _rebuild(False)
