"""The newsletter subscription table (double opt-in, consent record, one-click unsubscribe).

One row per e-mail address, kept after unsubscribing as the record of consent given and withdrawn.
``status`` moves ``pending`` -> ``confirmed`` (by the confirmation link) -> ``unsubscribed``; subscribing
again after that starts a new ``pending`` period that needs a new confirmation. ``confirm_nonce`` is bound
into the signed confirmation link and replaced on every new request and on unsubscribing, so an older link
stops working; ``unsubscribe_key`` is bound into the unsubscribe link and never changes, so the link in any
mail keeps working. The table is independent of ``users``: subscribing needs no account.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from needlecare.storage.models import NEVER_REUSE_IDS, Base, utcnow

SubscriptionStatus = Literal["pending", "confirmed", "unsubscribed"]

#: Every value ``NewsletterSubscription.status`` takes.
STATUSES: tuple[str, ...] = get_args(SubscriptionStatus)


class NewsletterSubscription(Base):
    """A newsletter subscription and its consent trail.

    Attributes
    ----------
    email
        Normalised (trimmed, lower-case) address, unique.
    status
        One of :data:`STATUSES`.
    consent_version
        Version of the consent wording the person agreed to when they last asked to subscribe.
    requested_at
        When the last confirmation e-mail was requested (UTC).
    consented_at
        When the address was confirmed, i.e. when consent was given (UTC); ``None`` until then.
    unsubscribed_at
        When the person last unsubscribed (UTC), or ``None``.
    """

    __tablename__ = "newsletter_subscriptions"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    confirm_nonce: Mapped[str] = mapped_column(String(64))
    unsubscribe_key: Mapped[str] = mapped_column(String(64))
    consent_version: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    consented_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
