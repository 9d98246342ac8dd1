"""Outgoing clinic e-mail: each message is logged as a :class:`ClinicMessage` row and delivered after commit.

An invitation an admin withdraws is followed by a short note to the invitee (:func:`withdrawal_message`), and
a treatment the clinic's staff corrected by a note to the patient saying what changed
(:func:`correction_message`).
Every message goes through the mail job (:func:`needlecare.jobs.mail.queue_mail`, key
``clinic-message:<id>``): retried with backoff and never lost. An aftercare message names its treatment and
the ``aftercare.ics`` attachment, which the job builds from the treatment when it sends the mail. The message
row points at its delivery (``delivery_id``), so the app shows whether the mail went out.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from needlecare.jobs.attachments import AFTERCARE_ICS
from needlecare.jobs.mail import queue_mail
from needlecare.jobs.queue import SEND_MAIL, JobQueue
from needlecare.storage.clinics import Clinic, ClinicInvitation, ClinicMembership, ClinicMessage
from needlecare.storage.models import Treatment
from needlecare.web.treatments.labels import change_lines, long_date

ROLE_WORDS = {"admin": "an admin", "clinician": "a clinician", "patient": "a patient"}


def _hello(name: str | None) -> str:
    """The greeting line: "Hello NAME," or "Hello,"."""
    return f"Hello{' ' + name if name else ''},"


def _log(db: Session, message: ClinicMessage) -> ClinicMessage:
    """Add *message* to the session and give it its id."""
    db.add(message)
    db.flush()
    return message


def invitation_message(
    db: Session, *, clinic: Clinic, invitation: ClinicInvitation, link: str
) -> ClinicMessage:
    """Log the invitation e-mail for *invitation* (the link is its only credential)."""
    body = (
        f"{_hello(invitation.display_name)}\n\n"
        f"{clinic.name} invites you to join them on needlecare as {ROLE_WORDS[invitation.role]}.\n\n"
        f"Open this link to accept (log in or sign up with this e-mail address first):\n{link}\n\n"
        f"The link works once and expires on {invitation.expires_at:%d %b %Y %H:%M} UTC.\n"
        "If you did not expect this, ignore this e-mail.\n"
    )
    return _log(
        db,
        ClinicMessage(
            clinic_id=clinic.id,
            to_email=invitation.email,
            kind="invitation",
            subject=f"{clinic.name} invites you to needlecare",
            body=body,
        ),
    )


def withdrawal_message(db: Session, *, clinic: Clinic, invitation: ClinicInvitation) -> ClinicMessage:
    """Log the e-mail telling the invitee that *clinic* withdrew *invitation* and that nothing was shared."""
    body = (
        f"{_hello(invitation.display_name)}\n\n"
        f"{clinic.name} has withdrawn the invitation to needlecare it sent to this address on "
        f"{invitation.created_at:%d %b %Y}. The link in that e-mail no longer works.\n\n"
        f"Nothing was shared: the invitation did not make you a member of {clinic.name} and gave the clinic "
        "no access to any of your information.\n\n"
        f"If you expected to join {clinic.name}, ask them for a new invitation. Otherwise there is nothing "
        "you need to do.\n"
    )
    return _log(
        db,
        ClinicMessage(
            clinic_id=clinic.id,
            to_email=invitation.email,
            kind="withdrawal",
            subject=f"{clinic.name} withdrew its needlecare invitation",
            body=body,
        ),
    )


def correction_message(
    db: Session,
    *,
    member: ClinicMembership,
    treatment: Treatment,
    changes: dict[str, tuple[object, object]],
    link: str,
) -> ClinicMessage:
    """Log the e-mail telling a patient that the clinic corrected *treatment* (holding its new values).

    Parameters
    ----------
    member
        The patient's membership in the clinic that corrected it (their name there, the clinic).
    changes
        ``{field: (old value, new value)}`` of the correction, as
        :func:`needlecare.web.treatments.service.changes` returned it; not empty.
    link
        Absolute URL of the treatment's page.
    """
    clinic = member.clinic
    follows = (
        "Your day-by-day aftercare plan, its calendar and your daily reminders now follow the corrected "
        f"values. The aftercare e-mail {clinic.name} sent you earlier was written with the values from "
        "before; the treatment's page shows the corrected plan."
        if set(changes) - {"notes"}
        else "Your aftercare plan and your daily reminders do not depend on the notes and stay as they were."
    )
    body = "\n".join(
        [
            _hello(member.display_name),
            "",
            f"{clinic.name} corrected the record of your microneedling treatment in needlecare:",
            "",
            *(f"  - {line}" for line in change_lines(changes)),
            "",
            follows,
            "",
            f"See the corrected treatment and today's aftercare:\n{link}",
            "",
            f"If something in the correction looks wrong, please contact {clinic.name}.",
        ]
    )
    return _log(
        db,
        ClinicMessage(
            clinic_id=clinic.id,
            recipient_id=treatment.user_id,
            treatment_id=treatment.id,
            to_email=member.user.email,
            kind="correction",
            subject=f"{clinic.name} corrected your treatment of {long_date(treatment.treated_on)}",
            body=body + "\n",
        ),
    )


def queue(db: Session, *, message: ClinicMessage) -> int:
    """Record *message* for the mail job (aftercare with its ``.ics``); returns the delivery's id."""
    with_ics = message.kind == "aftercare" and message.treatment_id is not None
    row, _ = queue_mail(
        db,
        key=f"clinic-message:{message.id}",
        to=message.to_email,
        subject=message.subject,
        text=message.body,
        user_id=message.recipient_id,
        attachment=AFTERCARE_ICS if with_ics else None,
        treatment_id=message.treatment_id if with_ics else None,
    )
    db.flush()
    message.delivery_id = row.id
    db.flush()
    return row.id


def send_queued(db: Session, *, jobs: JobQueue, message: ClinicMessage) -> bool:
    """After the caller's commit: queue *message* on the mail job and enqueue it (committed here).

    Returns whether the job was enqueued (in-process: whether the mail went out); otherwise the row waits for
    the scheduler's sweep.
    """
    delivery_id = queue(db, message=message)
    db.commit()
    return jobs.enqueue(SEND_MAIL, delivery_id)
