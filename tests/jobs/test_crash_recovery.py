"""Recovery after a crash in seconds: ``kill -9`` of the server mid-upload or of a worker mid-analysis, and
the photos are analysed within a minute with the default settings."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import select

from needlecare.jobs import mail
from needlecare.jobs.recovery import pending_before, queued_photo_ids, recover_in_process
from needlecare.jobs.scheduler import tick
from needlecare.settings import Settings
from needlecare.storage.db import make_engine
from needlecare.storage.models import MailDelivery, Photo
from web.conftest import PASSWORD, TREATMENT
from web.live import free_port, http_signup

from .conftest import (
    FACE,
    REDIS_URL,
    Sink,
    add_pending_photo,
    add_user,
    job_settings,
    make_queue,
    queue_test_mail,
    wait_for,
)

NEEDLECARE = str(Path(sys.executable).parent / "needlecare")
BIG_FACE = FACE.parent / "obama-1080p.jpg"

#: The longest a photo may stay pending after a crash.
RECOVERY_LIMIT_S = 60.0


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "NEEDLECARE_ENVIRONMENT": "test",
        "NEEDLECARE_DATA_DIR": str(settings.data_dir),
        "NEEDLECARE_DATABASE_URL": settings.sqlalchemy_url,
        "NEEDLECARE_SECRET_KEY": "s" * 48,
        "NEEDLECARE_COOKIE_SECURE": "false",
        "NEEDLECARE_ARGON2_TIME_COST": "1",
        "NEEDLECARE_ARGON2_MEMORY_KIB": "64",
        **extra,
    }
    for name in ("NEEDLECARE_BROKER_URL", "NEEDLECARE_BROKER_HEARTBEAT_TIMEOUT_MS"):
        if name not in extra:
            env.pop(name, None)
    return env


def _statuses(settings: Settings) -> dict[int, str]:
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with engine.connect() as conn:
            return {
                row.id: row.analysis_status for row in conn.execute(select(Photo.id, Photo.analysis_status))
            }
    finally:
        engine.dispose()


def _serve(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [NEEDLECARE, "serve", "--port", str(port)], env=_env(settings), stdout=out, stderr=out
        )
    deadline = time.monotonic() + 40
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/auth/session", timeout=1)
            return proc
        except httpx.HTTPError:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)


def test_server_killed_mid_upload_analyses_the_photos_within_a_minute_of_restart(tmp_path: Path) -> None:
    settings = job_settings(tmp_path, None)
    port = free_port()
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    server = _serve(settings, port, log)
    try:
        client = httpx.Client(base_url=base, timeout=60)
        headers = http_signup(client, "ann@example.org", PASSWORD)
        tid = client.post("/api/v1/treatments", json=TREATMENT, headers=headers).json()["id"]
        cookies = dict(client.cookies)
        client.close()

        def upload() -> None:
            with httpx.Client(base_url=base, timeout=60, cookies=cookies) as c:
                files = {"file": ("face.jpg", BIG_FACE.read_bytes(), "image/jpeg")}
                with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                    c.post(
                        f"/api/v1/treatments/{tid}/photos",
                        files=files,
                        data={"consent": "private"},
                        headers=headers,
                    )

        uploads = [threading.Thread(target=upload) for _ in range(3)]
        for thread in uploads:
            thread.start()
        deadline = time.monotonic() + 60
        while "pending" not in _statuses(settings).values():  # a photo stored, its analysis running
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.002)
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        for thread in uploads:
            thread.join(60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
    left = _statuses(settings)
    assert "pending" in left.values(), left  # the dead server left work behind
    start = time.monotonic()
    restarted = _serve(settings, free_port(), log)
    try:
        wait_for(lambda: set(_statuses(settings).values()) == {"done"}, timeout_s=RECOVERY_LIMIT_S)
        recovered_s = time.monotonic() - start
    finally:
        restarted.send_signal(signal.SIGTERM)
        restarted.wait(20)
    print(f"server restart to every photo analysed: {recovered_s:.1f} s")
    assert recovered_s < RECOVERY_LIMIT_S


def test_recover_in_process_takes_only_photos_handed_over_before_the_start(tmp_path: Path) -> None:
    queue = make_queue(job_settings(tmp_path, None))
    treatment = add_user(queue, "ann@example.org", treated_on=dt.date(2026, 11, 20))
    old = add_pending_photo(queue, treatment)
    now = dt.datetime.now(dt.UTC)
    with queue.ctx.sessions() as db:
        photo = db.get(Photo, old.id)
        assert photo is not None
        photo.analysis_enqueued_at = now - dt.timedelta(seconds=5)
        db.commit()
    new = add_pending_photo(queue, treatment)
    with queue.ctx.sessions() as db:
        photo = db.get(Photo, new.id)
        assert photo is not None
        photo.analysis_enqueued_at = now + dt.timedelta(seconds=5)  # handed over by the running process
        db.commit()
    assert pending_before(queue, now) == [old.id]
    assert recover_in_process(queue, now) == 1
    assert _statuses(queue.ctx.settings) == {old.id: "done", new.id: "pending"}


def _worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = _env(
        settings,
        NEEDLECARE_BROKER_URL=REDIS_URL,
        NEEDLECARE_BROKER_NAMESPACE=settings.jobs.broker_namespace,
    )
    env.pop("NEEDLECARE_BROKER_MAINTENANCE_CHANCE", None)  # the defaults are what is measured
    with open(log, "ab") as out:
        return subprocess.Popen(
            [NEEDLECARE, "worker", "--processes", "1", "--threads", "1"], env=env, stdout=out, stderr=out
        )


@pytest.mark.redis
def test_worker_killed_mid_analysis_the_photo_is_analysed_within_a_minute(
    tmp_path: Path, namespace: str
) -> None:
    settings = job_settings(tmp_path, namespace)
    defaults = Settings(broker_url=REDIS_URL)
    # the queue of this test sends with the default broker settings too
    jobs = settings.jobs.model_copy(
        update={
            "broker_heartbeat_timeout_ms": defaults.jobs.broker_heartbeat_timeout_ms,
            "broker_maintenance_chance": defaults.jobs.broker_maintenance_chance,
        }
    )
    settings = settings.model_copy(update={"jobs": jobs})
    queue = make_queue(settings)
    photo = add_pending_photo(queue, add_user(queue, "ann@example.org", treated_on=dt.date(2026, 11, 20)))
    client = redis.Redis.from_url(REDIS_URL)
    log = tmp_path / "worker.log"
    first = _worker(settings, log)
    second = None
    try:
        queue.enqueue("analyse_photo", photo.id)

        def fetched() -> bool:
            return any(client.scard(key) for key in client.scan_iter(match=f"{namespace}:__acks__.*"))

        wait_for(fetched, timeout_s=30)  # the worker holds the message, its analysis has begun
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = time.monotonic()
        assert _statuses(settings) == {photo.id: "pending"}
        second = _worker(settings, log)
        wait_for(lambda: _statuses(settings) == {photo.id: "done"}, timeout_s=RECOVERY_LIMIT_S)
        recovered_s = time.monotonic() - killed_at
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(20)
        client.close()
    print(f"worker killed to photo analysed: {recovered_s:.1f} s")
    assert recovered_s < RECOVERY_LIMIT_S


def test_recover_in_process_sends_the_mails_a_dead_process_left(
    tmp_path: Path, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    queue = make_queue(job_settings(tmp_path, None), port)
    claimed = queue_test_mail(queue, "test:claimed", "ann@example.org")
    waiting = queue_test_mail(queue, "test:waiting", "bob@example.org")
    now = dt.datetime.now(dt.UTC)
    with queue.ctx.sessions() as db:
        row = db.get(MailDelivery, claimed)
        assert row is not None
        row.status, row.claimed_at, row.attempts = mail.SENDING, now - dt.timedelta(seconds=5), 1
        db.commit()
    assert recover_in_process(queue, now + dt.timedelta(seconds=1)) == 2
    with queue.ctx.sessions() as db:
        assert {db.get(MailDelivery, i).status for i in (claimed, waiting)} == {mail.SENT}  # type: ignore[union-attr]
    assert sorted(m["To"] for m in sink.received) == ["ann@example.org", "bob@example.org"]


@pytest.mark.redis
def test_a_photo_whose_message_redis_lost_is_enqueued_again_after_a_minute(
    tmp_path: Path, namespace: str
) -> None:
    queue = make_queue(job_settings(tmp_path, namespace))
    assert queue.ctx.settings.jobs.photo_requeue_s == 600
    photo = add_pending_photo(queue, add_user(queue, "ann@example.org", treated_on=dt.date(2026, 11, 20)))
    sent = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert queue.enqueue("analyse_photo", photo.id, sent)
    assert queued_photo_ids(queue) == {photo.id}
    assert tick(queue, sent + dt.timedelta(seconds=61)) == 0  # its message is still waiting: no duplicate
    assert queue.broker is not None
    queue.broker.flush(queue.ctx.settings.jobs.job_queue)  # Redis restarted without its data
    assert queued_photo_ids(queue) == set()
    assert tick(queue, sent + dt.timedelta(seconds=59)) == 0
    assert tick(queue, sent + dt.timedelta(seconds=61)) == 1
    assert queued_photo_ids(queue) == {photo.id}
