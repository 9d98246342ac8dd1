"""Invitations: a signed, single-use, expiring link sent by e-mail; accepting it makes the user a member.

The token is an itsdangerous signature (salt ``needlecare.clinic-invitation``, the app's secret) over the
invitation id and a random nonce stored with the row. It is refused when the signature does not verify, the
row or nonce do not match (:class:`InvalidTokenError`, 400), or when it has expired, was used or was
withdrawn by the clinic (:class:`GoneError`, 410). A patient's acceptance records their consent in the audit
trail.

Withdrawing (:func:`revoke`) is for the clinic's admins only, like removing a member: clinicians may invite
patients, but deciding who may (no longer) join the clinic stays with its admins. A withdrawn invitation is
kept with ``revoked_at`` and ``revoked_by_id`` (and an audit event on the admin's trail) rather than deleted.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from needlecare.storage.clinics import ClinicInvitation, ClinicMembership
from needlecare.storage.models import AuditEvent, User, utcnow
from needlecare.storage.types import as_utc
from needlecare.web.clinics import members
from needlecare.web.clinics.schemas import InvitationCreate
from needlecare.web.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidTokenError,
    NotFoundError,
    RateLimitedError,
    UnprocessableError,
)

#: How long an invitation link stays valid.
INVITATION_TTL = dt.timedelta(days=7)

#: At most this many invitations per clinic per :data:`RATE_WINDOW` (no mass mailing through the invite form).
INVITATIONS_PER_WINDOW = 50
RATE_WINDOW = dt.timedelta(hours=24)

#: What a patient agrees to when joining a clinic (stored verbatim in the audit trail).
CONSENT_TEXT = (
    "I agree that the staff of {clinic} may see my treatments, photos and check-ins in needlecare while I "
    "belong to the clinic. I can leave the clinic at any time, which ends their access immediately."
)
CONSENT_SCOPE = ("treatments", "photos", "checkins")

#: What the invited person is told when they open a link the clinic withdrew.
WITHDRAWN = "This invitation was withdrawn by the clinic. Ask the clinic for a new one if you expected it."


class InvitationTokens:
    """Sign and read invitation tokens with the app's secret."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="needlecare.clinic-invitation")

    def dumps(self, invitation: ClinicInvitation) -> str:
        """The token for *invitation*."""
        return self._serializer.dumps({"i": invitation.id, "n": invitation.nonce})

    def loads(self, token: str) -> tuple[int, str]:
        """``(invitation id, nonce)``; :class:`InvalidTokenError` if the token is tampered or malformed."""
        try:
            raw: Any = self._serializer.loads(token)
        except BadSignature as exc:
            raise InvalidTokenError("This invitation link is not valid.") from exc
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("i"), int)
            or not isinstance(raw.get("n"), str)
        ):
            raise InvalidTokenError("This invitation link is not valid.")
        return raw["i"], raw["n"]


def consent_text(clinic_name: str) -> str:
    """The consent sentence a patient agrees to for *clinic_name*."""
    return CONSENT_TEXT.format(clinic=clinic_name)


