"""jobs and reminders: photo analysis status, user time zone and calendar token, mail deliveries

Revision ID: b7e3c91d5a20
Revises: 1fb2ba4d6535
Create Date: 2026-11-23 22:40:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e3c91d5a20"
down_revision: str | Sequence[str] | None = "1fb2ba4d6535"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "mail_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("unsubscribe_url", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_mail_deliveries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_mail_deliveries_key")),
    )
    with op.batch_alter_table("mail_deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_deliveries_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_mail_deliveries_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("analysis_status", sa.String(length=16), server_default="done", nullable=False)
        )
        batch_op.add_column(sa.Column("analysis_error", sa.Text(), nullable=True))

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("reminders_enabled", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_users_calendar_token"), ["calendar_token"])


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_calendar_token"), type_="unique")
        batch_op.drop_column("calendar_token")
        batch_op.drop_column("reminders_enabled")
        batch_op.drop_column("timezone")

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.drop_column("analysis_error")
        batch_op.drop_column("analysis_status")

    with op.batch_alter_table("mail_deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mail_deliveries_user_id"))
        batch_op.drop_index(batch_op.f("ix_mail_deliveries_status"))

    op.drop_table("mail_deliveries")
