"""Clinic mail through the mail job against a real SMTP server (aiosmtpd): the aftercare e-mail arrives once,
with its ``.ics`` rebuilt from the treatment at send time, also after a failed first attempt."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from fastapi import FastAPI
from icalendar import Calendar
from sqlalchemy import select

from jobs.conftest import Sink
from needlecare.jobs.mail import message_id
from needlecare.knowledge.plan import PLAN_DAYS
from needlecare.storage.models import MailDelivery, Treatment
from needlecare.web.context import WebContext

from .clinic_setup import CONTACT, create_clinic, join, signup, staff_treatment

SUBJECT = "Your aftercare from Skin Studio"


def _aftercare(sink: Sink) -> list[EmailMessage]:
    return [m for m in sink.received if m["Subject"] == SUBJECT]


def _events(ics: bytes) -> dict[str, tuple[object, str]]:
    """VEVENTs of an iCalendar file by UID: (start, summary)."""
    calendar = Calendar.from_ical(ics)
    return {str(e["UID"]): (e.decoded("DTSTART"), str(e["SUMMARY"])) for e in calendar.walk("VEVENT")}


def test_aftercare_arrives_once_through_the_queue_with_its_ics(
    app: FastAPI, ctx: WebContext, smtp: Sink
) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    invitations = len(smtp.received)
    assert invitations == 1  # the invitation went out through the same job

    smtp.refuse_next = 1  # the first attempt fails (451): the mail stays on the job for a retry
    tid = staff_treatment(admin, cid, pat, days_ago=1)
    assert _aftercare(smtp) == []
    with ctx.sessions() as db:
        delivery = db.scalars(select(MailDelivery).where(MailDelivery.treatment_id == tid)).one()
    assert (delivery.status, delivery.attempts, delivery.attachment) == ("retrying", 1, "aftercare.ics")
    assert "451" in (delivery.error or "")

    assert ctx.jobs.enqueue("send_mail", delivery.id)  # the retry
    assert ctx.jobs.enqueue("send_mail", delivery.id)  # a duplicated message: nothing is sent again
    (mail,) = _aftercare(smtp)
    assert len(smtp.received) == invitations + 1
    with ctx.sessions() as db:
        sent = db.get(MailDelivery, delivery.id)
        assert sent is not None
        assert (sent.status, sent.attempts, sent.to_address) == ("sent", 2, "pat@example.org")
        assert mail["Message-ID"] == message_id(sent, "needlecare.test")
        treatment = db.get(Treatment, tid)
        assert treatment is not None
        treated_on = treatment.treated_on

    body = mail.get_body(("plain",))
    assert body is not None
    assert CONTACT in body.get_content()
    (part,) = list(mail.iter_attachments())
    assert (part.get_content_type(), part.get_filename()) == ("text/calendar", "aftercare.ics")
    mailed = _events(part.get_payload(decode=True))
    downloaded = _events(pat.client.get(f"/treatments/{tid}/plan.ics").content)
    assert mailed == downloaded  # the same plan as the patient's own download (DTSTAMP aside)
    assert len(mailed) >= 3
    starts = [start for start, _ in mailed.values()]
    assert all(isinstance(start, dt.datetime) for start in starts)
    days = sorted((start.date() - treated_on).days for start in starts if isinstance(start, dt.datetime))
    assert days[0] >= 0  # milestones of this treatment's plan
    assert days[-1] <= PLAN_DAYS
    assert pat.client.get("/api/v1/clinics/aftercare").json()[0]["sent_at"] is not None


def test_deleting_the_treatment_before_sending_drops_its_mail(
    app: FastAPI, ctx: WebContext, smtp: Sink
) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    smtp.refuse_next = 1
    tid = staff_treatment(admin, cid, pat, days_ago=0)
    with ctx.sessions() as db:
        delivery_id = db.scalars(select(MailDelivery.id).where(MailDelivery.treatment_id == tid)).one()
    r = pat.client.delete(f"/api/v1/treatments/{tid}", headers=pat.headers)
    assert r.status_code == 204, r.text
    assert ctx.jobs.enqueue("send_mail", delivery_id)  # the job finds its row gone ("gone") and sends nothing
    assert _aftercare(smtp) == []
