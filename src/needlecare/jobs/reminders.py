"""Daily aftercare reminders: what is due at a given instant, and the mail for one treatment day.

A treatment's reminder for day *d* (0 to ``PLAN_DAYS``) is due once the patient's local clock reads
``reminder_hour`` (default 08:00) on the local date ``treated_on + d``, in the user's time zone (or, when the
user has not chosen one, the treatment's). It is recorded as a ``MailDelivery``
keyed ``reminder:<treatment id>:<day>`` so it is mailed once, however often the scheduler runs. A day whose
morning was missed (scheduler down) is still sent later the same local day, never on a later day.

When a treatment is corrected (its date, its time zone or what its plan depends on), :func:`reschedule` keeps
the recorded reminders in step: one reminder per local date, so a date that already had its mail does not get
a second one, and every date of the corrected plan that has not had one yet still gets it. When the user's own
zone is set, changed or cleared, :func:`rezone` does the same for each of their treatments whose reminders now
follow another zone.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from needlecare.jobs.mail import QUEUED, RETRYING, queue_mail
from needlecare.knowledge.common import DISCLAIMER
from needlecare.knowledge.plan import PLAN_DAYS, PlanDay, aftercare_plan, zone
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.storage.models import MailDelivery, Treatment, User
from needlecare.storage.types import as_utc

logger = logging.getLogger(__name__)


def reminder_key(treatment_id: int, day: int) -> str:
    """The delivery key of a treatment's reminder for *day*."""
    return f"reminder:{treatment_id}:{day}"


def reminder_zone(user: User, treatment: Treatment) -> str:
    """The IANA zone whose mornings a treatment's reminders follow: the user's, else the treatment's."""
    return user.timezone or treatment.timezone


def reschedule(db: Session, treatment: Treatment, *, old_on: dt.date, old_zone: str) -> None:
    """Bring a treatment's recorded reminders in line with its corrected values (the caller commits).

    Reminders not sent yet (``queued`` or ``retrying``) hold text and a due time from the old values: they
    are deleted, and :func:`due_reminders` records them again with the new text, at the new zone's reminder
    hour, if they are still due. Reminders already sent (or being sent, or dead) are kept as the record of
    what went out, re-keyed to the day number their local date has under the new values, so that date is
    not mailed twice and the days not reached yet are mailed when due; one whose date now falls outside the
    plan keeps a key no reminder will ever use.

    A reminder's local date is the date of its key (``treated_on + day``) in the zone it was sent in. A new
    ``treated_on`` changes every day number by the same amount. A new zone moves each date by the days
    between the dates the moment it went out (``sent_at``; ``claimed_at`` or ``created_at`` if it has not
    gone out) has in the old and the new zone: a mail sent at 08:00 in Tokyo reached London at 23:00 the
    evening before, so in London it was the previous date's mail. Should two reminders land on one date, the
    older keeps it and the other is superseded.

    Parameters
    ----------
    treatment
        The corrected treatment, already holding its new values.
    old_on
        Its ``treated_on`` before the correction.
    old_zone
        Its :func:`reminder_zone` before the correction (IANA name).
    """
    prefix = f"reminder:{treatment.id}:"
    of_treatment = MailDelivery.key.startswith(prefix, autoescape=True)
    db.execute(
        delete(MailDelivery)
        .where(of_treatment, MailDelivery.status.in_((QUEUED, RETRYING)))
        .execution_options(synchronize_session="fetch")
    )
    new_zone = reminder_zone(treatment.user, treatment)
    shift_days = (old_on - treatment.treated_on).days
    if shift_days == 0 and new_zone == old_zone:
        db.flush()
        return
    kept = [
        (row, int(row.key.removeprefix(prefix)))
        for row in db.scalars(select(MailDelivery).where(of_treatment).order_by(MailDelivery.id))
        if row.key.removeprefix(prefix).isdigit()
    ]
    for row, _ in kept:  # free every key first: the new keys may be held by other rows of this treatment
        row.key = f"reminder-moving:{row.id}"
    db.flush()
    taken: set[int] = set()
    for row, day in kept:
        moved = day + shift_days + _date_shift(_went_out(row), old_zone, new_zone)
        in_plan = 0 <= moved <= PLAN_DAYS and moved not in taken
        taken.add(moved)
        row.key = (
            reminder_key(treatment.id, moved) if in_plan else f"reminder-superseded:{treatment.id}:{row.id}"
        )
    db.flush()


