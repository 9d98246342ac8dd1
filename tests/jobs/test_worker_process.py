"""A ``needlecare worker`` process killed (SIGKILL) mid-job: the job is redelivered and done exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from needlecare.jobs import mail
from needlecare.jobs.dead import dead_messages
from needlecare.jobs.runner import WORKER_NICENESS
from needlecare.settings import Settings
from needlecare.storage.models import MailDelivery

from .conftest import REDIS_URL, Sink, job_settings, make_queue, queue_test_mail, wait_for

pytestmark = pytest.mark.redis

NEEDLECARE = str(Path(sys.executable).parent / "needlecare")


def _worker(settings: Settings, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEEDLECARE_ENVIRONMENT": "test",
        "NEEDLECARE_DATA_DIR": str(settings.data_dir),
        "NEEDLECARE_DATABASE_URL": settings.sqlalchemy_url,
        "NEEDLECARE_SECRET_KEY": "s" * 48,
        "NEEDLECARE_BROKER_URL": REDIS_URL,
        "NEEDLECARE_BROKER_NAMESPACE": settings.jobs.broker_namespace,
        "NEEDLECARE_BROKER_HEARTBEAT_TIMEOUT_MS": str(settings.jobs.broker_heartbeat_timeout_ms),
        "NEEDLECARE_BROKER_MAINTENANCE_CHANCE": "1000000",
        "NEEDLECARE_JOB_LEASE_S": str(settings.jobs.job_lease_s),
        "NEEDLECARE_JOB_MIN_BACKOFF_MS": "200",
        "NEEDLECARE_JOB_MAX_BACKOFF_MS": "500",
        "NEEDLECARE_SMTP_BACKEND": "smtp",
        "NEEDLECARE_SMTP_HOST": "127.0.0.1",
        "NEEDLECARE_SMTP_PORT": str(port),
        "NEEDLECARE_SMTP_FROM_ADDRESS": "needlecare <care@needlecare.test>",
    }
    with open(log, "ab") as out:
        return subprocess.Popen([NEEDLECARE, "worker", "--threads", "1"], env=env, stdout=out, stderr=out)


def test_worker_killed_mid_job_neither_loses_nor_duplicates_the_mail(
    tmp_path: Path, namespace: str, smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.stall = threading.Event()  # the SMTP server holds the first client before it can send DATA
    settings = job_settings(tmp_path, namespace, broker_heartbeat_timeout_ms=1500, job_lease_s=2.0)
    queue = make_queue(settings, port)
    delivery = queue_test_mail(queue)
    queue.enqueue("send_mail", delivery)

    def row() -> MailDelivery:
        with queue.ctx.sessions() as db:
            return db.scalars(select(MailDelivery).where(MailDelivery.id == delivery)).one()

    log = tmp_path / "workers.log"
    first = _worker(settings, port, log)
    second = None
    try:
        assert sink.stalled.wait(20), log.read_text()
        assert (row().status, row().attempts) == (mail.SENDING, 1)  # the first worker is mid-job
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        sink.stall.set()  # the dead client's connection is answered; it never sent the message
        assert sink.received == []
        second = _worker(settings, port, log)
        wait_for(lambda: row().status == mail.SENT, timeout_s=20)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(10)
    assert len(sink.received) == 1
    assert sink.received[0]["To"] == "ann@example.org"
    assert row().attempts == 2  # claimed by the killed worker, then by the second one
    client = redis.Redis.from_url(REDIS_URL)
    assert client.llen(f"{namespace}:{settings.jobs.job_queue}") == 0  # nothing left to redeliver
    client.close()
    assert dead_messages(queue) == []


def _children(pid: int) -> list[int]:
    """Process ids whose parent is *pid* (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGKILL])
def test_worker_runs_its_processes_and_they_end_with_it(
    tmp_path: Path, namespace: str, smtp: tuple[Sink, int], stop: signal.Signals
) -> None:
    """``--processes 2`` starts two single-process workers; they stop when it is stopped, and die with it
    when it is killed (nothing is left consuming the queue)."""
    _sink, port = smtp
    settings = job_settings(tmp_path, namespace)
    make_queue(settings, port)
    env = {
        **os.environ,
        "NEEDLECARE_ENVIRONMENT": "test",
        "NEEDLECARE_DATA_DIR": str(settings.data_dir),
        "NEEDLECARE_DATABASE_URL": settings.sqlalchemy_url,
        "NEEDLECARE_SECRET_KEY": "s" * 48,
        "NEEDLECARE_BROKER_URL": REDIS_URL,
        "NEEDLECARE_BROKER_NAMESPACE": settings.jobs.broker_namespace,
    }
    log = tmp_path / "worker.log"
    with open(log, "ab") as out:
        parent = subprocess.Popen(
            [NEEDLECARE, "worker", "--processes", "2", "--threads", "1"], env=env, stdout=out, stderr=out
        )
    children: list[int] = []
    try:
        wait_for(lambda: len(_children(parent.pid)) == 2, timeout_s=30)
        wait_for(lambda: "(2 processes)" in log.read_text(), timeout_s=30)  # started: it says so last
        children = _children(parent.pid)
        # the worker and its processes give a web server on the same machine a core first
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in [parent.pid, *children]} == {WORKER_NICENESS}
        parent.send_signal(stop)
        parent.wait(60)
        wait_for(lambda: not any(_alive(child) for child in children), timeout_s=30)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)
        for child in children:
            if _alive(child):
                os.kill(child, signal.SIGKILL)
    assert "(2 processes)" in log.read_text()
