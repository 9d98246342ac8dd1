"""Treatment service: every query is scoped to its owner; someone else's id is simply not found.

Correcting a treatment (:func:`update`) also corrects what was derived from its values when they were stored:
the day numbers of its photos and check-ins, the check-ins' triage verdicts and the recorded daily reminders.
The expected course, the aftercare plan, its ``.ics``, the calendar feed and the ``.ics`` of a clinic's
aftercare mail not sent yet are computed from the treatment whenever they are read, so they follow by
themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Exists, exists, select
from sqlalchemy.orm import Session

from needlecare.jobs.reminders import reminder_zone, reschedule
from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.plan import local_today
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import triage
from needlecare.storage.clinics import Clinic, ClinicMessage
from needlecare.storage.models import AuditEvent, CheckIn, Photo, Treatment, User
from needlecare.web.deps import current_user
from needlecare.web.errors import UnprocessableError, one_or_not_found
from needlecare.web.treatments.schemas import (
    TreatmentCreate,
    TreatmentDetail,
    TreatmentPublic,
    TreatmentUpdate,
)
from needlecare.web.validators import BASELINE_LEAD_DAYS


@dataclass(frozen=True)
class StaffEditor:
    """A clinic's staff member correcting a patient's treatment (see :func:`update`).

    Attributes
    ----------
    staff_id
        The staff member's user id.
    clinic_id
        The clinic they act for.
    """

    staff_id: int
    clinic_id: int


def get(db: Session, *, user: User, treatment_id: int) -> Treatment:
    """The user's treatment *treatment_id*; raises :class:`NotFoundError` if it is missing or not theirs."""
    stmt = select(Treatment).where(Treatment.id == treatment_id, Treatment.user_id == user.id)
    return one_or_not_found(db, stmt, f"No treatment {treatment_id}.")


def of_form_path(db: Session, user: User | None, params: Mapping[str, Any]) -> Treatment:
    """The treatment a form page's path names (``treatment_id``), the logged-in user's own.

    Raises
    ------
    NotAuthenticatedError
        Nobody is logged in.
    NotFoundError
        The treatment is missing or not theirs.
    """
    return get(db, user=current_user(user), treatment_id=int(params["treatment_id"]))


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


def recorded_by_clinic(clinic_id: int) -> Exists:
    """SQL condition on :class:`Treatment`: clinic *clinic_id* recorded it (it sent its aftercare message)."""
    return exists().where(
        ClinicMessage.treatment_id == Treatment.id,
        ClinicMessage.clinic_id == clinic_id,
        ClinicMessage.kind == "aftercare",
    )


def recorded_by(db: Session, *, treatment: Treatment) -> Clinic | None:
    """The clinic whose staff recorded *treatment* (it sent the aftercare message), or ``None``."""
    stmt = (
        select(Clinic)
        .join(ClinicMessage, ClinicMessage.clinic_id == Clinic.id)
        .where(ClinicMessage.treatment_id == treatment.id, ClinicMessage.kind == "aftercare")
    )
    return db.scalars(stmt.order_by(ClinicMessage.id).limit(1)).one_or_none()


def changes(treatment: Treatment, data: TreatmentUpdate) -> dict[str, tuple[Any, Any]]:
    """What :func:`update` with *data* changes on *treatment*: ``{field: (old value, new value)}``.

    Only the fields sent count, and of those only the ones whose value differs; ``null`` is a value only for
    ``notes`` (it removes them), for the other fields it means "unchanged".
    """
    sent = {
        key: value
        for key, value in data.model_dump(exclude_unset=True).items()
        if value is not None or key == "notes"
    }
    return {
        key: (getattr(treatment, key), value)
        for key, value in sent.items()
        if getattr(treatment, key) != value
    }


