"""mail attachments: queued mail names the treatment whose .ics it attaches; clinic messages their delivery

Revision ID: 4c2a9e71d0b3
Revises: b7e3c91d5a20
Create Date: 2026-11-23 23:15:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4c2a9e71d0b3"
down_revision: str | Sequence[str] | None = "b7e3c91d5a20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("mail_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attachment", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("treatment_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_mail_deliveries_treatment_id"), ["treatment_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_mail_deliveries_treatment_id_treatments"),
            "treatments",
            ["treatment_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("clinic_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delivery_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_clinic_messages_delivery_id_mail_deliveries"),
            "mail_deliveries",
            ["delivery_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("clinic_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_clinic_messages_delivery_id_mail_deliveries"), type_="foreignkey"
        )
        batch_op.drop_column("delivery_id")

    with op.batch_alter_table("mail_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_mail_deliveries_treatment_id_treatments"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_mail_deliveries_treatment_id"))
        batch_op.drop_column("treatment_id")
        batch_op.drop_column("attachment")
