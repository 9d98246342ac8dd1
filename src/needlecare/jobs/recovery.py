"""Recovery after a crash, in seconds: dead workers' messages back on the queue, dead processes' photos again.

Two kinds of work can be left behind by a process that died (``kill -9``, power loss):

- A Redis worker's fetched but unacknowledged messages. Dramatiq's Redis broker moves them back to the
  queue during its "maintenance", which it runs only by chance (``maintenance_chance`` per million broker
  commands) once the worker's heartbeat is older than ``heartbeat_timeout``. Every ``needlecare worker`` runs
  that maintenance itself every quarter of the heartbeat timeout (:func:`start_broker_maintenance`), which
  also keeps its own heartbeat fresh while all its threads are busy; a dead worker's messages are back on
  the queue within about 1.25 heartbeat timeouts (default 15 s).
- Photos an in-process ``needlecare serve`` was analysing and mails it was sending. The jobs run inside the
  process, so a ``pending`` photo or an unsent mail from before this process started has no one working on
  it; :func:`recover_in_process` runs them again when the scheduler thread starts.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from sqlalchemy import or_, select, update

from needlecare.jobs import mail, photos
from needlecare.jobs.queue import ANALYSE_PHOTO, SEND_MAIL, JobQueue
from needlecare.storage.models import MailDelivery, Photo

logger = logging.getLogger(__name__)

#: Seconds after its last enqueue from which a pending photo whose message Redis does not hold is enqueued
#: again (the scheduler ticks every minute).
LOST_AFTER_S = 60.0

#: The broker's scale of ``maintenance_chance`` (a chance per million commands).
_MAINTENANCE_SCALE = 1_000_000


def run_broker_maintenance(queue: JobQueue) -> None:
    """Move the unacknowledged messages of dead workers back to the queue (and its delay queue) now.

    A worker is dead when its heartbeat is older than ``broker_heartbeat_timeout_ms``. Does nothing without
    a Redis broker.
    """
    broker = queue.broker
    if not isinstance(broker, RedisBroker):
        return
    name = queue.ctx.settings.jobs.job_queue
    saved = broker.maintenance_chance
    broker.maintenance_chance = _MAINTENANCE_SCALE  # the next commands certainly run the maintenance
    try:
        for queue_name in (name, dq_name(name)):
            broker.do_qsize(queue_name)
    finally:
        broker.maintenance_chance = saved


def queued_photo_ids(queue: JobQueue) -> set[int]:
    """Photos whose analysis message is in Redis: waiting, delayed for a retry, or being processed.

    Dramatiq keeps every message body in the queue's ``.msgs`` hash (and the delay queue's) until it is
    acknowledged; an empty set without a Redis broker.
    """
    broker = queue.broker
    if not isinstance(broker, RedisBroker):
        return set()
    name = queue.ctx.settings.jobs.job_queue
    found: set[int] = set()
    for queue_name in (name, dq_name(name)):
        for data in broker.client.hvals(f"{broker.namespace}:{queue_name}.msgs"):
            message = Message.decode(data if isinstance(data, bytes) else str(data).encode())
            if message.actor_name == ANALYSE_PHOTO and message.args and isinstance(message.args[0], int):
                found.add(message.args[0])
    return found


def start_broker_maintenance(queue: JobQueue, interval_s: float | None = None) -> threading.Event:
    """Run :func:`run_broker_maintenance` now and then every *interval_s* seconds in a daemon thread.

    Parameters
    ----------
    queue
        The worker's queue.
    interval_s
        Seconds between two runs; default a quarter of ``broker_heartbeat_timeout_ms``.

    Returns
    -------
    threading.Event
        Set it to stop the thread.
    """
    interval = interval_s or queue.ctx.settings.jobs.broker_heartbeat_timeout_ms / 4000
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                run_broker_maintenance(queue)
            except Exception:  # Redis away for a moment: the next run tries again
                logger.exception("broker maintenance failed")
            if stop.wait(interval):
                return

    threading.Thread(target=loop, name="needlecare-broker-maintenance", daemon=True).start()
    return stop


def recover_in_process(queue: JobQueue, started_at: dt.datetime) -> int:
    """In-process jobs: run again what a dead process left unfinished; returns how many jobs.

    Photos still ``pending`` and mails still waiting (``queued``, ``retrying``) or being sent (``sending``,
    claimed by the dead process: it may or may not have handed the mail over, so it is sent again rather
    than lost) from before *started_at*. Nothing to do with a broker (its messages survive the process
    that sent them).
    """
    if not queue.in_process:
        return 0
    photo_ids = pending_before(queue, started_at)
    mail_ids = unsent_before(queue, started_at)
    if photo_ids or mail_ids:
        logger.info(
            "recovering %d photo analyses and %d mails left by a process that stopped",
            len(photo_ids),
            len(mail_ids),
        )
    for photo_id in photo_ids:
        queue.enqueue(ANALYSE_PHOTO, photo_id)
    for mail_id in mail_ids:
        queue.enqueue(SEND_MAIL, mail_id)
    return len(photo_ids) + len(mail_ids)


def unsent_before(queue: JobQueue, started_at: dt.datetime) -> list[int]:
    """Mails created before *started_at* and not sent yet; those a dead process was sending are released
    (``retrying``) so that they can be claimed again at once."""
    with queue.ctx.sessions() as db:
        db.execute(
            update(MailDelivery)
            .where(MailDelivery.status == mail.SENDING, MailDelivery.claimed_at < started_at)
            .values(status=mail.RETRYING)
        )
        db.commit()
        stmt = select(MailDelivery.id).where(
            MailDelivery.status.in_((mail.QUEUED, mail.RETRYING)), MailDelivery.created_at < started_at
        )
        return list(db.scalars(stmt.order_by(MailDelivery.id)))


def pending_before(queue: JobQueue, started_at: dt.datetime) -> list[int]:
    """Photos still ``pending`` whose analysis was handed over before *started_at* (or never).

    With in-process jobs these were being analysed by a process that is gone.
    """
    with queue.ctx.sessions() as db:
        stmt = (
            select(Photo.id)
            .where(
                Photo.analysis_status == photos.PENDING,
                or_(Photo.analysis_enqueued_at.is_(None), Photo.analysis_enqueued_at < started_at),
            )
            .order_by(Photo.id)
        )
        return list(db.scalars(stmt))
