"""Reminder test helpers: run the reminder schedule at a given instant, as the scheduler would."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from needlecare.jobs import mail
from needlecare.jobs.reminders import due_reminders
from needlecare.storage.models import MailDelivery
from needlecare.web.context import WebContext

#: Base of the links in reminder mails.
BASE = "https://care.example.org"


def at(text: str) -> dt.datetime:
    """The UTC instant of an ISO date-time without offset (``2026-11-23T09:00``)."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def record_reminders(ctx: WebContext, now: str, *, sent: bool) -> list[tuple[str, str]]:
    """Run the reminder schedule at *now* (UTC, 08:00 local reminders); returns (key, body) of what it
    recorded, marked sent at *now* if *sent*."""
    with ctx.sessions() as db:
        rows = due_reminders(db, at(now), hour=8, base_url=BASE)
        out = [(row.key, row.body) for row in rows]
        for row in rows:
            if sent:
                row.status, row.sent_at = mail.SENT, at(now).replace(tzinfo=None)
        db.commit()
    return out


def mail_keys(ctx: WebContext) -> dict[str, str]:
    """Key and status of every recorded mail."""
    with ctx.sessions() as db:
        return {row.key: row.status for row in db.scalars(select(MailDelivery))}


def morning(date: str, day: int) -> str:
    """The line of a reminder for *day* on local *date* of the tests' treatment of 20 November 2026."""
    return f"Today ({date}) is day {day} after your treatment on 2026-11-20."
