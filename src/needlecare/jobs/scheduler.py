"""The periodic trigger: every minute, record due reminders and enqueue them; re-enqueue stalled jobs.

Stalled jobs are mails never claimed within the lease and photos still ``pending`` whose analysis message
was never sent or may have been lost (see :func:`_stalled`); their jobs are idempotent, so a duplicate is
harmless.

``needlecare worker --scheduler`` runs :func:`run_scheduler` next to the worker; with in-process jobs,
``needlecare serve`` runs it in a background thread. Running several schedulers at once is safe: reminders are
unique per treatment day and every job claims its row before acting.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from needlecare.jobs import mail, photos
from needlecare.jobs.queue import ANALYSE_PHOTO, SEND_MAIL, JobName, JobQueue
from needlecare.jobs.reminders import due_reminders
from needlecare.storage.models import MailDelivery, Photo

logger = logging.getLogger(__name__)

#: Seconds between two scheduler ticks.
TICK_S = 60.0


def _stalled(queue: JobQueue, now: dt.datetime) -> list[tuple[JobName, int]]:
    """Jobs whose message may never have been sent or may have been lost.

    Mails waiting longer than the lease: with a broker only mails never claimed are taken (retries are the
    broker's); in-process, failed mails (``retrying``) are retried here too, and mails past their retries are
    given up. Photos still ``pending`` whose analysis was never enqueued (``analysis_enqueued_at`` missing,
    e.g. the broker was unreachable at upload) or last enqueued more than ``photo_requeue_s`` before *now*;
    with Redis also those pending for over a minute whose message Redis no longer holds (lost).
    """
    ctx = queue.ctx
    stale = now - dt.timedelta(seconds=ctx.settings.jobs.job_lease_s)
    statuses = (mail.QUEUED,) if not queue.in_process else (mail.QUEUED, mail.RETRYING)
    out: list[tuple[JobName, int]] = []
    with ctx.sessions() as db:
        rows = db.execute(
            select(MailDelivery.id, MailDelivery.attempts).where(
                MailDelivery.status.in_(statuses),
                func.coalesce(MailDelivery.claimed_at, MailDelivery.created_at) < stale,
            )
        )
        for row_id, attempts in rows:
            if attempts > ctx.settings.jobs.job_max_retries:
                mail.give_up(ctx, row_id, "retries exhausted")
            else:
                out.append((SEND_MAIL, row_id))
        requeue = now - dt.timedelta(seconds=ctx.settings.jobs.photo_requeue_s)
        pending = db.scalars(
            select(Photo.id)
            .where(
                Photo.analysis_status == photos.PENDING,
                or_(Photo.analysis_enqueued_at.is_(None), Photo.analysis_enqueued_at < requeue),
            )
            .order_by(Photo.id)
        )
        out += [(ANALYSE_PHOTO, photo_id) for photo_id in pending]
        out += [(ANALYSE_PHOTO, photo_id) for photo_id in _lost(queue, db, now, requeue)]
    return out


def _lost(queue: JobQueue, db: Session, now: dt.datetime, requeue: dt.datetime) -> list[int]:
    """Redis broker: photos pending for over ``LOST_AFTER_S`` (but not yet ``photo_requeue_s``) whose
    analysis message Redis no longer holds."""
    from needlecare.jobs.recovery import LOST_AFTER_S, queued_photo_ids

    if queue.in_process:
        return []
    stale = now - dt.timedelta(seconds=LOST_AFTER_S)
    candidates = list(
        db.scalars(
            select(Photo.id)
            .where(
                Photo.analysis_status == photos.PENDING,
                Photo.analysis_enqueued_at < stale,
                Photo.analysis_enqueued_at >= requeue,
            )
            .order_by(Photo.id)
        )
    )
    if not candidates:
        return []
    present = queued_photo_ids(queue)
    return [photo_id for photo_id in candidates if photo_id not in present]


def tick(queue: JobQueue, now: dt.datetime | None = None) -> int:
    """One scheduler pass at *now* (default: the current time); returns how many jobs it enqueued."""
    now = now or dt.datetime.now(dt.UTC)
    ctx = queue.ctx
    with ctx.sessions() as db:
        due = due_reminders(db, now, hour=ctx.settings.jobs.reminder_hour, base_url=ctx.settings.base_url)
        db.commit()
        jobs: list[tuple[JobName, int]] = [(SEND_MAIL, row.id) for row in due]
    jobs += _stalled(queue, now)
    for name, row_id in jobs:
        queue.enqueue(name, row_id, now)
    if jobs:
        logger.info("scheduler: enqueued %d job(s)", len(jobs))
    return len(jobs)


def run_scheduler(
    queue: JobQueue, stop: threading.Event, interval_s: float = TICK_S, started_at: dt.datetime | None = None
) -> None:
    """Call :func:`tick` every *interval_s* seconds until *stop* is set; errors are logged, never fatal.

    With in-process jobs and *started_at* (when this process started), the photos a dead process left
    ``pending`` are analysed again first (:func:`~needlecare.jobs.recovery.recover_in_process`).
    """
    from needlecare.jobs.recovery import recover_in_process

    if started_at is not None:
        try:
            recover_in_process(queue, started_at)
        except Exception:
            logger.exception("recovery at start-up failed; the scheduler's sweep retries")
    while not stop.is_set():
        try:
            tick(queue)
        except Exception:
            logger.exception("scheduler tick failed")
        stop.wait(interval_s)


def start_in_thread(queue: JobQueue, interval_s: float = TICK_S) -> threading.Event:
    """Run :func:`run_scheduler` in a daemon thread (recovering first what a dead process left pending); set
    the returned event to stop it."""
    stop = threading.Event()
    started_at = dt.datetime.now(dt.UTC)
    thread = threading.Thread(
        target=run_scheduler,
        args=(queue, stop, interval_s, started_at),
        name="needlecare-scheduler",
        daemon=True,
    )
    thread.start()
    return stop
