"""Newsletter logic: request, confirm (double opt-in), unsubscribe, and the mails that go with them.

Nothing here tells a caller whether an address was already known: :func:`request_subscription` returns the row
to mail or ``None`` (already confirmed, or a confirmation was sent moments ago), and the page answers the same
either way. Times are timezone-aware UTC.

Every newsletter mail (confirmations and issues) is recorded on the mail job
(:func:`needlecare.jobs.mail.queue_mail`) and sent by it: retried with backoff, never lost, never sent twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from needlecare.jobs.mail import queue_mail
from needlecare.jobs.queue import SEND_MAIL, JobQueue
from needlecare.settings import Settings
from needlecare.storage.models import MailDelivery
from needlecare.storage.newsletter import STATUSES, NewsletterSubscription
from needlecare.storage.types import as_utc
from needlecare.web.newsletter.tokens import Claim, NewsletterTokens
from needlecare.web.ratelimit import RateLimits, Rule

#: Version of :data:`CONSENT_TEXT`; bump it whenever the wording changes (it is stored with each consent).
CONSENT_VERSION = "2026-11-23"

#: The wording next to the (never pre-ticked) consent checkbox.
CONSENT_TEXT = (
    "Yes, e-mail me the needlecare newsletter with beauty resources, tips and news. I can unsubscribe at any "
    "time with one click, and my address is used for nothing else."
)

ConfirmOutcome = Literal["confirmed", "already_confirmed", "invalid"]

logger = logging.getLogger(__name__)


class NewsletterSettings(BaseSettings):
    """Newsletter configuration (environment variables ``NEEDLECARE_NEWSLETTER_<FIELD>``).

    Attributes
    ----------
    public_url
        Base URL put into mailed links, e.g. ``https://needlecare.example.org``; without it the links use the
        address the subscribe request came to (fine for development; set it in production).
    confirm_max_age_s
        Lifetime of a confirmation link in seconds (default 48 h).
    resend_after_s
        A pending address gets at most one confirmation e-mail per this many seconds (default 10 min).
    max_requests_per_ip, request_window_s
        At most this many subscribe requests per client address in the sliding window (default 10 per hour):
        the form cannot be used to flood many inboxes with confirmation e-mails.
    """

    model_config = SettingsConfigDict(env_prefix="NEEDLECARE_NEWSLETTER_", extra="ignore")

    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    confirm_max_age_s: int = Field(default=48 * 3600, gt=0)
    resend_after_s: int = Field(default=600, ge=0)
    max_requests_per_ip: int = Field(default=10, ge=1)
    request_window_s: int = Field(default=3600, gt=0)


@dataclass(frozen=True)
class Outgoing:
    """A newsletter mail before it is queued: subject, plain-text body and the one-click unsubscribe URL."""

    subject: str
    text: str
    unsubscribe_url: str


def _digest(*parts: str) -> str:
    """A short stable digest of *parts* for delivery keys (keys never hold secrets or whole texts)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


