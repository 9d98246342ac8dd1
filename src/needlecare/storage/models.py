"""Typed SQLAlchemy 2 tables: users, treatments, photos, check-ins, the consent/audit trail and outgoing mail.

Every row that holds health data carries ``user_id`` so each query can be scoped to its owner; deleting a user
cascades to all of them (database ``ON DELETE CASCADE`` and ORM cascades).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, MetaData, String, Text, false, true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates

from needlecare.storage.photo_analysis import PhotoAnalysis, parse_analysis
from needlecare.storage.types import AnalysisJSON, UtcDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: Table options of every table: on SQLite a row id is never handed out again after its row was deleted
#: (``AUTOINCREMENT``), so an old link or a stale session never reaches a newer record; PostgreSQL's
#: sequences never reuse values anyway.
NEVER_REUSE_IDS: dict[str, Any] = {"sqlite_autoincrement": True}


def utcnow() -> dt.datetime:
    """Current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base with a stable constraint naming convention (for Alembic)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[str]: JSON,
        dt.datetime: UtcDateTime(),  # aware UTC when read, on SQLite too
    }


def _owner_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)


class User(Base):
    """An account. ``session_version`` is bumped to revoke every session (logout, password change).

    ``timezone`` (IANA name) is where the patient's morning is for reminders; ``None`` means each treatment's
    own zone. ``calendar_token`` is the unguessable secret in the URL of the patient's calendar feed.
    ``display_name`` is the name the patient entered for their reports (PDF, FHIR), if any.
    ``email_verified_at`` is when the owner confirmed the address (``None``: not yet).
    """

    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    timezone: Mapped[str | None] = mapped_column(String(64), default=None)
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    display_name: Mapped[str | None] = mapped_column(String(120), default=None)
    email_verified_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    treatments: Mapped[list[Treatment]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    audit_events: Mapped[list[AuditEvent]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class EndedSession(Base):
    """A session logged out on its own (``sid`` from the session cookie): its cookie no longer logs in."""

    __tablename__ = "ended_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = _owner_fk()
    ended_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Treatment(Base):
    """One microneedling session as the patient recorded it (depth in mm, Fitzpatrick skin type 1-6)."""

    __tablename__ = "treatments"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = _owner_fk()
    treated_on: Mapped[dt.date]
    device: Mapped[str] = mapped_column(String(16))
    depth_mm: Mapped[float]
    passes: Mapped[int]
    area: Mapped[str] = mapped_column(String(16))
    skin_type: Mapped[int]
    sensitive: Mapped[bool] = mapped_column(default=False)
    rosacea: Mapped[bool] = mapped_column(default=False)
    bleeding: Mapped[bool] = mapped_column(default=False)
    prp: Mapped[bool] = mapped_column(default=False)
    serum: Mapped[bool] = mapped_column(default=False)
    cold_sore: Mapped[bool] = mapped_column(default=False, server_default=false())
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="treatments")
    photos: Mapped[list[Photo]] = relationship(
        back_populates="treatment", cascade="all, delete-orphan", passive_deletes=True, order_by="Photo.id"
    )
    checkins: Mapped[list[CheckIn]] = relationship(
        back_populates="treatment", cascade="all, delete-orphan", passive_deletes=True, order_by="CheckIn.id"
    )


class Photo(Base):
    """A stored photo: EXIF-free JPEG at ``file_path`` (relative to the photo directory) and its analysis.

    ``heatmap_path`` is the redness heatmap picture (JPEG) rendered by the analysis job, if it produced one.
    ``analysis_status`` is ``pending`` until the job has stored ``analysis``, then ``done`` (or ``failed``
    with ``analysis_error`` once its retries are exhausted). ``analysis_enqueued_at`` is when the analysis job
    was last handed to the queue (``None``: never, e.g. the broker was unreachable at upload); the scheduler
    enqueues a photo still ``pending`` again once that is missing or older than ``photo_requeue_s``.

    ``analysis`` is the stored analysis as a :class:`~needlecare.storage.photo_analysis.PhotoAnalysis`
    (``None`` until measured): parsed when the row is loaded, and when a dict is assigned to it.

    ``consent`` is the patient's explicit choice for this photo (see ``CONSENT_CHOICES`` in the web layer);
    ``day`` is whole days since the treatment (negative or zero for a baseline).
    """

    __tablename__ = "photos"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = _owner_fk()
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"), index=True)
    taken_on: Mapped[dt.date]
    day: Mapped[int]
    is_baseline: Mapped[bool] = mapped_column(default=False)
    consent: Mapped[str] = mapped_column(String(32))
    file_path: Mapped[str] = mapped_column(String(500), unique=True)
    heatmap_path: Mapped[str | None] = mapped_column(String(500), default=None)
    width: Mapped[int]
    height: Mapped[int]
    analysis: Mapped[PhotoAnalysis | None] = mapped_column(AnalysisJSON(), default=None)
    analysis_status: Mapped[str] = mapped_column(String(16), default="done", server_default="done")
    analysis_error: Mapped[str | None] = mapped_column(Text, default=None)
    analysis_enqueued_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    #: Chroma DC quantisation step of the upload, 8-bit levels (JPEG uploads; the stored copy is re-encoded).
    upload_chroma_step: Mapped[float | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    treatment: Mapped[Treatment] = relationship(back_populates="photos")

    @validates("analysis")
    def _parse_analysis(self, key: str, value: PhotoAnalysis | dict[str, Any] | None) -> PhotoAnalysis | None:
        """An assigned analysis parsed (a dict too), so the attribute is typed before the row is stored."""
        return None if value is None else parse_analysis(value)


class CheckIn(Base):
    """A daily check-in: 0-4 self-rating, ticked symptom ids and the triage verdict they produced."""

    __tablename__ = "checkins"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = _owner_fk()
    treatment_id: Mapped[int] = mapped_column(ForeignKey("treatments.id", ondelete="CASCADE"), index=True)
    checked_on: Mapped[dt.date]
    day: Mapped[int]
    self_rating: Mapped[int]
    symptoms: Mapped[list[str]] = mapped_column(default=list)
    triage: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    treatment: Mapped[Treatment] = relationship(back_populates="checkins")


class AuditEvent(Base):
    """Consent and account audit trail (consent given per photo, password changed, ...).

    Deleted with the account: the patient's right to erasure covers it.
    """

    __tablename__ = "audit_events"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = _owner_fk()
    action: Mapped[str] = mapped_column(String(40))
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("photos.id", ondelete="SET NULL"), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MailDelivery(Base):
    """One outgoing mail, recorded before it is sent so that a retried or duplicated job sends it only once.

    ``key`` names what the mail is for (``reminder:<treatment id>:<day>``) and is unique: a second attempt to
    queue the same mail finds the first. ``attachment`` names a file the mail job regenerates and attaches
    when it sends the mail (``aftercare.ics``: the aftercare plan of treatment ``treatment_id``), so a row
    never holds file bytes; deleting the treatment deletes its unsent mail. ``status`` goes ``queued`` ->
    ``sending`` (claimed at ``claimed_at`` by one worker) -> ``sent``; a failed attempt leaves ``retrying``
    with ``error``; ``dead`` once the retries are exhausted. ``attempts`` counts the claims.
    """

    __tablename__ = "mail_deliveries"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(1000), default=None)
    attachment: Mapped[str | None] = mapped_column(String(32), default=None)
    treatment_id: Mapped[int | None] = mapped_column(
        ForeignKey("treatments.id", ondelete="CASCADE"), index=True, default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)
