"""Invitations: a signed, single-use, expiring link sent by e-mail; accepting it makes the user a member.

The token is an itsdangerous signature (salt ``needlecare.clinic-invitation``, the app's secret) over the
invitation id and a random nonce stored with the row. It is refused when the signature does not verify, the
row or nonce do not match (:class:`InvalidTokenError`, 400), or when it has expired or was used
(:class:`GoneError`, 410). A patient's acceptance records their consent in the audit trail.
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
from needlecare.web.clinics import service
from needlecare.web.clinics.schemas import InvitationCreate
from needlecare.web.errors import (
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidTokenError,
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
    member = service.staff_membership(db, user=user, clinic_id=clinic_id)
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


def pending(db: Session, *, user: User, clinic_id: int) -> list[ClinicInvitation]:
    """The clinic's unused invitations, newest first (staff only)."""
    service.staff_membership(db, user=user, clinic_id=clinic_id)
    stmt = select(ClinicInvitation).where(
        ClinicInvitation.clinic_id == clinic_id, ClinicInvitation.used_at.is_(None)
    )
    return list(db.scalars(stmt.order_by(ClinicInvitation.id.desc())).all())


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)  # SQLite drops the zone


def resolve(
    db: Session, *, tokens: InvitationTokens, token: str, now: dt.datetime | None = None
) -> ClinicInvitation:
    """The open invitation *token* names.

    Raises
    ------
    InvalidTokenError
        Tampered or unknown token.
    GoneError
        Expired or already used.
    """
    invitation_id, nonce = tokens.loads(token)
    invitation = db.get(ClinicInvitation, invitation_id)
    if invitation is None or not secrets.compare_digest(invitation.nonce, nonce):
        raise InvalidTokenError("This invitation link is not valid.")
    if invitation.used_at is not None:
        raise GoneError("This invitation has already been used.")
    if _aware(invitation.expires_at) <= (now or utcnow()):
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
        The invitation was sent to another e-mail address.
    UnprocessableError
        A patient invitation accepted without ticking the consent.
    """
    now = now or utcnow()
    invitation = resolve(db, tokens=tokens, token=token, now=now)
    if invitation.email != user.email:
        raise ForbiddenError("This invitation was sent to another e-mail address; log in with that one.")
    if invitation.role == "patient" and not consent:
        raise UnprocessableError("To join as a patient, agree that the clinic's staff may see your data.")
    member = service.join(
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
