"""Daily aftercare reminders: what is due at a given instant, and the mail for one treatment day.

A treatment's reminder for day *d* (0 to ``PLAN_DAYS``) is due once the patient's local clock reads
``reminder_hour`` (default 08:00) on the local date ``treated_on + d``, in the user's time zone (or, when the
user has not chosen one, the treatment's). It is recorded as a ``MailDelivery``
keyed ``reminder:<treatment id>:<day>`` so it is mailed once, however often the scheduler runs. A day whose
morning was missed (scheduler down) is still sent later the same local day, never on a later day.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.jobs.mail import queue_mail
from needlecare.knowledge.common import DISCLAIMER
from needlecare.knowledge.plan import PLAN_DAYS, PlanDay, aftercare_plan, zone
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.storage.models import MailDelivery, Treatment, User

logger = logging.getLogger(__name__)


def reminder_key(treatment_id: int, day: int) -> str:
    """The delivery key of a treatment's reminder for *day*."""
    return f"reminder:{treatment_id}:{day}"


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
        Local hour (0-23) from which a day's reminder is due.
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
        .where(User.reminders_enabled.is_(True), Treatment.treated_on >= since)
        .order_by(Treatment.id)
    )
    candidates = []
    for treatment, user in db.execute(stmt):
        tz = user.timezone or treatment.timezone
        local = now.astimezone(zone(tz))
        day = (local.date() - treatment.treated_on).days
        if 0 <= day <= PLAN_DAYS and local.hour >= hour:
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
