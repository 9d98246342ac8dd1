"""Reminders: due at the local morning (fixed ``now``), content from the plan, mailed once through SMTP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
from sqlalchemy import select

from needlecare.jobs import mail
from needlecare.jobs.reminders import due_reminders, reminder_key
from needlecare.jobs.scheduler import tick
from needlecare.knowledge.common import DISCLAIMER
from needlecare.knowledge.plan import aftercare_plan
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.storage.models import MailDelivery, User

from .conftest import Sink, add_user, job_settings, make_queue, wait_for

TREATED = dt.date(2026, 11, 20)
BASE = "https://care.example.org"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


# (user zone, UTC instant, plan day due or None): 08:00 local is 07:00 UTC in Berlin (CET) and 13:00 UTC in
# New York (EST); 08:00 in Sydney (AEDT, UTC+11) on 21 Nov is 21:00 UTC on 20 Nov.
CASES = [
    ("Europe/Berlin", "2026-11-23T06:59", None),
    ("Europe/Berlin", "2026-11-23T07:00", 3),
    ("Europe/Berlin", "2026-11-23T09:59", 3),  # 10:59 local: still the morning's reminder
    ("Europe/Berlin", "2026-11-23T10:00", None),  # 11:00 local: that day's reminder is skipped
    ("Europe/Berlin", "2026-11-23T17:49", None),  # 18:49 local: never a "good morning" in the evening
    ("Europe/Berlin", "2026-11-23T23:00", None),  # local midnight: day 4, before 08:00
    ("America/New_York", "2026-11-23T07:00", None),
    ("America/New_York", "2026-11-23T12:59", None),
    ("America/New_York", "2026-11-23T13:00", 3),
    ("Australia/Sydney", "2026-11-20T20:59", None),
    ("Australia/Sydney", "2026-11-20T21:00", 1),
    ("UTC", "2026-11-20T08:00", 0),
    ("UTC", "2026-12-04T08:00", 14),
    ("UTC", "2026-12-05T08:00", None),  # the plan ends on day 14
    ("UTC", "2026-11-19T08:00", None),  # before the treatment
]


@pytest.mark.parametrize(("tz", "now", "day"), CASES)
def test_reminder_is_due_from_local_eight(tmp_path: Path, tz: str, now: str, day: int | None) -> None:
    queue = make_queue(job_settings(tmp_path, None))
    treatment = add_user(queue, "ann@example.org", timezone=tz, treated_on=TREATED)
    with queue.ctx.sessions() as db:
        due = due_reminders(db, utc(now), hour=8, base_url=BASE)
        assert [d.key for d in due] == ([] if day is None else [reminder_key(treatment.id, day)])


def test_user_zone_overrides_the_treatments_and_opting_out_stops_reminders(tmp_path: Path) -> None:
    queue = make_queue(job_settings(tmp_path, None))
    treatment = add_user(queue, "ann@example.org", timezone=None, treated_on=TREATED)
    with queue.ctx.sessions() as db:
        treatment_row = db.merge(treatment)
        treatment_row.timezone = (
            "Asia/Tokyo"  # 00:00 UTC is 09:00 in Tokyo, 19:00 (the day before) in New York
        )
        db.commit()
        assert [d.key for d in due_reminders(db, utc("2026-11-23T00:00"), hour=8, base_url=BASE)] == [
            reminder_key(treatment.id, 3)
        ]
        db.rollback()
        user = db.get(User, treatment.user_id)
        assert user is not None
        user.timezone = "America/New_York"
        db.commit()
        assert due_reminders(db, utc("2026-11-23T00:00"), hour=8, base_url=BASE) == []
        user.reminders_enabled = False
        db.commit()
        assert due_reminders(db, utc("2026-11-23T13:00"), hour=8, base_url=BASE) == []


@pytest.fixture
def worker_list() -> Iterator[list[dramatiq.Worker]]:
    workers: list[dramatiq.Worker] = []
    yield workers
    for w in workers:
        w.stop()


@pytest.mark.redis
def test_reminders_reach_the_smtp_server_at_each_users_local_eight_once(
    tmp_path: Path, namespace: str, smtp: tuple[Sink, int], worker_list: list[dramatiq.Worker]
) -> None:
    sink, port = smtp
    queue = make_queue(job_settings(tmp_path, namespace), port)
    berlin = add_user(queue, "berlin@example.org", timezone="Europe/Berlin", treated_on=TREATED)
    add_user(queue, "newyork@example.org", timezone="America/New_York", treated_on=TREATED)
    worker = queue.worker(2)
    worker.start()
    worker_list.append(worker)

    assert tick(queue, utc("2026-11-23T06:59")) == 0
    assert tick(queue, utc("2026-11-23T07:00")) == 1  # 08:00 in Berlin
    wait_for(lambda: len(sink.received) == 1)
    assert tick(queue, utc("2026-11-23T07:01")) == 0
    assert tick(queue, utc("2026-11-23T12:59")) == 0
    assert tick(queue, utc("2026-11-23T13:00")) == 1  # 08:00 in New York
    wait_for(lambda: len(sink.received) == 2)
    for minute in ("13:01", "18:00", "22:59"):
        assert tick(queue, utc(f"2026-11-23T{minute}")) == 0
    worker.join()
    assert [m["To"] for m in sink.received] == ["berlin@example.org", "newyork@example.org"]

    message = sink.received[0]
    plan = aftercare_plan(TREATED, TreatmentParams(depth_mm=1.0, passes=3, skin_type=2, bleeding=True))
    assert message["Subject"] == "Day 3 after your microneedling: today's aftercare"
    body = message.get_content().replace("\r\n", "\n")
    for item in plan.days[3].do + plan.days[3].avoid:
        assert f"  - {item}\n" in body
    assert f"{BASE}/treatments/{berlin.id}/checkins/new" in body
    assert " ".join(DISCLAIMER.split()) in " ".join(body.split())
    with queue.ctx.sessions() as db:
        rows = db.scalars(select(MailDelivery).order_by(MailDelivery.id)).all()
        assert [(r.status, r.attempts) for r in rows] == [(mail.SENT, 1), (mail.SENT, 1)]
