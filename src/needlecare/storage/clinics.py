"""Clinic tables: clinics, their members (staff and patients), invitations and the outgoing-message log.

A patient's health data stays in the patient's own rows (``treatments``, ``photos``, ``checkins``); a
clinic sees them only through an *active* :class:`ClinicMembership` with role ``patient``. Leaving sets the
membership's status to ``left``, which ends access at once (every staff query requires an active membership).
Deleting a user deletes their memberships (database ``ON DELETE CASCADE``); deleting a clinic deletes its
memberships, invitations and message log.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from needlecare.storage.models import NEVER_REUSE_IDS, Base, MailDelivery, User, utcnow

Role = Literal["admin", "clinician", "patient"]
MembershipStatus = Literal["active", "left"]

#: Every role, and the ones that make a member staff (they see the clinic's patients).
ROLES: tuple[Role, ...] = ("admin", "clinician", "patient")
STAFF_ROLES: frozenset[str] = frozenset({"admin", "clinician"})


def _clinic_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("clinics.id", ondelete="CASCADE"), index=True)


def _user_ref() -> Mapped[int | None]:
    return mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)


class Clinic(Base):
    """A clinic account; ``emergency_contact`` goes into every aftercare message (phone, address, hours).

    ``alert_email`` is where the clinic is told at once of a patient's urgent check-in or off-course
    recovery (:class:`ClinicFlag`); ``None``: no alert mails (the dashboard still shows the flags).
    """

    __tablename__ = "clinics"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    emergency_contact: Mapped[str] = mapped_column(String(500))
    alert_email: Mapped[str | None] = mapped_column(String(320), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ClinicMembership(Base):
    """One user's place in one clinic: role admin | clinician | patient, status active | left.

    ``display_name`` is the name the inviter entered (searchable on the dashboard); ``invited_by_id`` is the
    staff member whose invitation was accepted (``None`` for the clinic's creator).
    """

    __tablename__ = "clinic_memberships"
    __table_args__ = (UniqueConstraint("clinic_id", "user_id"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = _clinic_fk()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="active")
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    invited_by_id: Mapped[int | None] = _user_ref()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    left_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    clinic: Mapped[Clinic] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class ClinicInvitation(Base):
    """An invitation by e-mail; the link carries a signed token naming ``id`` and the random ``nonce``.

    Single use: ``used_at`` (and ``used_by_id``) are set when accepted. Refused after ``expires_at``, and once
    an admin withdrew it: ``revoked_at`` (UTC) and ``revoked_by_id`` record who and when. A revoked row is
    kept, not deleted, so the clinic's record of whom it invited, by whom, and who withdrew it stays complete.
    """

    __tablename__ = "clinic_invitations"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = _clinic_fk()
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(200), default=None)
    nonce: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int | None] = _user_ref()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    used_by_id: Mapped[int | None] = _user_ref()
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoked_by_id: Mapped[int | None] = _user_ref()

    clinic: Mapped[Clinic] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])


class ClinicMessage(Base):
    """An e-mail the clinic sent: what, to whom, and whether delivery worked.

    ``kind`` is ``invitation``, ``withdrawal`` (of an invitation), ``aftercare`` (with a treatment it
    recorded) or ``correction`` (its staff corrected a treatment; to the patient).

    ``ics`` is the iCalendar attachment of an aftercare message (a copy for the record: the mail job
    regenerates it from the treatment). ``delivery_id`` is the message's row on the mail job; ``sent_at`` was
    set by the direct sending of older versions. :attr:`delivered_at` is when the mail went out, ``None``
    while it has not (the patient sees the message in the app either way).
    """

    __tablename__ = "clinic_messages"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = _clinic_fk()
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, default=None
    )
    treatment_id: Mapped[int | None] = mapped_column(
        ForeignKey("treatments.id", ondelete="CASCADE"), index=True, default=None
    )
    to_email: Mapped[str] = mapped_column(String(320))
    kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_deliveries.id", ondelete="SET NULL"), default=None
    )

    clinic: Mapped[Clinic] = relationship()
    delivery: Mapped[MailDelivery | None] = relationship()

    @property
    def delivered_at(self) -> dt.datetime | None:
        """When the mail was handed to the mail server (UTC), or ``None`` while it has not been."""
        if self.delivery is not None and self.delivery.sent_at is not None:
            return self.delivery.sent_at
        return self.sent_at


FlagKind = Literal["red_flag", "off_course"]


class ClinicFlag(Base):
    """Something about a patient the clinic must look at; open until a staff member marks it handled.

    ``kind`` is ``red_flag`` (a check-in whose verdict is more urgent than routine, ``checkin_id``) or
    ``off_course`` (the treatment's recovery left the expected course). ``event`` names what raised it
    (``checkin:<id>``, ``off_course:<treatment id>``) and is unique per clinic, so one event raises one flag
    and at most one alert mail (``alert_delivery_id``), however often it is looked at again.
    ``handled_at``, ``handled_by_id`` and ``handled_note`` record who closed it, when, and why.
    """

    __tablename__ = "clinic_flags"
    __table_args__ = (UniqueConstraint("clinic_id", "event"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = _clinic_fk()
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"), index=True)
    checkin_id: Mapped[int | None] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), index=True, default=None
    )
    kind: Mapped[str] = mapped_column(String(16))
    event: Mapped[str] = mapped_column(String(64))
    urgency: Mapped[str | None] = mapped_column(String(16), default=None)
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    handled_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    handled_by_id: Mapped[int | None] = _user_ref()
    handled_note: Mapped[str | None] = mapped_column(Text, default=None)
    alert_delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_deliveries.id", ondelete="SET NULL"), default=None
    )
