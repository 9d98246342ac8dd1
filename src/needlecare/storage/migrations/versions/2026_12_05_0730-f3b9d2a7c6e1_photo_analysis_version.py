"""photo analysis version: every stored analysis names the version of its shape

Analyses stored without a ``version`` key get ``"version": 1`` (the shape they were written in); the schema
does not change. Downgrading removes the key again.

Revision ID: f3b9d2a7c6e1
Revises: a4c8e2f6b1d9
Create Date: 2026-12-05 07:30:00+00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "f3b9d2a7c6e1"
down_revision: str | Sequence[str] | None = "a4c8e2f6b1d9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Rows read and rewritten per round trip.
BATCH = 500

photos = sa.table("photos", sa.column("id", sa.Integer()), sa.column("analysis", sa.JSON()))


def _rewrite(change: Callable[[dict[str, Any]], dict[str, Any] | None]) -> None:
    """Apply *change* to every stored analysis object, in batches by id; None from *change* leaves a row as
    it is."""
    conn = op.get_bind()
    update = (
        photos.update().where(photos.c.id == sa.bindparam("photo_id")).values(analysis=sa.bindparam("data"))
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(photos.c.id, photos.c.analysis)
            .where(photos.c.id > last, photos.c.analysis.is_not(None))
            .order_by(photos.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [
            {"photo_id": row.id, "data": data}
            for row in rows
            if isinstance(row.analysis, dict) and (data := change(row.analysis)) is not None
        ]
        if changed:
            conn.execute(update, changed)


def _stamped(analysis: dict[str, Any]) -> dict[str, Any] | None:
    return None if "version" in analysis else {"version": 1, **analysis}


def _unstamped(analysis: dict[str, Any]) -> dict[str, Any] | None:
    if "version" not in analysis:
        return None
    return {key: value for key, value in analysis.items() if key != "version"}


def upgrade() -> None:
    """Apply this revision: stamp ``version`` 1 on the analyses stored without one."""
    _rewrite(_stamped)


def downgrade() -> None:
    """Revert this revision: remove ``version`` from the stored analyses."""
    _rewrite(_unstamped)
