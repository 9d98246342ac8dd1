"""treatment cold sore: the patient's history of cold sores, part of the treatment context

A history of cold sores adds the antiviral-prophylaxis prompt and the herpes watch to the aftercare plan and
makes tingling a same-day sign in triage.

Revision ID: 3c6f0a9d2e14
Revises: b7d41c2e9a05
Create Date: 2026-12-04 21:00:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c6f0a9d2e14"
down_revision: str | Sequence[str] | None = "b7d41c2e9a05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("treatments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cold_sore", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("treatments", schema=None) as batch_op:
        batch_op.drop_column("cold_sore")
