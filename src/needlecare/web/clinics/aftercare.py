"""Clinic-recorded treatments and the aftercare message that goes out with each one.

The message holds the day-by-day plan (:func:`needlecare.knowledge.plan.aftercare_plan`), the expected redness
window, the clinic's emergency contact and the plan as an iCalendar attachment (:func:`to_ics`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.evidence import URGENCY_ORDER, evidence
from needlecare.storage.clinics import Clinic, ClinicMessage
from needlecare.storage.models import AuditEvent, Treatment, User
from needlecare.web.clinics import members
from needlecare.web.errors import one_or_not_found
from needlecare.web.templating import DISCLAIMER
from needlecare.web.treatments import service as treatments
from needlecare.web.treatments.schemas import TreatmentCreate


def _lines(label: str, items: Sequence[str]) -> list[str]:
    return [f"  {label}: {item}" for item in items]


def warning_signs() -> list[str]:
    """One line per red-flag rule that needs care today or sooner: sign and action (``red_flags.yaml``)."""
    urgent = set(URGENCY_ORDER[: URGENCY_ORDER.index("same_day") + 1])
    return [f"- {r.sign} {r.action}" for r in evidence().red_flags.rules if r.urgency in urgent]


def body_of(clinic: Clinic, treatment: Treatment) -> str:
    """Plain-text aftercare instructions for *treatment* from *clinic*."""
    expected = course.expected(treatment)
    low, high = expected["typical_days"]
    lines = [
        f"Aftercare for your treatment at {clinic.name} on {treatment.treated_on:%d %b %Y}",
        f"({treatment.device}, {treatment.depth_mm} mm, {treatment.passes} pass(es), {treatment.area}).",
        "",
        f"Redness usually lasts {low}-{high} days after a treatment like this; redness after day "
        f"{expected['outside_expected_after_days']} is outside the expected course.",
        "",
        "Day by day:",
    ]
    for day in course.plan(treatment)["days"]:
        lines.append(f"Day {day['day']} ({day['date']}):")
        lines += _lines("Do", day["do"]) + _lines("Avoid", day["avoid"])
        lines += _lines("Use with caution", day.get("caution", []))
    lines += [
        "",
        "The attached calendar file (aftercare.ics) holds reminders for the plan.",
        "",
        f"In an emergency or if you are worried, contact {clinic.name}: {clinic.emergency_contact}",
        "",
        "Warning signs (from needlecare's cited red-flag rules):",
        *warning_signs(),
        "",
        DISCLAIMER,
    ]
    return "\n".join(lines) + "\n"


def record_treatment(
    db: Session, *, staff: User, clinic_id: int, patient_id: int, data: TreatmentCreate
) -> tuple[Treatment, ClinicMessage]:
    """Record a treatment for a patient of the clinic and log its aftercare message (callers deliver it).

    The treatment belongs to the patient (they see it like one they recorded themselves); the patient's audit
    trail notes which clinic and staff member recorded it. Access: see :func:`members.patient`.
    """
    member = members.patient(db, staff=staff, clinic_id=clinic_id, patient_id=patient_id)
    patient = member.user
    treatment = treatments.create(db, user=patient, data=data)
    clinic = member.clinic
    message = ClinicMessage(
        clinic_id=clinic.id,
        recipient_id=patient.id,
        treatment_id=treatment.id,
        to_email=patient.email,
        kind="aftercare",
        subject=f"Your aftercare from {clinic.name}",
        body=body_of(clinic, treatment),
        ics=course.ics(treatment).decode("utf-8"),
    )
    db.add(message)
    db.add(
        AuditEvent(
            user_id=patient.id,
            action="clinic_treatment_recorded",
            detail={"clinic_id": clinic.id, "treatment_id": treatment.id, "recorded_by": staff.id},
        )
    )
    db.flush()
    return treatment, message


#: Kinds of clinic message a patient keeps in the app: the aftercare instructions and the notes telling them
#: that the clinic corrected their treatment.
PATIENT_KINDS = ("aftercare", "correction")


def received(db: Session, *, user: User) -> Sequence[ClinicMessage]:
    """Aftercare messages and correction notes sent to *user*, newest first (theirs to keep, also after
    leaving the clinic)."""
    stmt = select(ClinicMessage).where(
        ClinicMessage.recipient_id == user.id, ClinicMessage.kind.in_(PATIENT_KINDS)
    )
    return db.scalars(stmt.order_by(ClinicMessage.id.desc())).all()


def get_received(db: Session, *, user: User, message_id: int) -> ClinicMessage:
    """One aftercare message or correction note sent to *user*; :class:`NotFoundError` otherwise."""
    stmt = select(ClinicMessage).where(
        ClinicMessage.id == message_id,
        ClinicMessage.recipient_id == user.id,
        ClinicMessage.kind.in_(PATIENT_KINDS),
    )
    return one_or_not_found(db, stmt, f"No message {message_id}.")
