"""Newsletter logic: request, confirm (double opt-in), unsubscribe, and the mails that go with them.

Nothing here tells a caller whether an address was already known: :func:`request_subscription` returns the row
to mail or ``None`` (already confirmed, or a confirmation was sent moments ago), and the page answers the same
either way. Times are timezone-aware UTC.

Every newsletter mail (confirmations and issues) is recorded on the mail job
(:func:`needlecare.jobs.mail.queue_mail`) and sent by it: retried with backoff, never lost, never sent twice.
An issue is sent in two steps, :func:`plan_issue` (who still needs it) and :func:`deliver_issue` (record and
enqueue the mails batch by batch), so a caller can show the plan and ask before anything is queued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from needlecare.jobs.mail import QUEUED, RETRYING, queue_mail
from needlecare.jobs.queue import SEND_MAIL, JobQueue
from needlecare.newsletter.tokens import Claim, NewsletterTokens
from needlecare.settings import NewsletterSettings, Settings
from needlecare.storage.models import MailDelivery
from needlecare.storage.newsletter import STATUSES, NewsletterSubscription
from needlecare.storage.types import as_utc

#: Version of :data:`CONSENT_TEXT`; bump it whenever the wording changes (it is stored with each consent).
CONSENT_VERSION = "2026-11-23"

#: The wording next to the (never pre-ticked) consent checkbox.
CONSENT_TEXT = (
    "Yes, e-mail me the needlecare newsletter with beauty resources, tips and news. I can unsubscribe at any "
    "time with one click, and my address is used for nothing else."
)

ConfirmOutcome = Literal["confirmed", "already_confirmed", "invalid"]

logger = logging.getLogger(__name__)


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
    """What the newsletter's mails need: its settings, the token signer and the site's public base URL.

    Attributes
    ----------
    settings
        The ``newsletter`` section of the app's settings.
    tokens
        Signer of the confirmation and unsubscribe links.
    base_url
        Base of every mailed link (``NEEDLECARE_PUBLIC_URL``), without a trailing slash.
    """

    settings: NewsletterSettings
    tokens: NewsletterTokens
    base_url: str

    @classmethod
    def build(cls, app_settings: Settings) -> Newsletter:
        """From the app's settings, signing with the app's secret; warns in production when the links have no
        configured public URL to point to."""
        settings = app_settings.newsletter
        if app_settings.public_url is None and app_settings.environment == "production":
            logger.warning(
                "NEEDLECARE_PUBLIC_URL is not set: mailed links point to %s", app_settings.base_url
            )
        return cls(
            settings=settings,
            tokens=NewsletterTokens(app_settings.resolve_secret(), settings.confirm_max_age_s),
            base_url=app_settings.base_url,
        )

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


def check_subject(subject: str) -> str:
    """*subject* trimmed; :class:`ValueError` when empty, not one line or too long for the mail table."""
    column = MailDelivery.__table__.c.subject.type
    assert isinstance(column, String)
    assert column.length is not None
    subject = subject.strip()
    if not subject:
        raise ValueError("the subject is empty")
    if any(c in subject for c in "\r\n\x00"):
        raise ValueError("the subject must be one line")
    if len(subject) > column.length:
        raise ValueError(f"the subject is longer than {column.length} characters")
    return subject


@dataclass
class IssuePlan:
    """Who gets an issue: the confirmed subscribers, those still without it, and mails left unsent before.

    Attributes
    ----------
    confirmed
        Every confirmed subscription, oldest first.
    missing
        The confirmed subscriptions with no mail of this issue recorded yet.
    unsent
        Delivery ids of this issue's mails to hand to the mail job again (never sent, and in-process also
        those that failed, as the scheduler would).
    """

    confirmed: list[NewsletterSubscription]
    missing: list[NewsletterSubscription]
    unsent: list[int]

    @property
    def already(self) -> int:
        """Confirmed subscribers whose mail of this issue was recorded by an earlier run."""
        return len(self.confirmed) - len(self.missing)


def plan_issue(queue: JobQueue, subject: str, text: str) -> IssuePlan:
    """Read the confirmed subscribers and this issue's recorded mails (see :class:`IssuePlan`)."""
    again = (QUEUED, RETRYING) if queue.in_process else (QUEUED,)
    with queue.ctx.sessions() as db:
        confirmed = confirmed_subscribers(db)
        recorded = issue_deliveries(db, subject, text)
    missing = [sub for sub in confirmed if sub.id not in recorded]
    unsent = []
    for sub in confirmed:
        row_id, status = recorded.get(sub.id, (0, ""))
        if status in again:
            unsent.append(row_id)
    return IssuePlan(confirmed, missing, unsent)


def _hand_over(queue: JobQueue, row_ids: list[int], advance: Callable[[int], None]) -> list[bool]:
    """Enqueue ``send_mail`` for each of *row_ids*, advancing after each; whether each succeeded."""
    results = []
    for row_id in row_ids:
        results.append(queue.enqueue(SEND_MAIL, row_id))
        advance(1)
    return results


def deliver_issue(
    queue: JobQueue,
    nl: Newsletter,
    plan: IssuePlan,
    subject: str,
    text: str,
    *,
    batch: int,
    advance: Callable[[int], None],
) -> tuple[int, int, int]:
    """Record the missing mails and enqueue them *batch* by *batch*, then enqueue the unsent ones.

    Each batch is committed before its jobs are enqueued (a crash in between leaves them ``queued`` for the
    next run). *advance* is called with the number of mails of the plan dealt with, as they are.
    Returns (mails newly recorded, jobs enqueued or, in-process, delivered, jobs that failed).
    """
    recorded = 0
    results: list[bool] = []
    for start in range(0, len(plan.missing), batch):
        subs = plan.missing[start : start + batch]
        rows: list[int] = []
        with queue.ctx.sessions() as db:
            for sub in subs:
                row, new = queue_issue_mail(db, nl, nl.base_url, sub, subject, text)
                if new:  # not new: a concurrent run recorded it and enqueues it
                    rows.append(row.id)
            db.commit()
        recorded += len(rows)
        advance(len(subs) - len(rows))
        results += _hand_over(queue, rows, advance)
    results += _hand_over(queue, plan.unsent, advance)
    return recorded, results.count(True), results.count(False)


def subscriber_addresses(db: Session) -> list[tuple[str, str]]:
    """Every subscription as (status, address), by status (in :data:`STATUSES` order), then address."""
    rows = db.execute(select(NewsletterSubscription.status, NewsletterSubscription.email)).all()
    order = {status: i for i, status in enumerate(STATUSES)}
    return sorted(
        ((status, email) for status, email in rows), key=lambda r: (order.get(r[0], len(order)), r[1])
    )
