"""Job fixtures: a migrated SQLite database, a real SMTP server (aiosmtpd) and a private Redis namespace.

Every test gets its own Redis key namespace (``nctest-<random>``) so parallel runs never share a queue; only
that namespace's keys are deleted afterwards.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dramatiq
import pytest
import redis
from aiosmtpd.controller import Controller

from needlecare.jobs.context import JobContext
from needlecare.jobs.queue import JobQueue
from needlecare.settings import MailSettings, Settings
from needlecare.storage.db import make_engine
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import Photo, Treatment, User, utcnow
from needlecare.web.clinics import alerts

REDIS_URL = "redis://127.0.0.1:6379/0"
FACE = Path(__file__).resolve().parents[1] / "fixtures" / "faces" / "obama-480p.jpg"


class Sink:
    """aiosmtpd handler: keeps every accepted message; can refuse the next DATA commands, refuse a recipient
    the next times it is given (``refuse_rcpt``: address -> how often), or stall RCPT."""

    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse_next = 0
        self.refuse_rcpt: dict[str, int] = {}
        self.stall: threading.Event | None = None
        self.stalled = threading.Event()

    async def handle_RCPT(  # noqa: N802 (aiosmtpd hook)
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.stall is not None:  # a slow server: hold the client before it can send the message
            self.stalled.set()
            await asyncio.get_running_loop().run_in_executor(None, self.stall.wait, 30)
        if self.refuse_rcpt.get(address, 0) > 0:
            self.refuse_rcpt[address] -= 1
            return "450 4.2.1 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook)
        if self.refuse_next > 0:
            self.refuse_next -= 1
            return "451 4.3.0 Temporary failure, try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(message)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    """A real SMTP server on a free local port: the sink and its port."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        if sink.stall is not None:
            sink.stall.set()
        controller.stop()


def mail_settings(port: int) -> MailSettings:
    return MailSettings(
        backend="smtp", host="127.0.0.1", port=port, from_address="needlecare <care@needlecare.test>"
    )


@pytest.fixture
def namespace() -> Iterator[str]:
    """A Redis key namespace of this test alone; its keys are deleted afterwards."""
    ns = f"nctest-{uuid.uuid4().hex[:12]}"
    yield ns
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{ns}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture
def running() -> Iterator[list[dramatiq.Worker]]:
    """Workers started by a test (:func:`start`); stopped at its end."""
    workers: list[dramatiq.Worker] = []
    yield workers
    for w in workers:
        w.stop()


def start(queue: JobQueue, running: list[dramatiq.Worker], threads: int = 1) -> dramatiq.Worker:
    """A Dramatiq worker for *queue* running in threads of this process until the test ends."""
    worker = queue.worker(threads)
    worker.start()
    running.append(worker)
    return worker


def settle(queue: JobQueue, worker: dramatiq.Worker, timeout_s: float = 30.0) -> None:
    """Wait until no message of *queue* is left in Redis (waiting, delayed for a retry or being processed)
    and *worker* has finished its work."""
    assert queue.broker is not None
    queue.broker.join(queue.ctx.settings.jobs.job_queue, timeout=int(timeout_s * 1000))
    worker.join()


def job_settings(tmp_path: Path, namespace: str | None, **overrides: object) -> Settings:
    """Settings for job tests: SQLite under *tmp_path*, short backoffs; Redis when *namespace* is given."""
    values: dict[str, object] = {
        "environment": "test",
        "job_runner": "inline",
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite:///{tmp_path / 'data' / 'jobs.db'}",
        "secret_key": "s" * 48,
        "job_max_retries": 3,
        "job_min_backoff_ms": 100,
        "job_max_backoff_ms": 400,
        "public_url": "https://care.example.org",
    }
    if namespace is not None:
        values.update(broker_url=REDIS_URL, broker_namespace=namespace, broker_maintenance_chance=1_000_000)
    values.update(overrides)
    return Settings.model_validate(values)


def make_queue(settings: Settings, port: int | None = None) -> JobQueue:
    """A migrated database and the job queue for *settings* (mail through the SMTP server on *port*)."""
    upgrade(settings.sqlalchemy_url)
    engine = make_engine(settings.sqlalchemy_url)
    mail = mail_settings(port) if port is not None else MailSettings(outbox_dir=settings.data_dir / "outbox")
    return JobQueue.from_settings(JobContext.build(settings, engine, mail, clinic_alerts=alerts.sync))


def add_user(queue: JobQueue, email_: str, *, timezone: str | None = None, treated_on: dt.date) -> Treatment:
    """A user with a confirmed address and one treatment (treatment zone UTC unless the user has one)."""
    with queue.ctx.sessions() as db:
        user = User(email=email_, password_hash="x", timezone=timezone, email_verified_at=utcnow())
        db.add(user)
        db.flush()
        treatment = Treatment(
            user_id=user.id,
            treated_on=treated_on,
            device="pen",
            depth_mm=1.0,
            passes=3,
            area="face",
            skin_type=2,
            bleeding=True,
        )
        db.add(treatment)
        db.commit()
        return treatment


def add_pending_photo(queue: JobQueue, treatment: Treatment, jpeg: bytes | None = None) -> Photo:
    """A stored photo awaiting its analysis job (as the upload leaves it)."""
    store = queue.ctx.store
    relpath = store.new_relpath(treatment.user_id)
    store.publish(store.stage(jpeg or FACE.read_bytes()), relpath)
    with queue.ctx.sessions() as db:
        photo = Photo(
            user_id=treatment.user_id,
            treatment_id=treatment.id,
            taken_on=treatment.treated_on,
            day=0,
            consent="private",
            file_path=relpath,
            width=480,
            height=480,
            analysis_status="pending",
        )
        db.add(photo)
        db.commit()
        return photo


def queue_test_mail(queue: JobQueue, key: str = "test:1", to: str = "ann@example.org") -> int:
    """Record one mail (``send_mail`` not yet enqueued); returns its delivery id."""
    from needlecare.jobs.mail import queue_mail

    with queue.ctx.sessions() as db:
        row, new = queue_mail(db, key=key, to=to, subject="Hello", text="Body text.\n")
        db.commit()
        assert new
        return row.id


def wait_for(condition: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll *condition* every 50 ms; fail the test after *timeout_s*."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the job")
        time.sleep(0.05)
