"""Photos a patient shares with their practitioner, as the clinic's staff see them.

A photo is shown to staff of a clinic only when all of these hold, else :class:`NotFoundError` (we never say
whether the photo exists):

* the viewer is an active staff member of the clinic;
* the photo's owner is an active patient of that clinic (leaving the clinic ends it at once);
* the photo's own consent is ``clinician`` ("share with my practitioner").

Every view is written to the patient's audit trail (``clinic_photo_viewed``: clinic, viewer, photo, which
picture), which the patient reads on their account page. The pictures are the same aligned face crops the
patient sees (:func:`needlecare.web.photos.face_crop.face_jpeg`). Callers commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.storage.models import AuditEvent, Photo, User
from needlecare.web.clinics import members
from needlecare.web.errors import NotFoundError

#: The consent choice that shares a photo with the practitioner (``CONSENT_CHOICES`` in the photo schemas).
SHARED = "clinician"

View = Literal["face", "image"]


def shared_ids(db: Session, *, patient_id: int) -> set[int]:
    """Ids of *patient_id*'s photos whose consent shares them with the practitioner."""
    stmt = select(Photo.id).where(Photo.user_id == patient_id, Photo.consent == SHARED)
    return set(db.scalars(stmt))


def shared_photo(db: Session, *, staff: User, clinic_id: int, photo_id: int, view: View) -> Photo:
    """The shared photo *photo_id* for *staff* of *clinic_id*, with the view audited (see module docstring).

    Raises
    ------
    NotFoundError
        Not shared, not a current patient's, or not a photo at all.
    ForbiddenError
        *staff* is a patient member of the clinic.
    """
    members.staff_membership(db, user=staff, clinic_id=clinic_id)
    photo = db.get(Photo, photo_id)
    if photo is None or photo.consent != SHARED:
        raise NotFoundError(f"No photo {photo_id}.")
    try:
        members.patient(db, staff=staff, clinic_id=clinic_id, patient_id=photo.user_id)
    except NotFoundError:
        raise NotFoundError(f"No photo {photo_id}.") from None
    detail = {
        "clinic_id": clinic_id,
        "viewer_id": staff.id,
        "viewer_email": staff.email,
        "view": view,
        "treatment_id": photo.treatment_id,
    }
    db.add(AuditEvent(user_id=photo.user_id, action="clinic_photo_viewed", photo_id=photo.id, detail=detail))
    db.flush()
    return photo


def views_of(db: Session, *, user: User) -> Sequence[AuditEvent]:
    """*user*'s audit trail entries of clinic staff viewing their shared photos, newest first."""
    stmt = select(AuditEvent).where(AuditEvent.user_id == user.id, AuditEvent.action == "clinic_photo_viewed")
    return db.scalars(stmt.order_by(AuditEvent.id.desc())).all()