def create(
    db: Session, *, user: User, clinic_id: int, data: InvitationCreate, now: dt.datetime | None = None
) -> ClinicInvitation:
    """Invite ``data.email`` as ``data.role``; only staff invite, only admins invite staff.

    Raises
    ------
    NotFoundError
        *user* is not an active member of the clinic.
    ForbiddenError
        *user* is a patient, or a clinician inviting an admin or a clinician.
    ConflictError
        The address already belongs to an active member.
    RateLimitedError
        The clinic sent :data:`INVITATIONS_PER_WINDOW` invitations in the last :data:`RATE_WINDOW`.
    """
    member = members.staff_membership(db, user=user, clinic_id=clinic_id)
    if member.role != "admin" and data.role != "patient":
        raise ForbiddenError("Only the clinic's admins can invite staff; clinicians invite patients.")
    now = now or utcnow()
    recent = db.scalar(
        select(func.count())
        .select_from(ClinicInvitation)
        .where(ClinicInvitation.clinic_id == clinic_id, ClinicInvitation.created_at > now - RATE_WINDOW)
    )
    if (recent or 0) >= INVITATIONS_PER_WINDOW:
        hours = int(RATE_WINDOW.total_seconds() // 3600)
        raise RateLimitedError(f"This clinic sent {recent} invitations in the last {hours} hours; try later.")
    already = db.scalar(
        select(ClinicMembership.id)
        .join(User, User.id == ClinicMembership.user_id)
        .where(
            ClinicMembership.clinic_id == clinic_id,
            ClinicMembership.status == "active",
            User.email == data.email,
        )
    )
    if already is not None:
        raise ConflictError(f"{data.email} already belongs to this clinic.")
    invitation = ClinicInvitation(
        clinic_id=clinic_id,
        email=data.email,
        role=data.role,
        display_name=data.name,
        nonce=secrets.token_urlsafe(24),
        invited_by_id=user.id,
        created_at=now,
        expires_at=now + INVITATION_TTL,
    )
    db.add(invitation)
    db.flush()
    return invitation


def pending(
    db: Session, *, user: User, clinic_id: int, now: dt.datetime | None = None
) -> list[ClinicInvitation]:
    """The clinic's pending invitations (unused, unexpired, not withdrawn), newest first (staff only).

    Each row's ``invited_by`` is the inviting user (``None`` if unrecorded or their account was deleted).
    """
    members.staff_membership(db, user=user, clinic_id=clinic_id)
    stmt = select(ClinicInvitation).where(
        ClinicInvitation.clinic_id == clinic_id,
        ClinicInvitation.used_at.is_(None),
        ClinicInvitation.revoked_at.is_(None),
        ClinicInvitation.expires_at > (now or utcnow()),
    )
    return list(db.scalars(stmt.order_by(ClinicInvitation.id.desc())).all())


def revoke(
    db: Session, *, admin: User, clinic_id: int, invitation_id: int, now: dt.datetime | None = None
) -> ClinicInvitation:
    """Withdraw a pending invitation of the clinic (admins only); its link stops working at once.

    The row is kept and marked (``revoked_at``, ``revoked_by_id``) instead of deleted, and a
    ``clinic_invitation_revoked`` audit event goes on the admin's trail: for a health product the clinic's
    record must still show that this address was invited (by whom, for which role) and who withdrew the
    invitation and when, e.g. when a patient asks why their link stopped working or a misdirected invitation
    has to be reported. The row holds no health data, only what the invitation itself contained.

    Raises
    ------
    NotFoundError
        *admin* is not an active member of the clinic, or the clinic has no invitation *invitation_id*.
    ForbiddenError
        *admin* is a clinician or a patient.
    ConflictError
        The invitation was already accepted, has expired or was already withdrawn.
    """
    if members.staff_membership(db, user=admin, clinic_id=clinic_id).role != "admin":
        raise ForbiddenError("Only the clinic's admins can withdraw invitations.")
    invitation = db.get(ClinicInvitation, invitation_id)
    if invitation is None or invitation.clinic_id != clinic_id:
        raise NotFoundError(f"No invitation {invitation_id} in this clinic.")
    now = now or utcnow()
    if invitation.used_at is not None:
        raise ConflictError("This invitation has already been accepted; remove the member instead.")
    if invitation.revoked_at is not None:
        raise ConflictError("This invitation has already been withdrawn.")
    if as_utc(invitation.expires_at) <= now:
        raise ConflictError("This invitation has already expired; there is nothing to withdraw.")
    invitation.revoked_at, invitation.revoked_by_id = now, admin.id
    detail = {"clinic_id": clinic_id, "invitation_id": invitation.id, "role": invitation.role}
    db.add(AuditEvent(user_id=admin.id, action="clinic_invitation_revoked", detail=detail, created_at=now))
    db.flush()
    return invitation


def resolve(
    db: Session, *, tokens: InvitationTokens, token: str, now: dt.datetime | None = None
) -> ClinicInvitation:
    """The open invitation *token* names.

    Raises
    ------
    InvalidTokenError
        Tampered or unknown token.
    GoneError
        Expired, already used, or withdrawn by the clinic.
    """
    invitation_id, nonce = tokens.loads(token)
    invitation = db.get(ClinicInvitation, invitation_id)
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        raise InvalidTokenError("This invitation link is not valid.")
    if invitation.used_at is not None:
        raise GoneError("This invitation has already been used.")
    if invitation.revoked_at is not None:
        raise GoneError(WITHDRAWN)
    if as_utc(invitation.expires_at) <= (now or utcnow()):
        raise GoneError("This invitation has expired; ask the clinic for a new one.")
    return invitation


def accept(
    db: Session,
    *,
    user: User,
    tokens: InvitationTokens,
    token: str,
    consent: bool,
    now: dt.datetime | None = None,
) -> ClinicMembership:
    """Accept the invitation as *user* (whose e-mail must be the invited one); single use.

    Raises
    ------
    ForbiddenError
        The invitation was sent to another e-mail address, or *user* has not confirmed their address yet.
    UnprocessableError
        A patient invitation accepted without ticking the consent.
    """
    now = now or utcnow()
    invitation = resolve(db, tokens=tokens, token=token, now=now)
    if invitation.email != user.email:
        raise ForbiddenError("This invitation was sent to another e-mail address; log in with that one.")
    if user.email_verified_at is None:
        raise ForbiddenError(
            "Confirm your e-mail address first (open the link we mailed you), "
            "then open this invitation again."
        )
    if invitation.role == "patient" and not consent:
        raise UnprocessableError("To join as a patient, agree that the clinic's staff may see your data.")
    member = members.join(
        db,
        user=user,
        clinic_id=invitation.clinic_id,
        role=invitation.role,
        display_name=invitation.display_name,
        invited_by_id=invitation.invited_by_id,
        now=now,
    )
    invitation.used_at, invitation.used_by_id = now, user.id
    detail: dict[str, Any] = {"clinic_id": invitation.clinic_id, "role": invitation.role}
    if invitation.role == "patient":
        detail |= {"scope": list(CONSENT_SCOPE), "text": consent_text(invitation.clinic.name)}
        db.add(AuditEvent(user_id=user.id, action="clinic_consent_given", detail=detail, created_at=now))
    else:
        db.add(AuditEvent(user_id=user.id, action="clinic_joined", detail=detail, created_at=now))
    db.flush()
    return member
