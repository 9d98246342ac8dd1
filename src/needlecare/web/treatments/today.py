"""Today's card of a treatment: the day, the status in plain words, today's aftercare and the next step.

The status is read from what the rules already said, never decided again here:

* ``alert`` (red): the latest check-in's triage was same day or emergency; it stays until a newer check-in
  no longer reports those signs;
* ``attention``: the latest check-in asks for contact within 48 hours;
* ``on_track``: otherwise, with the expected course's words for today (from the aftercare plan's redness
  line, the same course triage uses).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.storage.models import CheckIn, Treatment
from needlecare.web.treatments import course, service

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


def latest_checkin(db: Session, treatment: Treatment) -> CheckIn | None:
    """The treatment's most recent check-in (by date, then by when it was recorded)."""
    stmt = select(CheckIn).where(CheckIn.treatment_id == treatment.id, CheckIn.user_id == treatment.user_id)
    return db.scalars(stmt.order_by(CheckIn.checked_on.desc(), CheckIn.id.desc()).limit(1)).first()


def card(db: Session, treatment: Treatment, now: dt.datetime | None = None) -> TodayCard:
    """Today's card for *treatment* (today in the treatment's time zone)."""
    today = service.today(treatment, now)
    day = service.day_number(treatment, today)
    entry = course.plan_for(treatment, today) if day >= 0 else None
    last = latest_checkin(db, treatment)
    verdict = (last.triage or {}) if last is not None else {}
    urgency = str(verdict.get("urgency", ""))
    reasons = verdict.get("reasons") or []
    why = str(reasons[0].get("text", "")) if reasons else ""
    if urgency in ALERT:
        status, headline = "alert", _HEADLINES[urgency]
    elif urgency in ATTENTION:
        status, headline = "attention", _HEADLINES[urgency]
    elif day < 0:
        status, headline, why = "upcoming", f"Your treatment is in {-day} day{'s' if day != -1 else ''}", ""
    else:
        checked = last is not None and last.checked_on == today
        status, why = "on_track", ""
        headline = "On track: nothing worrying reported today" if checked else "How is your skin today?"
    return TodayCard(
        treatment=treatment,
        day=day,
        status=status,
        headline=headline,
        why=why,
        checkin_id=last.id if last is not None and status in {"alert", "attention"} else None,
        expect=str(entry.get("expect", "")) if entry else "",
        do=tuple(entry.get("do", ())) if entry else (),
        avoid=tuple(entry.get("avoid", ())) if entry else (),
        checked_in_today=last is not None and last.checked_on == today,
    )


def active(db: Session, treatments: list[Treatment], now: dt.datetime | None = None) -> list[TodayCard]:
    """Cards of the treatments that need attention today: in the 14-day plan, or with an open warning."""
    cards = [card(db, t, now) for t in treatments]
    return [c for c in cards if c.status in {"alert", "attention", "upcoming"} or 0 <= c.day <= 14]