def update(
    db: Session, *, treatment: Treatment, data: TreatmentUpdate, editor: StaffEditor | None = None
) -> Treatment:
    """Change only the fields that were sent, and everything derived from them.

    The owner reaches this with *editor* ``None`` (callers look the treatment up with :func:`get`), also for
    a treatment a clinic recorded for them: the row is the patient's own record, which they may also delete,
    so a correction is theirs to make too. The staff of the clinic that recorded it may correct it as well,
    with *editor* naming them (callers look it up with
    :func:`needlecare.web.clinics.corrections.recorded_treatment`). The clinic's aftercare message stays as
    it was sent. Every change is written to the patient's audit trail (``treatment_edited``: old and new
    values, the recording clinic if there is one, and ``edited_by`` / ``edited_by_clinic`` for a staff edit).

    A new ``treated_on`` re-numbers the photos' and check-ins' days; it and any change to the treatment
    context (depth, device, skin type, ...: triage's thresholds follow the expected course) re-triage the
    check-ins; any change
    to the plan's inputs or to the time zone re-schedules the reminders
    (:func:`needlecare.jobs.reminders.reschedule`): they go out at the reminder hour of the new zone.

    Raises
    ------
    UnprocessableError
        The new date is after a check-in (check-ins start on the day of the treatment), or a check-in's
        triage refuses its new day number.
    """
    old_on, old_zone = treatment.treated_on, reminder_zone(treatment.user, treatment)
    changed = changes(treatment, data)
    if not changed:
        return treatment
    context = {
        name: changed[name][1] if name in changed else getattr(treatment, name)
        for name in TreatmentParams.model_fields
    }
    if "treated_on" in changed or set(changed) & set(context):
        new_on = changed["treated_on"][1] if "treated_on" in changed else treatment.treated_on
        _redate(db, treatment=treatment, new_on=new_on, params=TreatmentParams(**context))
    detail: dict[str, Any] = {
        "treatment_id": treatment.id,
        "changes": {key: [_plain(old), _plain(new)] for key, (old, new) in changed.items()},
    }
    clinic = recorded_by(db, treatment=treatment)
    if clinic is not None:
        detail["recorded_by_clinic"] = clinic.id
    if editor is not None:
        detail |= {"edited_by": editor.staff_id, "edited_by_clinic": editor.clinic_id}
    for key, (_, value) in changed.items():
        setattr(treatment, key, value)
    db.add(AuditEvent(user_id=treatment.user_id, action="treatment_edited", detail=detail))
    if set(changed) - {"notes"}:  # the notes are not part of the plan or the reminders
        reschedule(db, treatment, old_on=old_on, old_zone=old_zone)
    db.flush()
    return treatment


def _plain(value: object) -> object:
    """A JSON-storable audit value (dates as ISO strings)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _redate(db: Session, *, treatment: Treatment, new_on: dt.date, params: TreatmentParams) -> None:
    """Re-number photos and check-ins for treatment date *new_on* and triage them again for *params*."""
    verdicts = []
    for checkin in db.scalars(select(CheckIn).where(CheckIn.treatment_id == treatment.id)):
        day = (checkin.checked_on - new_on).days
        if day < 0:
            raise UnprocessableError(
                f"There is a check-in on {checkin.checked_on.isoformat()}, before {new_on.isoformat()}; "
                "check-ins start on the day of the treatment. Delete that check-in first or choose an "
                "earlier date."
            )
        try:
            verdict = triage(day, checkin.symptoms, redness=checkin.self_rating, treatment=params)
            verdicts.append((checkin, day, verdict))
        except InvalidInputError as exc:
            raise UnprocessableError(str(exc)) from exc
    for checkin, day, verdict in verdicts:
        checkin.day, checkin.triage = day, verdict.to_dict()
    for photo in db.scalars(select(Photo).where(Photo.treatment_id == treatment.id)):
        photo.day = (photo.taken_on - new_on).days


def delete(db: Session, *, treatment: Treatment) -> list[str]:
    """Delete a treatment with its photos and check-ins; returns the photo files to remove after commit."""
    rows = db.execute(select(Photo.file_path, Photo.heatmap_path).where(Photo.treatment_id == treatment.id))
    files = [path for row in rows for path in row if path]
    db.delete(treatment)
    db.flush()
    return files


def today(treatment: Treatment, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the treatment's time zone."""
    return local_today(treatment.timezone, now)


def event_date(
    treatment: Treatment, on: dt.date | None, *, field: str, before_hint: str, baseline: bool = False
) -> dt.date:
    """The date of a photo or check-in of *treatment* (today in its time zone when not given), checked.

    A date may run from the treatment's day to today; a *baseline* photo may be up to
    ``BASELINE_LEAD_DAYS`` days before the treatment.

    Parameters
    ----------
    field
        The form field the date came from (errors are shown next to it).
    before_hint
        What to do about a date before the treatment, in the patient's words.

    Raises
    ------
    UnprocessableError
        A date after today, before the treatment (or, for a baseline, before its lead window).
    """
    today_ = today(treatment)
    on = on or today_
    if on > today_:
        raise UnprocessableError(f"This date is after today ({today_:%d %b %Y}).", field=field)
    earliest = treatment.treated_on - dt.timedelta(days=BASELINE_LEAD_DAYS if baseline else 0)
    if on < earliest and not baseline:
        raise UnprocessableError(
            f"This date is before the treatment ({treatment.treated_on:%d %b %Y}). {before_hint}", field=field
        )
    if on < earliest:
        raise UnprocessableError(
            f"A before-treatment photo is one from the {BASELINE_LEAD_DAYS} days before the treatment "
            f"(from {earliest:%d %b %Y}); this date is earlier.",
            field=field,
        )
    return on


def day_number(treatment: Treatment, on: dt.date) -> int:
    """Whole days since the treatment (0 on the day itself, negative before it)."""
    return (on - treatment.treated_on).days


def detail(treatment: Treatment) -> TreatmentDetail:
    """The treatment with today's day after it, its expected course and today's plan (what the API returns
    and the treatment page shows)."""
    today_ = today(treatment)
    return TreatmentDetail(
        **TreatmentPublic.model_validate(treatment).model_dump(),
        today=today_,
        day=day_number(treatment, today_),
        expected=course.expected(treatment),
        today_plan=course.plan_for(treatment, today_),
    )
