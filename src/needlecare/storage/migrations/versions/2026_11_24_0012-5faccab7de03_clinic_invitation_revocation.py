"""clinic invitation revocation: who withdrew an invitation and when

Revision ID: 5faccab7de03
Revises: 9e4f2b7c1a68
Create Date: 2026-11-24 00:12:45.808484+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5faccab7de03"
down_revision: str | Sequence[str] | None = "9e4f2b7c1a68"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("clinic_invitations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_clinic_invitations_revoked_by_id_users"),
            "users",
            ["revoked_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("clinic_invitations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_clinic_invitations_revoked_by_id_users"), type_="foreignkey")
        batch_op.drop_column("revoked_by_id")
        batch_op.drop_column("revoked_at")