@dataclass
class Newsletter:
    """What the newsletter pages need: settings, token signer and the per-client request limit."""

    settings: NewsletterSettings
    tokens: NewsletterTokens
    limits: RateLimits

    @classmethod
    def build(cls, app_settings: Settings, limits: RateLimits | None = None) -> Newsletter:
        """From the environment, signing with the app's secret; the ``newsletter`` rule is added to *limits*
        (the app's, shared between processes; a process-local set when omitted)."""
        settings = NewsletterSettings()
        if settings.public_url is None and app_settings.environment == "production":
            logger.warning(
                "NEEDLECARE_NEWSLETTER_PUBLIC_URL is not set: mailed links use the Host header of the request"
            )
        limits = limits or RateLimits("memory://")
        limits.add(Rule("newsletter", settings.max_requests_per_ip, settings.request_window_s))
        return cls(
            settings=settings,
            tokens=NewsletterTokens(app_settings.resolve_secret(), settings.confirm_max_age_s),
            limits=limits,
        )

    def base_url(self, request_base_url: str) -> str:
        """Base for mailed links: the newsletter's own ``public_url``, else the site's; no trailing slash."""
        return (self.settings.public_url or request_base_url).rstrip("/")

    def confirm_url(self, base: str, sub: NewsletterSubscription) -> str:
        """The confirmation page for *sub*."""
        return f"{base}/newsletter/confirm/{self.tokens.confirm_token(sub)}"

    def unsubscribe_url(self, base: str, sub: NewsletterSubscription) -> str:
        """The unsubscribe page (GET) and one-click endpoint (POST) for *sub*."""
        return f"{base}/newsletter/unsubscribe/{self.tokens.unsubscribe_token(sub)}"

    def confirmation_mail(self, base: str, sub: NewsletterSubscription) -> Outgoing:
        """The double opt-in e-mail with the confirmation link (and, like every mail, an unsubscribe link)."""
        hours = self.settings.confirm_max_age_s // 3600
        lifetime = f"{hours} hours" if hours >= 2 else f"{self.settings.confirm_max_age_s // 60} minutes"
        unsubscribe = self.unsubscribe_url(base, sub)
        text = (
            "Hello,\n\n"
            "someone - hopefully you - asked to receive the needlecare newsletter (beauty resources, tips "
            "and news) at this address.\n\n"
            f"To confirm, open this link and press the Confirm button (it works for {lifetime}):\n"
            f"{self.confirm_url(base, sub)}\n\n"
            "If you did not ask for this, ignore this e-mail: you will not be subscribed and we will not "
            "write again.\n\n"
            f"Do not want these e-mails at all? {unsubscribe}\n"
        )
        return Outgoing("Please confirm your needlecare newsletter subscription", text, unsubscribe)

    def issue_mail(self, base: str, sub: NewsletterSubscription, subject: str, text: str) -> Outgoing:
        """One newsletter issue for *sub*, with the one-click headers and an unsubscribe link at the end."""
        unsubscribe = self.unsubscribe_url(base, sub)
        footer = (
            "\n\n--\nYou receive this because you subscribed to the needlecare newsletter.\n"
            f"Unsubscribe with one click: {unsubscribe}\n"
        )
        return Outgoing(subject, text + footer, unsubscribe)

    def queue_confirmation(self, db: Session, base: str, sub: NewsletterSubscription) -> int:
        """Record the confirmation mail for *sub*'s current request on the mail job; returns the delivery id.

        Keyed ``newsletter-confirm:<id>:<digest of the nonce>``: one mail per confirmation request (a new
        request gets a new nonce). The caller commits, then enqueues ``send_mail``.
        """
        mail = self.confirmation_mail(base, sub)
        row, _ = queue_mail(
            db,
            key=f"newsletter-confirm:{sub.id}:{_digest(sub.confirm_nonce)}",
            to=sub.email,
            subject=mail.subject,
            text=mail.text,
            unsubscribe_url=mail.unsubscribe_url,
        )
        db.flush()
        return row.id


def _secret() -> str:
    return secrets.token_urlsafe(24)


def request_subscription(
    db: Session, email: str, *, now: dt.datetime, resend_after_s: int
) -> NewsletterSubscription | None:
    """Record a request to subscribe *email* (normalised); the row to send a confirmation to, or ``None``.

    A new address gets a ``pending`` row. An unsubscribed address becomes ``pending`` again with a fresh nonce
    (a new confirmation is needed). A pending address gets a fresh nonce (older links stop working), unless a
    confirmation went out less than *resend_after_s* seconds ago. A confirmed address gets nothing.
    The caller commits.
    """
    sub = db.scalar(select(NewsletterSubscription).where(NewsletterSubscription.email == email))
    if sub is None:
        sub = NewsletterSubscription(
            email=email,
            status="pending",
            confirm_nonce=_secret(),
            unsubscribe_key=_secret(),
            consent_version=CONSENT_VERSION,
            requested_at=now,
            created_at=now,
        )
        db.add(sub)
        try:
            db.flush()
        except IntegrityError:  # a concurrent request inserted it first: treat it as known
            db.rollback()
            return None
        return sub
    if sub.status == "confirmed":
        return None
    recent = now - as_utc(sub.requested_at) < dt.timedelta(seconds=resend_after_s)
    if sub.status == "pending" and recent:
        return None
    sub.status = "pending"
    sub.confirm_nonce = _secret()
    sub.consent_version = CONSENT_VERSION
    sub.requested_at = now
    return sub


