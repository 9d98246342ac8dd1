"""Reminder settings and the calendar feed of one patient (every treatment's aftercare milestones)."""

from __future__ import annotations

import datetime as dt
import secrets

from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.jobs.reminders import rezone
from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.plan import aftercare_plan, to_ics, zone
from needlecare.knowledge.treatment_course import params_of
from needlecare.storage.models import Treatment, User
from needlecare.web.errors import NotFoundError, UnprocessableError

#: Calendar tokens: 32 random bytes, URL-safe base64 (43 characters).
TOKEN_BYTES = 32
TOKEN_PATTERN = r"^[A-Za-z0-9_-]{20,64}$"


def calendar_token(db: Session, user: User) -> str:
    """The user's calendar token, created (and flushed) on first use."""
    if user.calendar_token is None:
        user.calendar_token = secrets.token_urlsafe(TOKEN_BYTES)
        db.flush()
    return user.calendar_token


def rotate_token(db: Session, user: User) -> str:
    """Replace the user's calendar token: the old feed URL stops working."""
    user.calendar_token = None
    return calendar_token(db, user)


def user_by_token(db: Session, token: str) -> User:
    """The user whose calendar token is *token*; :class:`NotFoundError` otherwise."""
    user = db.scalars(select(User).where(User.calendar_token == token)).one_or_none()
    if user is None or not secrets.compare_digest(user.calendar_token or "", token):
        raise NotFoundError("No such calendar.")
    return user


def update(db: Session, user: User, *, timezone: str | None, reminders_enabled: bool) -> None:
    """Set the user's reminder time zone (``None``/empty: each treatment's) and whether mails are sent.

    A new zone re-schedules the recorded reminders of every treatment whose reminders it moves
    (:func:`needlecare.jobs.reminders.rezone`), in the caller's transaction: one not sent yet goes out at the
    reminder hour of the new zone, and a local date that already had its mail gets no second one.
    """
    timezone = (timezone or "").strip() or None
    if timezone is not None:
        try:
            zone(timezone)
        except InvalidInputError as exc:
            raise UnprocessableError(str(exc)) from None
    old_timezone, user.timezone = user.timezone, timezone
    user.reminders_enabled = reminders_enabled
    rezone(db, user, old_timezone=old_timezone)
    db.flush()


def feed(db: Session, user: User, *, reminder_hour: int, stamp: dt.datetime | None = None) -> bytes:
    """One iCalendar (RFC 5545) with the aftercare milestones of every treatment of *user*.

    Events come from :func:`~needlecare.knowledge.plan.to_ics` at ``reminder_hour`` local time; their UIDs
    are prefixed with the treatment id so two treatments never share one.
    """
    out = Calendar()
    out.add("prodid", "-//needlecare//aftercare feed//EN")
    out.add("version", "2.0")
    out.add("calscale", "GREGORIAN")
    out.add("x-wr-calname", "Microneedling aftercare")
    zones: set[str] = set()
    stmt = select(Treatment).where(Treatment.user_id == user.id).order_by(Treatment.treated_on, Treatment.id)
    for treatment in db.scalars(stmt):
        plan = aftercare_plan(treatment.treated_on, params_of(treatment), user.timezone or treatment.timezone)
        single = Calendar.from_ical(to_ics(plan, reminder_time=dt.time(reminder_hour), stamp=stamp))
        for component in single.subcomponents:
            if component.name == "VTIMEZONE":
                if str(component["TZID"]) in zones:
                    continue
                zones.add(str(component["TZID"]))
            elif component.name == "VEVENT":
                component["UID"] = f"t{treatment.id}-{component['UID']}"
            out.add_component(component)
    data: bytes = out.to_ical()
    return data
