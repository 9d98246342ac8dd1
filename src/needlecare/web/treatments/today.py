"""Today's card of a treatment: the day, the status in plain words, today's aftercare and the next step.

The status is read from what the rules already said, never decided again here:

* ``alert`` (red): the latest check-in's triage was same day or emergency; it stays until the patient records
  that it was handled (they contacted their provider or emergency services) or a newer check-in no longer
  reports those signs;
* ``handled``: the patient recorded that the latest red verdict was handled; the card says when, and asks
  for a new check-in if anything changes;
* ``attention``: the latest check-in asks for contact within 48 hours;
* ``slower``: the recovery curve of the photos or of the self-ratings is outside the expected course
  (slower than expected, getting worse, or back after improving; :mod:`needlecare.knowledge.curve`);
* ``on_track``: otherwise, with the expected course's words for today (from the aftercare plan's redness
  line, the same course triage uses).

The card also says when the next aftercare reminder goes out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.jobs.reminders import reminder_key, reminder_zone
from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.curve import CLASSIFICATION_WORDS
from needlecare.knowledge.plan import PLAN_DAYS, zone
from needlecare.storage.clinics import Clinic, ClinicMembership
from needlecare.storage.models import AuditEvent, CheckIn, MailDelivery, Treatment, User
from needlecare.web.timeline import service as timeline
from needlecare.web.treatments import service

#: The audit action a patient records when a red verdict was handled (its detail names the check-in).
HANDLED_ACTION = "red_flag_handled"


#: Urgencies that turn the card red, and those that ask for contact within 48 hours.
ALERT = frozenset({"emergency", "same_day"})
ATTENTION = frozenset({"within_48h"})

_HEADLINES = {
    "emergency": "Call emergency services now",
    "same_day": "Contact your provider today",
    "within_48h": "Contact your provider within 48 hours",
}


@dataclass(frozen=True)
class TodayCard:
    """What the home page and the treatment page show first about one treatment."""

    treatment: Treatment
    day: int
    status: str
    headline: str
    why: str = ""
    checkin_id: int | None = None
    expect: str = ""
    do: tuple[str, ...] = ()
    avoid: tuple[str, ...] = ()
    checked_in_today: bool = False
    handled_on: dt.date | None = None
    next_reminder: str = ""
    #: "Clinic: emergency contact" of each clinic the patient joined, on an alert or attention card.
    clinic_contacts: tuple[str, ...] = ()


def latest_checkin(db: Session, treatment: Treatment) -> CheckIn | None:
    """The treatment's most recent check-in (by date, then by when it was recorded)."""
    stmt = select(CheckIn).where(CheckIn.treatment_id == treatment.id, CheckIn.user_id == treatment.user_id)
    return db.scalars(stmt.order_by(CheckIn.checked_on.desc(), CheckIn.id.desc()).limit(1)).first()


def handled_event(db: Session, checkin: CheckIn) -> AuditEvent | None:
    """The patient's record that the red verdict of *checkin* was handled, if there is one."""
    stmt = select(AuditEvent).where(
        AuditEvent.user_id == checkin.user_id, AuditEvent.action == HANDLED_ACTION
    )
    return next(
        (
            e
            for e in db.scalars(stmt.order_by(AuditEvent.id.desc()))
            if e.detail.get("checkin_id") == checkin.id
        ),
        None,
    )


def off_course(db: Session, treatment: Treatment) -> tuple[str, str] | None:
    """``(headline, why)`` when a recovery curve (photos, then self-ratings) is off the expected course."""
    data = timeline.timeline(db, treatment=treatment)
    for series in (data["photos"], data["self_report"]):
        fit = series.get("fit") or {}
        kind = str(fit.get("classification", "expected"))
        if kind != "expected" and kind in CLASSIFICATION_WORDS:
            reasons = fit.get("reasons") or [{}]
            text = str(reasons[0].get("text", ""))
            return CLASSIFICATION_WORDS[kind], text.split(";", 1)[0].rstrip(".") + "."
    return None


