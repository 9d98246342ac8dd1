"""photo analysis enqueued at: when a photo's analysis job was last handed to the queue

Revision ID: 9e4f2b7c1a68
Revises: 4c2a9e71d0b3
Create Date: 2026-11-23 23:35:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9e4f2b7c1a68"
down_revision: str | Sequence[str] | None = "4c2a9e71d0b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("analysis_enqueued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("analysis_enqueued_at")
