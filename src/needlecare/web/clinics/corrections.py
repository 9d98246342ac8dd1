"""Staff corrections of a treatment their clinic recorded for a patient.

A clinic's staff may correct a treatment of one of its current patients (:func:`members.patient`) only if
their clinic recorded it (it sent the treatment's aftercare message): the patient consented to the staff
*seeing* their data, so what the patient recorded themselves, or another clinic recorded, stays read-only
to them. Anything else is simply not found (404), like every owner-scoped lookup. The correction itself is
the patient's own :func:`needlecare.web.treatments.members.update` (new day numbers, triage, reminders),
audited on the patient's trail with the staff member and clinic who made it. A correction that changes
something is followed by a note to the patient naming the clinic and each change
(:func:`needlecare.web.clinics.messages.correction_message`); one that changes nothing, or is refused, mails
nobody.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.storage.clinics import ClinicMessage
from needlecare.storage.models import Treatment, User
from needlecare.web.clinics import members, messages
from needlecare.web.errors import one_or_not_found
from needlecare.web.treatments import service as treatments
from needlecare.web.treatments.schemas import TreatmentUpdate


def recorded_ids(db: Session, *, clinic_id: int, patient_id: int) -> set[int]:
    """Ids of the treatments of *patient_id* that clinic *clinic_id* recorded (call after a staff check)."""
    recorded = treatments.recorded_by_clinic(clinic_id)
    stmt = select(Treatment.id).where(Treatment.user_id == patient_id, recorded)
    return set(db.scalars(stmt))


def _recorded(db: Session, *, clinic_id: int, patient_id: int, treatment_id: int) -> Treatment:
    """Treatment *treatment_id* of *patient_id* that clinic *clinic_id* recorded (after a staff check)."""
    recorded = treatments.recorded_by_clinic(clinic_id)
    stmt = select(Treatment).where(Treatment.id == treatment_id, Treatment.user_id == patient_id, recorded)
    return one_or_not_found(db, stmt, f"No treatment {treatment_id} this clinic recorded for the patient.")


def recorded_treatment(
    db: Session, *, staff: User, clinic_id: int, patient_id: int, treatment_id: int
) -> Treatment:
    """Treatment *treatment_id* of a current patient, recorded by the clinic *staff* belong to.

    Raises
    ------
    NotFoundError
        *staff* is not an active member, the user is not an active patient of this clinic, or the treatment
        is not theirs or was not recorded by this clinic.
    ForbiddenError
        *staff* is a patient member.
    """
    members.patient(db, staff=staff, clinic_id=clinic_id, patient_id=patient_id)
    return _recorded(db, clinic_id=clinic_id, patient_id=patient_id, treatment_id=treatment_id)


def correct(
    db: Session,
    *,
    staff: User,
    clinic_id: int,
    patient_id: int,
    treatment_id: int,
    data: TreatmentUpdate,
    base_url: str,
) -> tuple[Treatment, ClinicMessage | None]:
    """Change the fields sent of a treatment the clinic recorded, and what follows from them; audited with
    *staff* as the editor, and the patient's note about it logged (callers deliver it after commit).

    Parameters
    ----------
    base_url
        Base of the link to the treatment's page in the note (no trailing slash).

    Returns
    -------
    (Treatment, ClinicMessage or None)
        The treatment and the note to the patient, ``None`` when nothing changed.

    Raises
    ------
    NotFoundError, ForbiddenError, UnprocessableError
        As :func:`recorded_treatment` and :func:`needlecare.web.treatments.members.update` raise them.
    """
    member = members.patient(db, staff=staff, clinic_id=clinic_id, patient_id=patient_id)
    treatment = _recorded(db, clinic_id=clinic_id, patient_id=patient_id, treatment_id=treatment_id)
    changes = treatments.changes(treatment, data)
    editor = treatments.StaffEditor(staff_id=staff.id, clinic_id=clinic_id)
    treatments.update(db, treatment=treatment, data=data, editor=editor)
    if not changes:
        return treatment, None
    link = f"{base_url}/treatments/{treatment.id}"
    note = messages.correction_message(db, member=member, treatment=treatment, changes=changes, link=link)
    return treatment, note
