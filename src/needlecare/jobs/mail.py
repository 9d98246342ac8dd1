"""The mail job: every outgoing mail is a :class:`~needlecare.storage.models.MailDelivery` row first.

:func:`queue_mail` records the mail under a unique ``key`` (queuing the same key twice finds the first row);
:func:`send_delivery` claims the row (one worker at a time, with a lease of ``job_lease_s``), sends it through
:class:`~needlecare.mail.Mailer` and marks it ``sent``. A duplicated message finds ``sent`` (or a live claim)
and sends nothing; a failed send leaves ``retrying`` and raises so the queue retries it with backoff; a
worker killed mid-send leaves a claim that another worker may take over once the lease has expired. A row's
attachment (e.g. the aftercare ``.ics``) is rebuilt at send time from what the row references
(:mod:`needlecare.jobs.attachments`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from email.errors import MessageError

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from needlecare.jobs import attachments
from needlecare.jobs.context import JobContext
from needlecare.jobs.errors import ClaimedElsewhereError, PermanentJobError
from needlecare.mail import MailError, compose
from needlecare.storage.models import MailDelivery, utcnow

logger = logging.getLogger(__name__)

QUEUED, SENDING, SENT, RETRYING, DEAD = "queued", "sending", "sent", "retrying", "dead"


def queue_mail(
    db: Session,
    *,
    key: str,
    to: str,
    subject: str,
    text: str,
    user_id: int | None = None,
    unsubscribe_url: str | None = None,
    attachment: str | None = None,
    treatment_id: int | None = None,
) -> tuple[MailDelivery, bool]:
    """Record a mail to send (the caller commits, then enqueues ``send_mail`` with the row's id).

    Parameters
    ----------
    key
        What the mail is for, unique (at most 200 characters).
    attachment, treatment_id
        An attachment kind from :data:`needlecare.jobs.attachments.KINDS` and the treatment it is built from;
        the file is generated when the mail is sent.

    Returns
    -------
    (MailDelivery, bool)
        The row and whether it is new (``False``: a mail with this *key* was already recorded).
    """
    attachments.check(attachment, treatment_id)
    existing = db.scalars(select(MailDelivery).where(MailDelivery.key == key)).one_or_none()
    if existing is not None:
        return existing, False
    row = MailDelivery(
        key=key,
        user_id=user_id,
        to_address=to,
        subject=subject,
        body=text,
        unsubscribe_url=unsubscribe_url,
        attachment=attachment,
        treatment_id=treatment_id,
    )
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:  # another process recorded the same key in the meantime
        return db.scalars(select(MailDelivery).where(MailDelivery.key == key)).one(), False
    return row, True


def message_id(delivery: MailDelivery, sender_domain: str) -> str:
    """A ``Message-ID`` that depends only on the delivery, so a resend after a crash is recognisable."""
    digest = hashlib.sha256(f"{delivery.id}|{delivery.key}".encode()).hexdigest()[:24]
    return f"<{digest}.{delivery.id}@{sender_domain}>"


def _claim(db: Session, delivery_id: int, now: dt.datetime, lease_s: float) -> bool:
    stale = now - dt.timedelta(seconds=lease_s)
    stmt = (
        update(MailDelivery)
        .where(
            MailDelivery.id == delivery_id,
            or_(
                MailDelivery.status.in_((QUEUED, RETRYING)),
                and_(MailDelivery.status == SENDING, MailDelivery.claimed_at < stale),
            ),
        )
        .values(status=SENDING, claimed_at=now, attempts=MailDelivery.attempts + 1)
    )
    claimed = bool(db.execute(stmt).rowcount)  # type: ignore[attr-defined]
    db.commit()
    return claimed


def send_delivery(ctx: JobContext, delivery_id: int) -> str:
    """Send delivery *delivery_id* once.

    Returns
    -------
    str
        ``"sent"``, ``"already sent"``, ``"gone"`` (the row was deleted with its account) or ``"dead"``.

    Raises
    ------
    MailError
        Delivery failed (status ``retrying``); the queue retries it.
    ClaimedElsewhereError
        Another worker is sending it right now; the queue retries later.
    PermanentJobError
        The mail cannot be composed (an address that cannot be mailed, an attachment whose source is gone):
        it is given up without retries.
    """
    with ctx.sessions() as db:
        if not _claim(db, delivery_id, utcnow(), ctx.settings.jobs.job_lease_s):
            row = db.get(MailDelivery, delivery_id)
            if row is None:
                return "gone"
            if row.status in (SENT, DEAD):
                return "already sent" if row.status == SENT else "dead"
            raise ClaimedElsewhereError(f"mail {delivery_id} is being sent by another worker")
        row = db.get(MailDelivery, delivery_id)
        assert row is not None
        try:
            message = compose(
                sender=ctx.mailer.sender,
                to=row.to_address,
                subject=row.subject,
                text=row.body,
                unsubscribe_url=row.unsubscribe_url,
            )
        except (ValueError, MessageError) as exc:
            raise PermanentJobError(f"mail {delivery_id}: the recipient address cannot be mailed") from exc
        attached = attachments.build(db, row)
        if attached is not None:
            message.add_attachment(
                attached.data,
                maintype=attached.maintype,
                subtype=attached.subtype,
                filename=attached.filename,
            )
        domain = message["Message-ID"].rsplit("@", 1)[-1].rstrip(">")
        message.replace_header("Message-ID", message_id(row, domain))
        try:
            ctx.mailer.send(message)
        except MailError as exc:
            row.status, row.error = RETRYING, str(exc)[:2000]
            db.commit()
            raise
        row.status, row.error, row.sent_at = SENT, None, utcnow()
        db.commit()
    return "sent"


def give_up(ctx: JobContext, delivery_id: int, error: str) -> None:
    """Mark delivery *delivery_id* ``dead`` (retries exhausted) unless it was sent."""
    with ctx.sessions() as db:
        stmt = (
            update(MailDelivery)
            .where(MailDelivery.id == delivery_id, MailDelivery.status != SENT)
            .values(status=DEAD, error=error[:2000], claimed_at=None)
        )
        db.execute(stmt)
        db.commit()
    logger.warning("mail %d: giving up: %s", delivery_id, error)
