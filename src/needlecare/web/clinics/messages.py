"""Outgoing clinic e-mail: every message is logged as a :class:`ClinicMessage` row, then handed to the mailer.

Delivery goes through :mod:`needlecare.mail` (outbox directory by default, SMTP when configured). A delivery
failure is logged and leaves ``sent_at`` empty; the row stays, so the patient still sees aftercare in the app.
"""

from __future__ import annotations

import logging
from email.errors import MessageError

from sqlalchemy.orm import Session

from needlecare.mail import Mailer, MailSettings, compose
from needlecare.settings import Settings
from needlecare.storage.clinics import Clinic, ClinicInvitation, ClinicMessage
from needlecare.storage.models import utcnow

logger = logging.getLogger(__name__)

ROLE_WORDS = {"admin": "an admin", "clinician": "a clinician", "patient": "a patient"}


def mailer_for(settings: Settings) -> Mailer:
    """The mailer configured by ``NEEDLECARE_SMTP_*`` (outbox under the data directory by default)."""
    return Mailer(MailSettings(), settings.data_dir / "outbox")


def deliver(db: Session, *, mailer: Mailer, message: ClinicMessage) -> bool:
    """Send *message* (with its .ics attached, if any); sets ``sent_at`` on success. Never raises."""
    try:
        mail = compose(sender=mailer.sender, to=message.to_email, subject=message.subject, text=message.body)
    except (ValueError, MessageError):  # an account address that passed sign-up but cannot be mailed
        logger.warning("clinic message %s: recipient address cannot be mailed", message.id)
        return False
    if message.ics is not None:
        mail.add_attachment(
            message.ics.encode("utf-8"), maintype="text", subtype="calendar", filename="aftercare.ics"
        )
    sent = mailer.send_quietly(mail)
    if sent:
        message.sent_at = utcnow()
        db.flush()
    return sent


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
