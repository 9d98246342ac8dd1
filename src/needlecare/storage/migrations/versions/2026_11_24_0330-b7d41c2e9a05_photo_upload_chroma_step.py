"""photo upload chroma step: how coarsely the uploaded JPEG's colour was quantised

The stored copy of a photo is re-encoded at quality 92, so the analysis job reads the upload's compression
from this column (quality warning ``compressed``; stricter white-balance matching on the eyes).

Revision ID: b7d41c2e9a05
Revises: 5faccab7de03
Create Date: 2026-11-24 03:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d41c2e9a05"
down_revision: str | Sequence[str] | None = "5faccab7de03"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upload_chroma_step", sa.Double(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("upload_chroma_step")