def rezone(db: Session, user: User, *, old_timezone: str | None) -> None:
    """Reschedule the reminders of *user*'s treatments after their own zone changed (the caller commits).

    Each treatment whose :func:`reminder_zone` differs under ``user.timezone`` (already set to the new value)
    from what it was under *old_timezone* goes through :func:`reschedule`; the others, e.g. a treatment in
    the zone the user now chose, keep their reminders as they are.

    Parameters
    ----------
    user
        The user, already holding their new ``timezone`` (``None``: each treatment's zone).
    old_timezone
        Their ``timezone`` before the change.
    """
    for treatment in db.scalars(select(Treatment).where(Treatment.user_id == user.id).order_by(Treatment.id)):
        old_zone = old_timezone or treatment.timezone
        if reminder_zone(user, treatment) != old_zone:
            reschedule(db, treatment, old_on=treatment.treated_on, old_zone=old_zone)


def _went_out(row: MailDelivery) -> dt.datetime:
    """When *row* was mailed (or, not sent, last claimed or recorded), timezone-aware."""
    moment = row.sent_at or row.claimed_at or row.created_at
    return as_utc(moment)


def _date_shift(moment: dt.datetime, old_zone: str, new_zone: str) -> int:
    """Days between *moment*'s local date in *new_zone* and in *old_zone* (-2 to 2, usually -1 to 1)."""
    return (moment.astimezone(zone(new_zone)).date() - moment.astimezone(zone(old_zone)).date()).days


#: Hours after the reminder hour during which a day's reminder may still be recorded.
SEND_WINDOW_H = 3


def reminder_text(treatment: Treatment, day: PlanDay, base_url: str) -> tuple[str, str]:
    """Subject and plain-text body of the reminder for *day* of *treatment*."""
    subject = f"Day {day.day} after your microneedling: today's aftercare"
    lines = [
        f"Good morning. Today ({day.date.isoformat()}) is day {day.day} after your treatment on "
        f"{treatment.treated_on.isoformat()}.",
        "",
    ]
    if day.do:
        lines += ["Today:", *(f"  - {item}" for item in day.do), ""]
    if day.avoid:
        lines += ["Still avoid:", *(f"  - {item}" for item in day.avoid), ""]
    if day.caution:
        lines += ["Use with caution:", *(f"  - {item}" for item in day.caution), ""]
    if day.expect:
        lines += [f"Redness: {day.expect}", ""]
    lines += [
        "How does your skin feel today? A one-minute check-in tells you whether your redness is on course:",
        f"{base_url}/treatments/{treatment.id}/checkins/new",
        "",
        f"Stop these reminders or change your time zone: {base_url}/reminders",
        "",
        DISCLAIMER,
    ]
    return subject, "\n".join(lines) + "\n"


def due_reminders(db: Session, now: dt.datetime, *, hour: int, base_url: str) -> list[MailDelivery]:
    """Record every reminder due at *now* that is not recorded yet; the caller commits and enqueues them.

    Parameters
    ----------
    now
        Timezone-aware instant.
    hour
        Local hour (0-23) from which a day's reminder is due; it stays due for :data:`SEND_WINDOW_H` hours
        (a scheduler that was down a little catches up), then that day's reminder is skipped: a morning
        reminder never goes out in the evening.
    base_url
        Base of the links in the mail (no trailing slash).

    Returns
    -------
    list of MailDelivery
        The newly recorded deliveries (status ``queued``), in treatment order.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # Local dates are within a day of UTC: only treatments from the last PLAN_DAYS + 2 days can be due.
    since = now.date() - dt.timedelta(days=PLAN_DAYS + 2)
    stmt = (
        select(Treatment, User)
        .join(User, User.id == Treatment.user_id)
        .where(
            User.reminders_enabled.is_(True),
            User.email_verified_at.is_not(None),  # no mail but the verification before it
            Treatment.treated_on >= since,
        )
        .order_by(Treatment.id)
    )
    candidates = []
    for treatment, user in db.execute(stmt):
        tz = reminder_zone(user, treatment)
        local = now.astimezone(zone(tz))
        day = (local.date() - treatment.treated_on).days
        if 0 <= day <= PLAN_DAYS and hour <= local.hour < hour + SEND_WINDOW_H:
            candidates.append((reminder_key(treatment.id, day), day, tz, treatment, user))
    keys = [c[0] for c in candidates]
    recorded = set(db.scalars(select(MailDelivery.key).where(MailDelivery.key.in_(keys)))) if keys else set()
    out = []
    for key, day, tz, treatment, user in candidates:
        if key in recorded:
            continue
        plan = aftercare_plan(treatment.treated_on, TreatmentParams.of(treatment), tz)
        subject, text = reminder_text(treatment, plan.days[day], base_url)
        row, new = queue_mail(db, key=key, to=user.email, subject=subject, text=text, user_id=user.id)
        if new:
            out.append(row)
    return out
