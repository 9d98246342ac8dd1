"""One user's exportable record, read owner-scoped from the database, and small helpers shared by formats."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.imaging.regions import REGION_NAMES
from needlecare.storage.models import CheckIn, Photo, Treatment, User
from needlecare.storage.photo_analysis import BaselineComparison, Redness

#: The face regions measured on every photo, in report order (the keys of the analysis's ``regions``).
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


def redness(photo: Photo) -> Redness | None:
    """The photo's whole-face redness (``index``, ``unit``...) from its analysis, ``None`` if not measured."""
    return None if photo.analysis is None else photo.analysis.redness


def region_index(photo: Photo, region: str) -> float | None:
    """Index of one face *region* (OD_hb), ``None`` when too few pixels were measurable or not analysed."""
    value = None if photo.analysis is None else photo.analysis.region_index(region)
    return None if value is None else float(value)


def comparison(photo: Photo) -> BaselineComparison | None:
    """The photo's comparison with its treatment's baseline photo, ``None`` when measured without one."""
    return None if photo.analysis is None else photo.analysis.baseline


def comparable(photo: Photo) -> bool:
    """Whether the photo's index may be compared with its baseline's (the app's own rule for the curve)."""
    return photo.analysis is None or photo.analysis.comparable


@dataclass(frozen=True)
class QualitySummary:
    """Photo quality as exported: ``ok`` (``None``: not analysed), warning codes, the colour reference."""

    ok: bool | None
    warnings: list[str]
    colour_reference: str | None


def quality(photo: Photo) -> QualitySummary:
    """The quality of the photo's analysis (``ok`` None, no warnings, no reference when not analysed)."""
    q = None if photo.analysis is None else photo.analysis.quality
    if q is None:
        return QualitySummary(ok=None, warnings=[], colour_reference=None)
    return QualitySummary(ok=q.ok, warnings=list(q.warnings), colour_reference=q.colour_reference)
