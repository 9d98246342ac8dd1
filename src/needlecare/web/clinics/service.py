"""Clinic use cases shared by the pages and the JSON API: each changes the database, commits, then hands its
mails to the job queue.

The rules they put together live beside them: access in :mod:`~needlecare.web.clinics.members`, invitations
in :mod:`~needlecare.web.clinics.invitations`, recording and correcting treatments in
:mod:`~needlecare.web.clinics.aftercare` and :mod:`~needlecare.web.clinics.corrections`, the mails in
:mod:`~needlecare.web.clinics.messages` and the clinic alerts in :mod:`~needlecare.web.clinics.alerts`.
"""

from __future__ import annotations

from fastapi import Request
from sqlalchemy.orm import Session

from needlecare.storage.clinics import ClinicInvitation, ClinicMessage
from needlecare.storage.models import Treatment, User
from needlecare.web.clinics import aftercare, alerts, corrections, invitations, messages
from needlecare.web.clinics.schemas import InvitationCreate
from needlecare.web.context import WebContext
from needlecare.web.deps import client_ip
from needlecare.web.ratelimit import enforce
from needlecare.web.treatments.schemas import TreatmentCreate, TreatmentUpdate


def tokens_of(ctx: WebContext) -> invitations.InvitationTokens:
    """Invitation token signer with the app's secret."""
    return invitations.InvitationTokens(ctx.settings.resolve_secret())


def join_link(ctx: WebContext, token: str) -> str:
    """Absolute URL (from the site's public URL) of the page that accepts *token*."""
    return f"{ctx.settings.base_url}/clinics/join?token={token}"


def send_invitation(
    request: Request,
    db: Session,
    ctx: WebContext,
    *,
    user: User,
    clinic_id: int,
    data: InvitationCreate,
) -> tuple[ClinicInvitation, str, bool]:
    """Create and commit an invitation, then mail it through the job queue; ``(invitation, link, mailed)``.

    Invitations per inviting account and per client address are limited (429, ``invitation`` rule), on top
    of the clinic's own daily count (:func:`invitations.create`).
    """
    enforce(ctx.limits, "invitation", email=user.email, ip=client_ip(request))
    invitation = invitations.create(db, user=user, clinic_id=clinic_id, data=data)
    link = join_link(ctx, tokens_of(ctx).dumps(invitation))
    message = messages.invitation_message(db, clinic=invitation.clinic, invitation=invitation, link=link)
    db.commit()
    mailed = messages.send_queued(db, jobs=ctx.jobs, message=message)
    return invitation, link, mailed


def withdraw_invitation(
    db: Session, ctx: WebContext, *, user: User, clinic_id: int, invitation_id: int
) -> bool:
    """Withdraw and commit an invitation, then mail the invitee that it was withdrawn through the job queue.

    Returns whether the mail job was enqueued. A refused withdrawal raises before anything is logged or
    mailed (see :func:`invitations.revoke`).
    """
    invitation = invitations.revoke(db, admin=user, clinic_id=clinic_id, invitation_id=invitation_id)
    message = messages.withdrawal_message(db, clinic=invitation.clinic, invitation=invitation)
    db.commit()
    return messages.send_queued(db, jobs=ctx.jobs, message=message)


def correct_and_notify(
    db: Session,
    ctx: WebContext,
    *,
    user: User,
    clinic_id: int,
    patient_id: int,
    treatment_id: int,
    data: TreatmentUpdate,
) -> Treatment:
    """Correct and commit a treatment the clinic recorded, then mail the patient what changed on the job.

    A correction that changes nothing mails nobody; a refused one raises before anything is changed, logged
    or mailed (see :func:`corrections.correct`).
    """
    treatment, note = corrections.correct(
        db,
        staff=user,
        clinic_id=clinic_id,
        patient_id=patient_id,
        treatment_id=treatment_id,
        data=data,
        base_url=ctx.settings.base_url,
    )
    db.commit()
    if note is not None:
        messages.send_queued(db, jobs=ctx.jobs, message=note)
    alerts.notify(db, jobs=ctx.jobs, patient=treatment.user, base_url=ctx.settings.base_url)
    return treatment


def record_and_send(
    db: Session, ctx: WebContext, *, user: User, clinic_id: int, patient_id: int, data: TreatmentCreate
) -> tuple[Treatment, ClinicMessage]:
    """Record and commit a treatment for a patient, then mail its aftercare (with the .ics) on the job;
    the treatment and its aftercare message."""
    treatment, message = aftercare.record_treatment(
        db, staff=user, clinic_id=clinic_id, patient_id=patient_id, data=data
    )
    db.commit()
    messages.send_queued(db, jobs=ctx.jobs, message=message)
    alerts.notify(db, jobs=ctx.jobs, patient=treatment.user, base_url=ctx.settings.base_url)
    return treatment, message
