"""Dead-lettered jobs: messages the Redis broker gave up on (kept a week), and the rows they left failed."""

from __future__ import annotations

from typing import Any

from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from sqlalchemy import select

from needlecare.jobs import mail, photos
from needlecare.jobs.queue import JobQueue
from needlecare.storage.models import MailDelivery, Photo


def dead_messages(queue: JobQueue) -> list[dict[str, Any]]:
    """Messages in the queue's dead-letter set (``<namespace>:<queue>.XQ``), oldest first.

    Each: ``message_id``, ``actor``, ``args``, ``retries`` (how often it had been retried before its last run)
    and ``error`` (last line of the traceback of the run before, when there was one).
    """
    broker = queue.broker
    if not isinstance(broker, RedisBroker):
        return []
    name = f"{broker.namespace}:{queue.ctx.settings.jobs.job_queue}.XQ"
    ids: list[bytes] = list(broker.client.zrange(name, 0, -1))  # type: ignore[arg-type]
    out = []
    for redis_id in ids:
        data = broker.client.hget(f"{name}.msgs", redis_id)
        if not isinstance(data, bytes):
            continue
        message = Message.decode(data)
        trace = str(message.options.get("traceback") or "").strip().splitlines()
        out.append(
            {
                "message_id": message.message_id,
                "actor": message.actor_name,
                "args": list(message.args),
                "retries": int(message.options.get("retries", 0)),
                "error": trace[-1] if trace else "",
            }
        )
    return out


def failed_rows(queue: JobQueue) -> list[dict[str, Any]]:
    """Mails given up (``dead``) and photos whose analysis ``failed``, with their error."""
    with queue.ctx.sessions() as db:
        mails = db.execute(
            select(MailDelivery.id, MailDelivery.key, MailDelivery.attempts, MailDelivery.error).where(
                MailDelivery.status == mail.DEAD
            )
        )
        out: list[dict[str, Any]] = [
            {"kind": "mail", "id": i, "key": k, "attempts": a, "error": e or ""} for i, k, a, e in mails
        ]
        failed = db.execute(
            select(Photo.id, Photo.analysis_error).where(Photo.analysis_status == photos.FAILED)
        )
        out += [{"kind": "photo", "id": i, "error": e or ""} for i, e in failed]
    return out
