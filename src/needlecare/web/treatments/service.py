"""Treatment service: every query is scoped to its owner; someone else's id is simply not found."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.storage.models import Photo, Treatment, User
from needlecare.web.errors import NotFoundError
from needlecare.web.treatments.schemas import TreatmentCreate, TreatmentUpdate


def get(db: Session, *, user: User, treatment_id: int) -> Treatment:
    """The user's treatment *treatment_id*; raises :class:`NotFoundError` if it is missing or not theirs."""
    treatment = db.scalars(
        select(Treatment).where(Treatment.id == treatment_id, Treatment.user_id == user.id)
    ).one_or_none()
    if treatment is None:
        raise NotFoundError(f"No treatment {treatment_id}.")
    return treatment


def get_all(db: Session, *, user: User) -> Sequence[Treatment]:
    """The user's treatments, newest first."""
    stmt = select(Treatment).where(Treatment.user_id == user.id)
    return db.scalars(stmt.order_by(Treatment.treated_on.desc(), Treatment.id.desc())).all()


def create(db: Session, *, user: User, data: TreatmentCreate) -> Treatment:
    """Record a treatment for *user*."""
    treatment = Treatment(user_id=user.id, **data.model_dump())
    db.add(treatment)
    db.flush()
    return treatment


def update(db: Session, *, treatment: Treatment, data: TreatmentUpdate) -> Treatment:
    """Change only the fields that were sent."""
    for key, value in data.model_dump(exclude_unset=True).items():
        if value is not None or key == "notes":
            setattr(treatment, key, value)
    db.flush()
    return treatment


def delete(db: Session, *, treatment: Treatment) -> list[str]:
    """Delete a treatment with its photos and check-ins; returns the photo files to remove after commit."""
    rows = db.execute(select(Photo.file_path, Photo.heatmap_path).where(Photo.treatment_id == treatment.id))
    files = [path for row in rows for path in row if path]
    db.delete(treatment)
    db.flush()
    return files


def today(treatment: Treatment, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the treatment's time zone."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(zoneinfo.ZoneInfo(treatment.timezone)).date()


def day_number(treatment: Treatment, on: dt.date) -> int:
    """Whole days since the treatment (0 on the day itself, negative before it)."""
    return (on - treatment.treated_on).days