def confirm(db: Session, claim: Claim, *, now: dt.datetime) -> ConfirmOutcome:
    """Confirm the subscription a valid confirmation token names; record the consent time. The caller commits.

    ``invalid`` when the row is gone or the token's nonce is no longer current (a newer link was sent, or the
    person unsubscribed since); ``already_confirmed`` when the same link is used twice.
    """
    sub = db.get(NewsletterSubscription, claim.sid)
    if sub is None or not secrets.compare_digest(sub.confirm_nonce, claim.value):
        return "invalid"
    if sub.status == "confirmed":
        return "already_confirmed"
    sub.status = "confirmed"
    sub.consented_at = now
    sub.unsubscribed_at = None
    return "confirmed"


def unsubscribe(db: Session, claim: Claim, *, now: dt.datetime) -> bool:
    """Unsubscribe the row a valid unsubscribe token names (idempotent); ``False`` if no such row.

    The confirmation nonce is replaced, so a confirmation link from before cannot subscribe the address again.
    The caller commits.
    """
    sub = db.get(NewsletterSubscription, claim.sid)
    if sub is None or not secrets.compare_digest(sub.unsubscribe_key, claim.value):
        return False
    if sub.status != "unsubscribed":
        sub.status = "unsubscribed"
        sub.unsubscribed_at = now
        sub.confirm_nonce = _secret()
    return True


def confirmed_subscribers(db: Session) -> list[NewsletterSubscription]:
    """Every confirmed subscription, oldest first."""
    query = select(NewsletterSubscription).where(NewsletterSubscription.status == "confirmed")
    return list(db.scalars(query.order_by(NewsletterSubscription.id)))


def subscriber_counts(db: Session) -> dict[str, int]:
    """How many subscriptions are in each status: every value of :data:`STATUSES`, zero when none."""
    rows = db.execute(
        select(NewsletterSubscription.status, func.count()).group_by(NewsletterSubscription.status)
    )
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in rows:
        counts[status] = int(count)
    return counts


def issue_prefix(subject: str, text: str) -> str:
    """Start of every delivery key of one issue: ``newsletter-issue:<digest of subject and text>:``."""
    return f"newsletter-issue:{_digest(subject, text)}:"


def issue_deliveries(db: Session, subject: str, text: str) -> dict[int, tuple[int, str]]:
    """Mails of this issue already recorded: subscription id -> (delivery id, status such as ``sent``)."""
    prefix = issue_prefix(subject, text)
    rows = db.execute(
        select(MailDelivery.key, MailDelivery.id, MailDelivery.status).where(
            MailDelivery.key.startswith(prefix, autoescape=True)
        )
    )
    return {int(key[len(prefix) :]): (row_id, status) for key, row_id, status in rows}


def queue_issue_mail(
    db: Session, newsletter: Newsletter, base: str, sub: NewsletterSubscription, subject: str, text: str
) -> tuple[MailDelivery, bool]:
    """Record one issue mail for *sub* on the mail job; the row and whether it is new. The caller commits.

    Keyed ``<issue_prefix><subscription id>``: the same issue is recorded once per subscription, however
    often it is queued (an address that unsubscribed and subscribed again keeps its row, hence its key).
    """
    mail = newsletter.issue_mail(base, sub, subject, text)
    return queue_mail(
        db,
        key=f"{issue_prefix(subject, text)}{sub.id}",
        to=sub.email,
        subject=mail.subject,
        text=mail.text,
        unsubscribe_url=mail.unsubscribe_url,
    )


def send_issue(
    db: Session, jobs: JobQueue, newsletter: Newsletter, base: str, subject: str, text: str
) -> int:
    """Mail one newsletter issue to every confirmed subscriber through the mail job; how many went out.

    Each mail has its own unsubscribe link and one-click headers and is keyed
    ``newsletter-issue:<digest of subject and text>:<subscription id>``, so sending the same issue again mails
    nobody twice. Returns the number of mails whose job was enqueued (in-process: delivered); a failed
    delivery stays on the mail job, which retries it. Commits.
    """
    queued = []
    for sub in confirmed_subscribers(db):
        row, new = queue_issue_mail(db, newsletter, base, sub, subject, text)
        if new:
            queued.append(row)
    db.commit()
    return sum(jobs.enqueue(SEND_MAIL, row.id) for row in queued)
