"""user display name: the name a patient enters for their reports

The dermatologist's PDF report and the FHIR Patient name the patient as they entered it, not only by e-mail.

Revision ID: a4c8e2f6b1d9
Revises: 8d2f61c4b7a3
Create Date: 2026-12-05 05:20:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4c8e2f6b1d9"
down_revision: str | Sequence[str] | None = "8d2f61c4b7a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision (a plain ADD COLUMN, so SQLite keeps the table as it is)."""
    op.add_column("users", sa.Column("display_name", sa.String(length=120), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("display_name")
