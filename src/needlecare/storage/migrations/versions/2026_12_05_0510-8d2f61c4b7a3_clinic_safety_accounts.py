"""clinic safety and accounts: clinic flags and alert address, e-mail verification, ended sessions

``clinic_flags`` holds a patient's red flags and off-course recoveries per clinic until staff mark them
handled; ``clinics.alert_email`` is where the clinic is alerted. ``users.email_verified_at`` records when the
owner confirmed the address (accounts that existed before are taken as confirmed: they were used so far);
``ended_sessions`` lists the sessions logged out one by one.

Revision ID: 8d2f61c4b7a3
Revises: 5e1d7a3c9b20
Create Date: 2026-12-05 05:10:00+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d2f61c4b7a3"
down_revision: str | Sequence[str] | None = "5e1d7a3c9b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_email", sa.String(length=320), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE users SET email_verified_at = created_at")
    op.create_table(
        "clinic_flags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clinic_id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("treatment_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("handled_note", sa.Text(), nullable=True),
        sa.Column("alert_delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["clinic_id"], ["clinics.id"], name=op.f("fk_clinic_flags_clinic_id_clinics"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["users.id"], name=op.f("fk_clinic_flags_patient_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["treatment_id"],
            ["treatments.id"],
            name=op.f("fk_clinic_flags_treatment_id_treatments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["checkin_id"],
            ["checkins.id"],
            name=op.f("fk_clinic_flags_checkin_id_checkins"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["users.id"],
            name=op.f("fk_clinic_flags_handled_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["alert_delivery_id"],
            ["mail_deliveries.id"],
            name=op.f("fk_clinic_flags_alert_delivery_id_mail_deliveries"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinic_flags")),
        sa.UniqueConstraint("clinic_id", "event", name=op.f("uq_clinic_flags_clinic_id")),
        sqlite_autoincrement=True,
    )
    for column in ("clinic_id", "patient_id", "treatment_id", "checkin_id"):
        op.create_index(op.f(f"ix_clinic_flags_{column}"), "clinic_flags", [column], unique=False)
    op.create_table(
        "ended_sessions",
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ended_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("sid", name=op.f("pk_ended_sessions")),
    )
    op.create_index(op.f("ix_ended_sessions_user_id"), "ended_sessions", ["user_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index(op.f("ix_ended_sessions_user_id"), table_name="ended_sessions")
    op.drop_table("ended_sessions")
    for column in ("clinic_id", "patient_id", "treatment_id", "checkin_id"):
        op.drop_index(op.f(f"ix_clinic_flags_{column}"), table_name="clinic_flags")
    op.drop_table("clinic_flags")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("email_verified_at")
    with op.batch_alter_table("clinics", schema=None) as batch_op:
        batch_op.drop_column("alert_email")