def next_reminder(db: Session, user: User, treatment: Treatment, now: dt.datetime, *, hour: int) -> str:
    """When the next aftercare reminder mail goes out, in the patient's words ("" for none planned).

    Parameters
    ----------
    now
        Timezone-aware instant.
    hour
        Local hour (0-23) of the reminders (the ``reminder_hour`` setting).
    """
    if not user.reminders_enabled:
        return "Daily reminders are off (Reminders page)."
    local = now.astimezone(zone(reminder_zone(user, treatment)))
    day = (local.date() - treatment.treated_on).days
    sent = db.scalars(
        select(MailDelivery.key).where(MailDelivery.key == reminder_key(treatment.id, max(day, 0)))
    ).first()
    at = f"{hour:02d}:00"
    if day < 0:
        return f"First reminder: on the day of the treatment at {at}."
    if day <= PLAN_DAYS and sent is None and local.hour < hour:
        return f"Next reminder: today at {at}."
    if day + 1 <= PLAN_DAYS:
        return f"Next reminder: tomorrow at {at} (day {day + 1})."
    return ""


def card(
    db: Session, treatment: Treatment, now: dt.datetime | None = None, *, reminder_hour: int | None = None
) -> TodayCard:
    """Today's card for *treatment* (today in the treatment's time zone).

    Parameters
    ----------
    reminder_hour
        The reminders' local hour; the card names the next reminder only when it is given.
    """
    now = now or dt.datetime.now(dt.UTC)
    today = service.today(treatment, now)
    day = service.day_number(treatment, today)
    entry = course.plan_for(treatment, today) if day >= 0 else None
    last = latest_checkin(db, treatment)
    verdict = (last.triage or {}) if last is not None else {}
    urgency = str(verdict.get("urgency", ""))
    reasons = verdict.get("reasons") or []
    why = str(reasons[0].get("text", "")) if reasons else ""
    handled = handled_event(db, last) if last is not None and urgency in ALERT else None
    handled_on = handled.created_at.date() if handled is not None else None
    slow = off_course(db, treatment) if day >= 0 and urgency not in ALERT | ATTENTION else None
    if urgency in ALERT and handled is None:
        status, headline = "alert", _HEADLINES[urgency]
    elif urgency in ALERT:
        status, headline = "handled", "You recorded that you contacted your provider"
        why = "Check in again if anything changes or gets worse; the warning signs are listed there."
    elif urgency in ATTENTION:
        status, headline = "attention", _HEADLINES[urgency]
    elif day < 0:
        status, headline, why = "upcoming", f"Your treatment is in {-day} day{'s' if day != -1 else ''}", ""
    elif slow is not None:
        status, (headline, why) = "slower", slow
    else:
        checked = last is not None and last.checked_on == today
        status, why = "on_track", ""
        headline = "On track: nothing worrying reported today" if checked else "How is your skin today?"
    reminder = ""
    if reminder_hour is not None:
        reminder = next_reminder(db, treatment.user, treatment, now, hour=reminder_hour)
    return TodayCard(
        treatment=treatment,
        day=day,
        status=status,
        headline=headline,
        why=why,
        checkin_id=last.id if last is not None and status in {"alert", "attention", "handled"} else None,
        expect=str(entry.get("expect", "")) if entry else "",
        do=tuple(entry.get("do", ())) if entry else (),
        avoid=tuple(entry.get("avoid", ())) if entry else (),
        checked_in_today=last is not None and last.checked_on == today,
        handled_on=handled_on,
        next_reminder=reminder,
        clinic_contacts=_clinic_contacts(db, treatment.user_id) if status in {"alert", "attention"} else (),
    )


def _clinic_contacts(db: Session, user_id: int) -> tuple[str, ...]:
    """ "Name: emergency contact" of each clinic where *user_id* is an active patient."""
    stmt = (
        select(Clinic.name, Clinic.emergency_contact)
        .join(ClinicMembership, ClinicMembership.clinic_id == Clinic.id)
        .where(
            ClinicMembership.user_id == user_id,
            ClinicMembership.role == "patient",
            ClinicMembership.status == "active",
        )
        .order_by(Clinic.name)
    )
    return tuple(f"{name}: {contact}" for name, contact in db.execute(stmt))


def active(
    db: Session,
    treatments: list[Treatment],
    now: dt.datetime | None = None,
    *,
    reminder_hour: int | None = None,
) -> list[TodayCard]:
    """Cards of the treatments that need attention today: in the 14-day plan, or with an open warning or an
    off-course recovery; red cards first."""
    cards = [card(db, t, now, reminder_hour=reminder_hour) for t in treatments]
    shown = [
        c
        for c in cards
        if c.status in {"alert", "attention", "upcoming", "slower"} or 0 <= c.day <= PLAN_DAYS
    ]
    return sorted(shown, key=lambda c: c.status != "alert")
