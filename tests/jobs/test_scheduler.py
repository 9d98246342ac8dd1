"""The periodic trigger: the scheduler thread mails the reminder once; stalled in-process mail is retried."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import time
from pathlib import Path

from sqlalchemy import select

from needlecare.jobs import mail
from needlecare.jobs.scheduler import start_in_thread, tick
from needlecare.storage.models import MailDelivery

from .conftest import add_user, job_settings, make_queue, queue_test_mail, wait_for


def _zone_at_nine(now: dt.datetime) -> tuple[str, dt.date]:
    """A fixed-offset zone where it is now 09:xx (within the 08:00 reminder's morning), and its local date."""
    offset = (9 - now.hour + 12) % 24 - 12  # in -12..11 hours
    name = "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-5 is UTC+5
    return name, (now + dt.timedelta(hours=offset)).date()


def test_scheduler_thread_mails_todays_reminder_once(tmp_path: Path) -> None:
    queue = make_queue(job_settings(tmp_path, None))
    zone, today = _zone_at_nine(dt.datetime.now(dt.UTC))
    add_user(queue, "ann@example.org", timezone=zone, treated_on=today - dt.timedelta(days=2))
    outbox = tmp_path / "data" / "outbox"
    stop = start_in_thread(queue, interval_s=0.05)
    try:
        wait_for(lambda: len(list(outbox.glob("*.eml"))) == 1)
        time.sleep(0.5)  # about ten more ticks
    finally:
        stop.set()
    (path,) = outbox.glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ann@example.org"
    assert message["Subject"].startswith("Day 2 after your microneedling")


def test_in_process_failed_mail_is_retried_by_the_sweep_then_given_up(tmp_path: Path) -> None:
    settings = job_settings(tmp_path, None, job_lease_s=60, job_max_retries=1)
    queue = make_queue(settings, port=1)  # nothing listens on port 1: every send fails
    delivery = queue_test_mail(queue)
    queue.enqueue("send_mail", delivery)  # in-process: fails, recorded, not raised

    def row() -> MailDelivery:
        with queue.ctx.sessions() as db:
            return db.scalars(select(MailDelivery).where(MailDelivery.id == delivery)).one()

    assert (row().status, row().attempts) == (mail.RETRYING, 1)
    assert "SMTP delivery" in (row().error or "")
    now = dt.datetime.now(dt.UTC)
    assert tick(queue, now) == 0  # within the lease: left alone
    assert tick(queue, now + dt.timedelta(seconds=61)) == 1  # stalled: sent again, fails again
    assert (row().status, row().attempts) == (mail.RETRYING, 2)
    assert tick(queue, now + dt.timedelta(seconds=200)) == 0  # past max retries: given up
    assert row().status == mail.DEAD
