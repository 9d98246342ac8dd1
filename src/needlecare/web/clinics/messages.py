"""Outgoing clinic e-mail: each message is logged as a :class:`ClinicMessage` row and delivered after commit.

* Invitations go through the mail job (:func:`needlecare.jobs.mail.queue_mail`, key ``clinic-message:<id>``):
  retried with backoff and never lost.
* Aftercare carries the plan as an ``.ics`` attachment, which the mail job's rows do not hold, so it is sent
  directly through the mailer (``sent_at`` set on success). If that fails, a plain-text copy (pointing to
  the calendar file in the app) is queued on the mail job instead; the patient sees the message in the app
  either way.
"""

from __future__ import annotations

import logging
from email.errors import MessageError

from sqlalchemy.orm import Session

from needlecare.jobs.mail import queue_mail
from needlecare.jobs.queue import JobQueue
from needlecare.mail import Mailer, compose
from needlecare.storage.clinics import Clinic, ClinicInvitation, ClinicMessage
from needlecare.storage.models import utcnow

logger = logging.getLogger(__name__)

ROLE_WORDS = {"admin": "an admin", "clinician": "a clinician", "patient": "a patient"}

#: Added to the plain-text copy of an aftercare message that could not be sent with its attachment.
NO_ATTACHMENT_NOTE = (
    "\n(This copy comes without the calendar file: download it from the treatment's page in needlecare.)\n"
)


def invitation_message(
    db: Session, *, clinic: Clinic, invitation: ClinicInvitation, link: str
) -> ClinicMessage:
    """Log the invitation e-mail for *invitation* (the link is its only credential)."""
    body = (
        f"Hello{' ' + invitation.display_name if invitation.display_name else ''},\n\n"
        f"{clinic.name} invites you to join them on needlecare as {ROLE_WORDS[invitation.role]}.\n\n"
        f"Open this link to accept (log in or sign up with this e-mail address first):\n{link}\n\n"
        f"The link works once and expires on {invitation.expires_at:%d %b %Y %H:%M} UTC.\n"
        "If you did not expect this, ignore this e-mail.\n"
    )
    message = ClinicMessage(
        clinic_id=clinic.id,
        to_email=invitation.email,
        kind="invitation",
        subject=f"{clinic.name} invites you to needlecare",
        body=body,
    )
    db.add(message)
    db.flush()
    return message


def queue(db: Session, *, message: ClinicMessage, text: str | None = None) -> int:
    """Record *message* (or *text* instead of its body) for the mail job; returns the delivery row's id."""
    row, _ = queue_mail(
        db,
        key=f"clinic-message:{message.id}",
        to=message.to_email,
        subject=message.subject,
        text=message.body if text is None else text,
        user_id=message.recipient_id,
    )
    db.flush()
    return row.id


def send_queued(db: Session, *, jobs: JobQueue, message: ClinicMessage) -> bool:
    """After the caller's commit: queue *message* on the mail job and enqueue it (committed here)."""
    delivery_id = queue(db, message=message)
    db.commit()
    return jobs.enqueue("send_mail", delivery_id)


def _direct(mailer: Mailer, message: ClinicMessage) -> bool:
    try:
        mail = compose(sender=mailer.sender, to=message.to_email, subject=message.subject, text=message.body)
    except (ValueError, MessageError):  # an account address that passed sign-up but cannot be mailed
        logger.warning("clinic message %s: recipient address cannot be mailed", message.id)
        return False
    if message.ics is not None:
        mail.add_attachment(
            message.ics.encode("utf-8"), maintype="text", subtype="calendar", filename="aftercare.ics"
        )
    return mailer.send_quietly(mail)


def send_with_attachment(db: Session, *, jobs: JobQueue, message: ClinicMessage) -> bool:
    """After the caller's commit: send *message* with its ``.ics`` now, or queue a plain-text copy.

    Returns whether the mail with the attachment went out (``sent_at`` is then set). Commits.
    """
    if _direct(jobs.ctx.mailer, message):
        message.sent_at = utcnow()
        db.commit()
        return True
    delivery_id = queue(db, message=message, text=message.body + NO_ATTACHMENT_NOTE)
    db.commit()
    jobs.enqueue("send_mail", delivery_id)
    return False
