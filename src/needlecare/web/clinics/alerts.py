"""Clinic flags and alerts: a patient's red flags and off-course recoveries reach every clinic they joined.

:func:`sync` looks at all of a patient's treatments and raises one :class:`ClinicFlag` per event and clinic:

* ``red_flag`` for each check-in whose verdict is more urgent than ``routine``
  (:data:`needlecare.web.clinics.dashboard.RED_FLAGS`);
* ``off_course`` for a treatment in recovery whose course left the expected one (the dashboard's
  ``outside_expected``).

A new flag for a same-day or emergency verdict (:data:`ALERT_URGENCIES`) or an off-course recovery is
mailed to the clinic's ``alert_email`` through the mail job (key ``clinic-alert:<flag id>``), exactly once:
the flag's ``event`` is unique per clinic, so a second look at the same check-in finds the flag and mails
nothing. Events from before the patient joined the clinic are flagged (the dashboard shows them) but not
mailed. A flag stays open until a staff member marks it handled (:func:`handle`, audited on the patient's
trail). Callers commit, then enqueue the returned deliveries (:func:`notify` does both).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.jobs.mail import queue_mail
from needlecare.jobs.queue import SEND_MAIL, JobQueue
from needlecare.storage.clinics import Clinic, ClinicFlag, ClinicMembership
from needlecare.storage.models import AuditEvent, CheckIn, Treatment, User, utcnow
from needlecare.storage.types import as_utc
from needlecare.web.clinics import dashboard, members
from needlecare.web.errors import one_or_not_found
from needlecare.web.treatments import service as treatments

#: Verdicts that alert the clinic at once (the less urgent red flags wait on the dashboard).
ALERT_URGENCIES: frozenset[str] = frozenset({"emergency", "same_day"})

#: Verdicts shown with the emergency contacts of the patient's clinics (every red flag).
URGENT_FOR_PATIENT: frozenset[str] = dashboard.RED_FLAGS


def patient_clinics(db: Session, *, user: User) -> Sequence[ClinicMembership]:
    """*user*'s active patient memberships (the clinics that look after them), newest first."""
    return [m for m in members.memberships_of(db, user=user) if m.role == "patient"]


@dataclass(frozen=True)
class Event:
    """Something about a patient that needs their clinics: its unique ``key``, kind and what it is about."""

    key: str
    kind: str
    treatment: Treatment
    checkin: CheckIn | None
    urgency: str | None
    summary: str


def _events(db: Session, *, patient: User) -> list[Event]:
    """Every event of *patient*'s treatments that needs the clinic (red-flag check-ins, off-course)."""
    found: list[Event] = []
    for treatment in treatments.get_all(db, user=patient):
        for checkin in treatment.checkins:
            urgency = str(checkin.triage.get("urgency", ""))
            if urgency in dashboard.RED_FLAGS:
                reported = ", ".join(s.replace("_", " ") for s in checkin.symptoms) or "no symptoms ticked"
                summary = (
                    f"Check-in on day {checkin.day} ({checkin.checked_on:%d %b %Y}): "
                    f"{urgency.replace('_', ' ')} ({reported}; redness {checkin.self_rating}/4)"
                )
                found.append(Event(f"checkin:{checkin.id}", "red_flag", treatment, checkin, urgency, summary))
        day = treatments.day_number(treatment, treatments.today(treatment))
        if 0 <= day <= dashboard.RECOVERY_WINDOW_DAYS:
            row = dashboard.row_for(db, patient=patient, name=None, treatment=treatment)
            if row.outside_expected:
                summary = f"Recovery outside the expected course on day {row.day}"
                found.append(
                    Event(f"off_course:{treatment.id}", "off_course", treatment, None, None, summary)
                )
    return found


def _alert_text(clinic: Clinic, member: ClinicMembership, flag: ClinicFlag, base_url: str) -> tuple[str, str]:
    """Subject and body of the alert mail for *flag* of *member*'s patient."""
    who = member.display_name or member.user.email
    what = "an emergency" if flag.urgency == "emergency" else "needs contact today"
    if flag.kind == "off_course":
        what = "recovery off course"
    subject = f"needlecare alert: {who} — {what}"
    body = "\n".join(
        [
            f"A patient of {clinic.name} needs attention.",
            "",
            f"Patient: {who} <{member.user.email}>",
            flag.summary,
            "",
            f"Open the dashboard: {base_url}/clinics/{clinic.id}/dashboard",
            "",
            "The flag stays open on the dashboard until a member of staff marks it handled.",
            "The patient was shown your emergency contact with the verdict; for an emergency, needlecare "
            "told them to call emergency services first.",
        ]
    )
    return subject, body + "\n"


