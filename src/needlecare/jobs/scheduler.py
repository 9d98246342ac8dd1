"""The periodic trigger: every minute, record due reminders and enqueue them; re-enqueue stalled jobs.

``needlecare worker --scheduler`` runs :func:`run_scheduler` next to the worker; with in-process jobs,
``needlecare serve`` runs it in a background thread. Running several schedulers at once is safe: reminders are
unique per treatment day and every job claims its row before acting.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from sqlalchemy import func, select

from needlecare.jobs import mail, photos
from needlecare.jobs.queue import JobQueue
from needlecare.jobs.reminders import due_reminders
from needlecare.storage.models import MailDelivery, Photo

logger = logging.getLogger(__name__)

#: Seconds between two scheduler ticks.
TICK_S = 60.0


def _stalled(queue: JobQueue, now: dt.datetime) -> list[tuple[str, int]]:
    """Jobs whose row has waited longer than the lease: their message may have been lost.

    With a broker only mails never claimed are taken (retries are the broker's); in-process, failed mails
    (``retrying``) and pending photos are retried here too, and mails past their retries are given up.
    """
    ctx = queue.ctx
    stale = now - dt.timedelta(seconds=ctx.settings.job_lease_s)
    statuses = (mail.QUEUED,) if not queue.in_process else (mail.QUEUED, mail.RETRYING)
    out: list[tuple[str, int]] = []
    with ctx.sessions() as db:
        rows = db.execute(
            select(MailDelivery.id, MailDelivery.attempts).where(
                MailDelivery.status.in_(statuses),
                func.coalesce(MailDelivery.claimed_at, MailDelivery.created_at) < stale,
            )
        )
        for row_id, attempts in rows:
            if attempts > ctx.settings.job_max_retries:
                mail.give_up(ctx, row_id, "retries exhausted")
            else:
                out.append(("send_mail", row_id))
        if queue.in_process:
            pending = db.scalars(
                select(Photo.id).where(Photo.analysis_status == photos.PENDING, Photo.created_at < stale)
            )
            out += [("analyse_photo", photo_id) for photo_id in pending]
    return out


def tick(queue: JobQueue, now: dt.datetime | None = None) -> int:
    """One scheduler pass at *now* (default: the current time); returns how many jobs it enqueued."""
    now = now or dt.datetime.now(dt.UTC)
    ctx = queue.ctx
    with ctx.sessions() as db:
        due = due_reminders(db, now, hour=ctx.settings.reminder_hour, base_url=ctx.settings.base_url)
        db.commit()
        jobs = [("send_mail", row.id) for row in due]
    jobs += _stalled(queue, now)
    for name, row_id in jobs:
        queue.enqueue(name, row_id)
    if jobs:
        logger.info("scheduler: enqueued %d job(s)", len(jobs))
    return len(jobs)


def run_scheduler(queue: JobQueue, stop: threading.Event, interval_s: float = TICK_S) -> None:
    """Call :func:`tick` every *interval_s* seconds until *stop* is set; errors are logged, never fatal."""
    while not stop.is_set():
        try:
            tick(queue)
        except Exception:
            logger.exception("scheduler tick failed")
        stop.wait(interval_s)


def start_in_thread(queue: JobQueue, interval_s: float = TICK_S) -> threading.Event:
    """Run :func:`run_scheduler` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler, args=(queue, stop, interval_s), name="needlecare-scheduler", daemon=True
    )
    thread.start()
    return stop
