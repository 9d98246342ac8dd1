"""Clinics and memberships, and every access check (who may see or change what). Callers commit.

Access rules, all enforced here (routes only pass ids through):

* a user who is not an *active* member of a clinic gets :class:`NotFoundError` (we never tell whether the
  clinic exists);
* staff-only actions raise :class:`ForbiddenError` for a patient member;
* a patient is visible to staff only while their patient membership is active (leaving ends it at once).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.storage.clinics import STAFF_ROLES, Clinic, ClinicMembership
from needlecare.storage.models import AuditEvent, User, utcnow
from needlecare.web.clinics.schemas import ClinicCreate, ClinicUpdate
from needlecare.web.errors import (
    ConflictError,
    ForbiddenError,
    UnprocessableError,
    one_or_not_found,
)


def create(db: Session, *, user: User, data: ClinicCreate) -> Clinic:
    """Create a clinic; its creator becomes its first admin."""
    clinic = Clinic(name=data.name, emergency_contact=data.emergency_contact, alert_email=data.alert_email)
    db.add(clinic)
    db.flush()
    db.add(ClinicMembership(clinic_id=clinic.id, user_id=user.id, role="admin", status="active"))
    db.add(AuditEvent(user_id=user.id, action="clinic_created", detail={"clinic_id": clinic.id}))
    db.flush()
    return clinic


def membership(db: Session, *, user: User, clinic_id: int) -> ClinicMembership:
    """*user*'s active membership of clinic *clinic_id*; :class:`NotFoundError` if there is none."""
    stmt = select(ClinicMembership).where(
        ClinicMembership.clinic_id == clinic_id,
        ClinicMembership.user_id == user.id,
        ClinicMembership.status == "active",
    )
    return one_or_not_found(db, stmt, f"No clinic {clinic_id}.")


def staff_membership(db: Session, *, user: User, clinic_id: int) -> ClinicMembership:
    """*user*'s membership if they are staff (admin or clinician); patients get :class:`ForbiddenError`."""
    found = membership(db, user=user, clinic_id=clinic_id)
    if found.role not in STAFF_ROLES:
        raise ForbiddenError("Only the clinic's staff can do this.")
    return found


def memberships_of(db: Session, *, user: User) -> Sequence[ClinicMembership]:
    """*user*'s active memberships, newest first."""
    stmt = select(ClinicMembership).where(
        ClinicMembership.user_id == user.id, ClinicMembership.status == "active"
    )
    return db.scalars(stmt.order_by(ClinicMembership.created_at.desc(), ClinicMembership.id.desc())).all()


def patients(db: Session, *, clinic_id: int) -> Sequence[ClinicMembership]:
    """Active patient memberships of a clinic (call only after a staff check), by e-mail."""
    stmt = (
        select(ClinicMembership)
        .join(User, User.id == ClinicMembership.user_id)
        .where(
            ClinicMembership.clinic_id == clinic_id,
            ClinicMembership.role == "patient",
            ClinicMembership.status == "active",
        )
    )
    return db.scalars(stmt.order_by(User.email)).all()


def patient(db: Session, *, staff: User, clinic_id: int, patient_id: int) -> ClinicMembership:
    """Patient *patient_id* of the clinic as seen by *staff*.

    Raises
    ------
    NotFoundError
        *staff* is not an active member, or the user is not an active patient of this clinic.
    ForbiddenError
        *staff* is a patient member.
    """
    staff_membership(db, user=staff, clinic_id=clinic_id)
    stmt = select(ClinicMembership).where(
        ClinicMembership.clinic_id == clinic_id,
        ClinicMembership.user_id == patient_id,
        ClinicMembership.role == "patient",
        ClinicMembership.status == "active",
    )
    return one_or_not_found(db, stmt, f"No patient {patient_id} in this clinic.")


def join(
    db: Session,
    *,
    user: User,
    clinic_id: int,
    role: str,
    display_name: str | None,
    invited_by_id: int | None,
    now: dt.datetime | None = None,
) -> ClinicMembership:
    """Make *user* an active member (a former member who left is re-activated with the new role).

    Raises :class:`ConflictError` if *user* already is an active member.
    """
    stmt = select(ClinicMembership).where(
        ClinicMembership.clinic_id == clinic_id, ClinicMembership.user_id == user.id
    )
    found = db.scalars(stmt).one_or_none()
    if found is not None and found.status == "active":
        raise ConflictError("You already belong to this clinic.")
    now = now or utcnow()
    if found is None:
        found = ClinicMembership(clinic_id=clinic_id, user_id=user.id, created_at=now)
        db.add(found)
    found.role, found.status, found.left_at = role, "active", None
    found.display_name, found.invited_by_id, found.updated_at = display_name, invited_by_id, now
    db.flush()
    return found


def leave(db: Session, *, user: User, clinic_id: int) -> ClinicMembership:
    """End *user*'s membership now (the clinic's staff lose access to their data at once); audited.

    The last admin cannot leave (the clinic would have nobody to manage it): :class:`ConflictError`.
    """
    found = membership(db, user=user, clinic_id=clinic_id)
    if found.role == "admin":
        admins = db.scalars(
            select(ClinicMembership.id).where(
                ClinicMembership.clinic_id == clinic_id,
                ClinicMembership.role == "admin",
                ClinicMembership.status == "active",
            )
        ).all()
        if len(admins) <= 1:
            raise ConflictError("You are the clinic's only admin; invite another admin before leaving.")
    now = utcnow()
    found.status, found.left_at, found.updated_at = "left", now, now
    db.add(
        AuditEvent(
            user_id=user.id,
            action="clinic_left",
            detail={"clinic_id": clinic_id, "role": found.role, "consent_withdrawn": found.role == "patient"},
        )
    )
    db.flush()
    return found


def remove(db: Session, *, admin: User, clinic_id: int, user_id: int) -> ClinicMembership:
    """An admin ends another member's membership now (audited on the removed user's trail).

    Raises
    ------
    NotFoundError
        *admin* is not a member, or *user_id* is not an active member of this clinic.
    ForbiddenError
        *admin* is not an admin.
    UnprocessableError
        *user_id* is *admin* (use :func:`leave`).
    """
    if staff_membership(db, user=admin, clinic_id=clinic_id).role != "admin":
        raise ForbiddenError("Only the clinic's admins can remove members.")
    if user_id == admin.id:
        raise UnprocessableError("To leave the clinic yourself, use Leave.")
    stmt = select(ClinicMembership).where(
        ClinicMembership.clinic_id == clinic_id,
        ClinicMembership.user_id == user_id,
        ClinicMembership.status == "active",
    )
    found = one_or_not_found(db, stmt, f"No member {user_id} in this clinic.")
    now = utcnow()
    found.status, found.left_at, found.updated_at = "left", now, now
    detail = {"clinic_id": clinic_id, "role": found.role, "removed_by": admin.id}
    db.add(AuditEvent(user_id=user_id, action="clinic_removed", detail=detail))
    db.flush()
    return found


def update(db: Session, *, admin: User, clinic_id: int, data: ClinicUpdate) -> ClinicMembership:
    """Change the clinic's settings (the fields *data* sets); admins only (:class:`ForbiddenError`)."""
    member = staff_membership(db, user=admin, clinic_id=clinic_id)
    if member.role != "admin":
        raise ForbiddenError("Only the clinic's admins can change its settings.")
    for name, value in data.model_dump(exclude_unset=True).items():
        if value is None and name != "alert_email":
            raise UnprocessableError(f"{name} cannot be empty.")
        setattr(member.clinic, name, value)
    db.flush()
    return member