def sync(db: Session, *, patient: User, base_url: str) -> list[int]:
    """Raise the flags of *patient*'s new events in each of their clinics; queue the alert mails.

    Returns
    -------
    list[int]
        Ids of the alert deliveries recorded now, to enqueue on ``send_mail`` after the caller's commit.
    """
    members = patient_clinics(db, user=patient)
    if not members:
        return []
    events = _events(db, patient=patient)
    queued: list[int] = []
    for member in members:
        clinic = member.clinic
        known = set(db.scalars(select(ClinicFlag.event).where(ClinicFlag.clinic_id == clinic.id)).all())
        for event in events:
            if event.key in known:
                continue
            flag = ClinicFlag(
                clinic_id=clinic.id,
                patient_id=patient.id,
                treatment_id=event.treatment.id,
                checkin_id=event.checkin.id if event.checkin is not None else None,
                kind=event.kind,
                event=event.key,
                urgency=event.urgency,
                summary=event.summary,
            )
            db.add(flag)
            db.flush()
            happened = as_utc(event.checkin.created_at if event.checkin is not None else utcnow())
            alerting = event.kind == "off_course" or event.urgency in ALERT_URGENCIES
            if alerting and clinic.alert_email and happened >= as_utc(member.updated_at):
                subject, body = _alert_text(clinic, member, flag, base_url)
                row, new = queue_mail(
                    db, key=f"clinic-alert:{flag.id}", to=clinic.alert_email, subject=subject, text=body
                )
                db.flush()
                flag.alert_delivery_id = row.id
                if new:
                    queued.append(row.id)
    db.flush()
    return queued


def notify(db: Session, *, jobs: JobQueue, patient: User, base_url: str) -> None:
    """:func:`sync`, commit, and enqueue the new alert mails (after a check-in or a photo analysis)."""
    delivery_ids = sync(db, patient=patient, base_url=base_url)
    db.commit()
    for delivery_id in delivery_ids:
        jobs.enqueue(SEND_MAIL, delivery_id)


def open_flags(db: Session, *, clinic_id: int, patient_id: int) -> Sequence[ClinicFlag]:
    """The patient's flags in this clinic that nobody has handled yet, oldest first."""
    stmt = select(ClinicFlag).where(
        ClinicFlag.clinic_id == clinic_id,
        ClinicFlag.patient_id == patient_id,
        ClinicFlag.handled_at.is_(None),
    )
    return db.scalars(stmt.order_by(ClinicFlag.id)).all()


def handle(db: Session, *, staff: User, clinic_id: int, flag_id: int, note: str) -> ClinicFlag:
    """Mark a flag handled by *staff* with *note*; recorded on the patient's audit trail.

    Raises
    ------
    NotFoundError
        No such flag in this clinic, or its patient is no longer an active patient here.
    ForbiddenError
        *staff* is a patient member.
    """
    members.staff_membership(db, user=staff, clinic_id=clinic_id)
    flag = one_or_not_found(
        db,
        select(ClinicFlag).where(ClinicFlag.id == flag_id, ClinicFlag.clinic_id == clinic_id),
        f"No flag {flag_id}.",
    )
    members.patient(db, staff=staff, clinic_id=clinic_id, patient_id=flag.patient_id)
    if flag.handled_at is None:
        flag.handled_at, flag.handled_by_id, flag.handled_note = utcnow(), staff.id, note
        detail = {
            "clinic_id": clinic_id,
            "flag_id": flag.id,
            "kind": flag.kind,
            "treatment_id": flag.treatment_id,
            "handled_by": staff.id,
            "handled_by_email": staff.email,
            "note": note,
        }
        db.add(AuditEvent(user_id=flag.patient_id, action="clinic_flag_handled", detail=detail))
        db.flush()
    return flag
