"""The invitee of a withdrawn invitation is told so by e-mail (through the mail job, against a real SMTP
server), and a withdrawal that is refused mails nobody."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from fastapi import FastAPI
from sqlalchemy import func, select, update

from jobs.conftest import Sink
from needlecare.storage.clinics import ClinicInvitation, ClinicMessage
from needlecare.storage.models import MailDelivery
from needlecare.web.context import WebContext

from .clinic_setup import Member, create_clinic, invite, join, signup
from .conftest import page_csrf

SUBJECT = "Skin Studio withdrew its needlecare invitation"


def _withdrawals(sink: Sink) -> list[EmailMessage]:
    return [m for m in sink.received if m["Subject"] == SUBJECT]


def _text(mail: EmailMessage) -> str:
    """The plain-text body with the line ends it was written with."""
    body = mail.get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return text.replace("\r\n", "\n")


def _invitation_id(ctx: WebContext, email: str) -> int:
    with ctx.sessions() as db:
        found = db.scalars(select(ClinicInvitation.id).where(ClinicInvitation.email == email)).one()
    return found


def _logged(ctx: WebContext) -> int:
    """How many withdrawal notes were logged."""
    with ctx.sessions() as db:
        stmt = select(func.count()).select_from(ClinicMessage).where(ClinicMessage.kind == "withdrawal")
        return db.scalar(stmt) or 0


def _revoke(member: Member, cid: int, invitation_id: int) -> int:
    r = member.client.delete(f"/api/v1/clinics/{cid}/invitations/{invitation_id}", headers=member.headers)
    return r.status_code


def test_the_invitee_is_mailed_once_that_the_invitation_was_withdrawn(
    app: FastAPI, ctx: WebContext, smtp: Sink
) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    token = invite(admin, cid, "typo@example.org", "patient", "Terry")
    (invitation,) = smtp.received
    iid = _invitation_id(ctx, "typo@example.org")

    assert _revoke(admin, cid, iid) == 204
    (mail,) = _withdrawals(smtp)
    assert len(smtp.received) == 2
    assert mail["To"] == "typo@example.org"
    assert mail["From"] == invitation["From"]
    text = _text(mail)
    with ctx.sessions() as db:
        row = db.get(ClinicInvitation, iid)
        assert row is not None
        sent_on = f"{row.created_at:%d %b %Y}"
    assert text.startswith("Hello Terry,\n\n")
    assert (
        f"Skin Studio has withdrawn the invitation to needlecare it sent to this address on {sent_on}."
        in text
    )
    assert "Nothing was shared" in text
    assert "no access to any of your information" in text
    assert token not in text  # the dead link is not repeated
    with ctx.sessions() as db:
        message = db.scalars(select(ClinicMessage).where(ClinicMessage.kind == "withdrawal")).one()
        assert (message.clinic_id, message.to_email, message.subject) == (cid, "typo@example.org", SUBJECT)
        assert message.body == text
        assert message.recipient_id is None  # the invitee may have no account
        delivery = db.get(MailDelivery, message.delivery_id)
        assert delivery is not None
        assert (delivery.key, delivery.status, delivery.attempts) == (
            f"clinic-message:{message.id}",
            "sent",
            1,
        )

    assert _revoke(admin, cid, iid) == 409  # already withdrawn: no second mail
    assert ctx.jobs.enqueue("send_mail", delivery.id)  # a duplicated job sends nothing again either
    assert len(smtp.received) == 2
    assert _logged(ctx) == 1


def test_withdrawing_through_the_clinic_page_mails_the_invitee(
    app: FastAPI, ctx: WebContext, smtp: Sink
) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    invite(admin, cid, "wrong@example.org", "clinician")
    iid = _invitation_id(ctx, "wrong@example.org")
    page = admin.client.get(f"/clinics/{cid}").text
    assert "the invited person gets a short e-mail saying so" in page
    url = f"/clinics/{cid}/invitations/{iid}/revoke"
    assert admin.client.post(url, data={}).status_code == 403  # no CSRF token: nothing withdrawn or mailed
    assert _withdrawals(smtp) == []
    r = admin.client.post(url, data={"csrf_token": page_csrf(admin.client, f"/clinics/{cid}")})
    assert (r.status_code, r.headers["location"]) == (303, f"/clinics/{cid}")
    (mail,) = _withdrawals(smtp)
    assert mail["To"] == "wrong@example.org"
    assert _text(mail).startswith("Hello,\n\nSkin Studio has withdrawn")  # invited without a name


def test_a_refused_withdrawal_mails_nobody(app: FastAPI, ctx: WebContext, smtp: Sink) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    doc = join(app, admin, cid, "doc@clinic.example", "clinician")  # accepted
    other = signup(app, "admin@other.example")
    create_clinic(other, "Other Clinic")
    invite(admin, cid, "late@example.org", "patient")
    invite(doc, cid, "keep@example.org", "patient")
    late, keep = _invitation_id(ctx, "late@example.org"), _invitation_id(ctx, "keep@example.org")
    with ctx.sessions() as db:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.execute(update(ClinicInvitation).where(ClinicInvitation.id == late).values(expires_at=past))
        db.commit()
    sent = len(smtp.received)

    attempts = [
        (admin, cid, _invitation_id(ctx, "doc@clinic.example"), 409),  # already accepted
        (admin, cid, late, 409),  # expired
        (doc, cid, keep, 403),  # clinicians do not withdraw
        (other, cid, keep, 404),  # another clinic's admin
        (admin, cid, 999_999, 404),
    ]
    for member, clinic_id, invitation_id, status in attempts:
        assert _revoke(member, clinic_id, invitation_id) == status, (member.email, invitation_id)
    r = admin.client.post(
        f"/clinics/{cid}/invitations/{late}/revoke",
        data={"csrf_token": page_csrf(admin.client, f"/clinics/{cid}")},
    )
    assert r.status_code == 409
    assert len(smtp.received) == sent
    assert _logged(ctx) == 0
    with ctx.sessions() as db:
        keys = db.scalars(select(MailDelivery.key)).all()
    assert len(keys) == sent  # only the invitations were ever queued
