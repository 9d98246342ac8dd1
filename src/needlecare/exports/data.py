"""One user's exportable record, read owner-scoped from the database, and small helpers shared by formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.imaging.regions import REGION_NAMES
from needlecare.storage.models import CheckIn, Photo, Treatment, User

#: The face regions measured on every photo, in report order (``analysis["regions"]`` keys).
REGIONS: tuple[str, ...] = REGION_NAMES


class TreatmentNotFoundError(LookupError):
    """The requested treatment does not exist or belongs to someone else (callers never tell which)."""


@dataclass(frozen=True)
class TreatmentRecord:
    """A treatment with its photos (taken order) and check-ins (date order), all owned by the same user."""

    treatment: Treatment
    photos: Sequence[Photo]
    checkins: Sequence[CheckIn]


@dataclass(frozen=True)
class PatientExport:
    """Everything exported for one user: the account and their treatments, oldest first."""

    user: User
    treatments: Sequence[TreatmentRecord]

    @property
    def photos(self) -> list[Photo]:
        """Every photo of every treatment, treatment by treatment."""
        return [p for t in self.treatments for p in t.photos]

    @property
    def checkins(self) -> list[CheckIn]:
        """Every check-in of every treatment, treatment by treatment."""
        return [c for t in self.treatments for c in t.checkins]


def collect(db: Session, *, user: User, treatment_id: int | None = None) -> PatientExport:
    """Read *user*'s treatments, photos and check-ins; every query is filtered by ``user_id``.

    Parameters
    ----------
    db
        Open session.
    user
        The account whose data is exported.
    treatment_id
        Only this treatment (must be the user's); all treatments when ``None``.

    Raises
    ------
    TreatmentNotFoundError
        *treatment_id* is given but is not one of the user's treatments.
    """
    stmt = select(Treatment).where(Treatment.user_id == user.id)
    if treatment_id is not None:
        stmt = stmt.where(Treatment.id == treatment_id)
    treatments = db.scalars(stmt.order_by(Treatment.treated_on, Treatment.id)).all()
    if treatment_id is not None and not treatments:
        raise TreatmentNotFoundError(f"No treatment {treatment_id}.")
    records = []
    for t in treatments:
        photos = db.scalars(
            select(Photo)
            .where(Photo.treatment_id == t.id, Photo.user_id == user.id)
            .order_by(Photo.taken_on, Photo.id)
        ).all()
        checkins = db.scalars(
            select(CheckIn)
            .where(CheckIn.treatment_id == t.id, CheckIn.user_id == user.id)
            .order_by(CheckIn.checked_on, CheckIn.id)
        ).all()
        records.append(TreatmentRecord(t, photos, checkins))
    return PatientExport(user, records)


def redness(photo: Photo) -> dict[str, Any] | None:
    """The photo's whole-face ``{"index", "unit", ...}`` from its analysis, or ``None`` if not measured."""
    analysis = photo.analysis or {}
    value = analysis.get("redness")
    return value if isinstance(value, dict) and value.get("index") is not None else None


def region_index(photo: Photo, region: str) -> float | None:
    """Index of one face *region* (OD_hb), ``None`` when too few pixels were measurable or not analysed."""
    regions = (photo.analysis or {}).get("regions") or {}
    value = (regions.get(region) or {}).get("index")
    return None if value is None else float(value)


def quality(photo: Photo) -> dict[str, Any]:
    """``{"ok": bool | None, "warnings": [code], "colour_reference": str | None}`` of the analysis."""
    q = (photo.analysis or {}).get("quality") or {}
    return {
        "ok": q.get("ok"),
        "warnings": list(q.get("warnings") or []),
        "colour_reference": q.get("colour_reference"),
    }
