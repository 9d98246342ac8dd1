"""The jobs on the real local PostgreSQL: reminders due by zone, one mail per key under concurrent claims."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from needlecare.jobs import mail
from needlecare.jobs.context import JobContext
from needlecare.jobs.errors import ClaimedElsewhereError
from needlecare.jobs.queue import JobQueue
from needlecare.jobs.scheduler import tick
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import MailDelivery, Photo
from needlecare.web.clinics import alerts
from storage.conftest import POSTGRES_URL, _postgres_schema

from .conftest import Sink, add_pending_photo, add_user, job_settings, mail_settings, queue_test_mail

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_queue(tmp_path: Path, smtp: tuple[Sink, int]) -> Iterator[JobQueue]:
    """An in-process job queue on a fresh PostgreSQL schema, mailing through the test SMTP server."""
    for engine, _schema in _postgres_schema():
        with engine.begin() as conn:
            upgrade(POSTGRES_URL, connection=conn)
        yield JobQueue(
            JobContext.build(
                job_settings(tmp_path, None), engine, mail_settings(smtp[1]), clinic_alerts=alerts.sync
            )
        )


def test_reminders_and_their_mails_on_postgres(pg_queue: JobQueue, smtp: tuple[Sink, int]) -> None:
    sink, _ = smtp
    add_user(pg_queue, "berlin@example.org", timezone="Europe/Berlin", treated_on=dt.date(2026, 11, 20))
    add_user(pg_queue, "tokyo@example.org", timezone="Asia/Tokyo", treated_on=dt.date(2026, 11, 20))
    at = dt.datetime(2026, 11, 22, 23, 0, tzinfo=dt.UTC)  # 08:00 in Tokyo, 00:00 in Berlin
    assert tick(pg_queue, at) == 1
    assert tick(pg_queue, at + dt.timedelta(hours=7, minutes=59)) == 0  # 07:59 in Berlin
    assert tick(pg_queue, at + dt.timedelta(hours=8)) == 1
    assert tick(pg_queue, at + dt.timedelta(hours=9)) == 0
    assert [m["To"] for m in sink.received] == ["tokyo@example.org", "berlin@example.org"]
    assert [m["Subject"].split(" after")[0] for m in sink.received] == ["Day 3", "Day 3"]


def test_concurrent_duplicates_send_one_mail_on_postgres(pg_queue: JobQueue, smtp: tuple[Sink, int]) -> None:
    sink, _ = smtp
    delivery = queue_test_mail(pg_queue)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def send() -> None:
        barrier.wait()
        try:
            outcomes.append(mail.send_delivery(pg_queue.ctx, delivery))
        except ClaimedElsewhereError as exc:  # another thread holds the claim
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(sink.received) == 1
    assert outcomes.count("sent") == 1
    assert len(outcomes) + len(errors) == 4
    with pg_queue.ctx.sessions() as db:
        row = db.scalars(select(MailDelivery)).one()
        assert (row.status, row.attempts) == (mail.SENT, 1)


def test_photo_analysis_job_on_postgres(pg_queue: JobQueue) -> None:
    treatment = add_user(pg_queue, "ann@example.org", treated_on=dt.date(2026, 11, 20))
    photo = add_pending_photo(pg_queue, treatment)
    pg_queue.enqueue("analyse_photo", photo.id)
    pg_queue.enqueue("analyse_photo", photo.id)  # a duplicate finds it done
    with pg_queue.ctx.sessions() as db:
        stored = db.get(Photo, photo.id)
        assert stored is not None
        assert stored.analysis_status == "done"
        assert stored.analysis is not None
        assert stored.analysis.redness is not None
        assert stored.analysis.redness.unit == "OD_hb"
