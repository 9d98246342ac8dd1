"""Clinic tables on both backends: one membership per user and clinic; cascades when users or clinics go."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from needlecare.storage.clinics import Clinic, ClinicInvitation, ClinicMembership, ClinicMessage
from needlecare.storage.models import Treatment, User

from .conftest import Database

LATER = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


def _clinic(db: Database) -> tuple[int, int, int]:
    """A clinic with an admin and a patient who received aftercare; ``(clinic, admin, patient)`` ids."""
    with db.session() as s:
        clinic = Clinic(name="Skin Studio", emergency_contact="030 123")
        admin, patient = (
            User(email="a@example.org", password_hash="x"),
            User(email="p@example.org", password_hash="x"),
        )
        s.add_all([clinic, admin, patient])
        s.flush()
        treatment = Treatment(
            user_id=patient.id, treated_on=dt.date(2026, 11, 1), device="pen", depth_mm=0.5, passes=2,
            area="face", skin_type=2,
        )  # fmt: skip
        s.add_all([
            treatment,
            ClinicMembership(clinic_id=clinic.id, user_id=admin.id, role="admin"),
            ClinicMembership(clinic_id=clinic.id, user_id=patient.id, role="patient", invited_by_id=admin.id),
            ClinicInvitation(
                clinic_id=clinic.id, email="p@example.org", role="patient", nonce="n1",
                invited_by_id=admin.id, expires_at=LATER, used_by_id=patient.id,
            ),
        ])  # fmt: skip
        s.flush()
        s.add(
            ClinicMessage(
                clinic_id=clinic.id, recipient_id=patient.id, treatment_id=treatment.id,
                to_email="p@example.org", kind="aftercare", subject="Aftercare", body="Day 0",
                ics="BEGIN:VCALENDAR",
            )
        )  # fmt: skip
        s.commit()
        return clinic.id, admin.id, patient.id


def _count(db: Database, model: type[object]) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def test_one_membership_per_user_and_clinic(db: Database) -> None:
    cid, admin, _ = _clinic(db)
    with db.session() as s:
        s.add(ClinicMembership(clinic_id=cid, user_id=admin, role="clinician"))
        with pytest.raises(IntegrityError):
            s.commit()


def test_deleting_a_patient_removes_memberships_and_messages(db: Database) -> None:
    cid, admin, patient = _clinic(db)
    with db.session() as s:
        s.execute(delete(User).where(User.id == patient))
        s.commit()
        members = s.execute(select(ClinicMembership.user_id, ClinicMembership.role)).all()
        assert [tuple(m) for m in members] == [(admin, "admin")]
        assert s.scalars(select(ClinicMessage)).all() == []
        invitation = s.scalars(select(ClinicInvitation)).one()
        assert (invitation.used_by_id, invitation.invited_by_id) == (None, admin)
        assert s.get(Clinic, cid) is not None


def test_deleting_the_inviter_keeps_the_patient_membership(db: Database) -> None:
    cid, admin, patient = _clinic(db)
    with db.session() as s:
        s.execute(delete(User).where(User.id == admin))
        s.commit()
        member = s.scalars(select(ClinicMembership)).one()
        assert (member.clinic_id, member.user_id, member.invited_by_id) == (cid, patient, None)


def test_deleting_a_clinic_removes_its_rows_but_not_the_patients_data(db: Database) -> None:
    cid, _, _ = _clinic(db)
    with db.session() as s:
        s.execute(delete(Clinic).where(Clinic.id == cid))
        s.commit()
    for model in (ClinicMembership, ClinicInvitation, ClinicMessage):
        assert _count(db, model) == 0
    assert _count(db, User) == 2
    assert _count(db, Treatment) == 1
