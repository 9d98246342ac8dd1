"""A photo whose analysis message never reached Redis (or was lost) is enqueued again by the scheduler."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import dramatiq
import pytest
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker

from needlecare.jobs import photos
from needlecare.jobs.queue import JobQueue
from needlecare.jobs.scheduler import tick
from needlecare.storage.models import Photo
from needlecare.web.app import create_app
from web.conftest import api_signup, api_treatment, api_upload, make_settings, new_client

from .conftest import FACE, add_pending_photo, add_user, job_settings, make_queue, wait_for

#: Long before the fixed times below, so no aftercare reminder is due and a tick enqueues photos only.
TREATED = dt.date(2026, 1, 5)


def _messages(queue: JobQueue, photo_id: int | None = None) -> int:
    """Messages in the Redis queue (waiting or being processed): all, or the analyses of *photo_id*."""
    broker = queue.broker
    assert isinstance(broker, RedisBroker)
    raw = broker.client.hvals(f"{broker.namespace}:{queue.ctx.settings.jobs.job_queue}.msgs")
    decoded = [Message.decode(data) for data in raw]  # type: ignore[union-attr]
    if photo_id is None:
        return len(decoded)
    return sum(1 for m in decoded if (m.actor_name, list(m.args)) == ("analyse_photo", [photo_id]))


def _photo(queue: JobQueue, photo_id: int) -> Photo:
    with queue.ctx.sessions() as db:
        photo = db.get(Photo, photo_id)
        assert photo is not None
        return photo


def _enqueued_at(queue: JobQueue, photo_id: int) -> dt.datetime | None:
    """The photo's ``analysis_enqueued_at`` as an aware UTC time (SQLite hands it back naive)."""
    at = _photo(queue, photo_id).analysis_enqueued_at
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _count_measures(monkeypatch: pytest.MonkeyPatch) -> list[photos.Analysis]:
    """Wrap :func:`photos.measure`; the returned list gets every analysis it produced."""
    produced: list[photos.Analysis] = []
    real = photos.measure

    def counted(*args: object, **kwargs: object) -> photos.Analysis:
        analysis = real(*args, **kwargs)  # type: ignore[arg-type]
        produced.append(analysis)
        return analysis

    monkeypatch.setattr(photos, "measure", counted)
    return produced


@pytest.mark.redis
def test_upload_while_the_broker_is_unreachable_is_analysed_once_after_a_tick(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = make_settings(tmp_path, broker_url="redis://127.0.0.1:1/0", broker_namespace=namespace)
    with new_client(create_app(unreachable, migrate=True)) as client:
        headers = api_signup(client)
        tid = api_treatment(client, headers)
        r = api_upload(client, headers, tid, FACE.read_bytes())
    assert r.status_code == 201, r.text
    assert r.json()["analysis_status"] == "pending"
    pid: int = r.json()["id"]

    # The broker is back: the scheduler and a worker share the web app's database and photo directory.
    settings = job_settings(tmp_path, namespace, database_url=unreachable.database_url)
    queue = make_queue(settings)
    assert (_photo(queue, pid).analysis_status, _enqueued_at(queue, pid)) == ("pending", None)
    assert _messages(queue) == 0  # the upload's message never reached Redis

    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=settings.jobs.photo_requeue_s + 1)
    interval = dt.timedelta(seconds=settings.jobs.photo_requeue_s)
    # (ticks may enqueue the signup's mail and reminders too: count this photo's messages only)
    tick(queue, now)
    assert (_messages(queue, pid), _enqueued_at(queue, pid)) == (1, now)
    tick(queue, now + interval - dt.timedelta(seconds=1))  # within the interval: not again
    assert (_messages(queue, pid), _enqueued_at(queue, pid)) == (1, now)
    later = now + interval + dt.timedelta(seconds=1)  # the first message may be lost: enqueued again
    tick(queue, later)
    assert (_messages(queue, pid), _enqueued_at(queue, pid)) == (2, later)

    produced = _count_measures(monkeypatch)
    worker = queue.worker(1)
    worker.start()
    running.append(worker)
    wait_for(lambda: _photo(queue, pid).analysis_status == "done")
    wait_for(lambda: _messages(queue) == 0)  # the duplicate has been processed too
    worker.join()
    assert len(produced) == 1  # two messages, one analysis
    stored = _photo(queue, pid)
    assert stored.analysis is not None
    assert stored.analysis.stored_json() == {"version": 1, **json.loads(json.dumps(produced[0].report))}
    assert stored.heatmap_path == photos.heatmap_relpath(stored.file_path)
    assert sorted(p.name for p in queue.ctx.store.root.rglob("*.heatmap.jpg")) == [
        Path(stored.heatmap_path).name
    ]
    tick(queue, later + 10 * interval)  # done: never enqueued again
    assert _messages(queue, pid) == 0


@pytest.mark.redis
def test_interval_is_configurable_and_counts_from_the_last_enqueue(tmp_path: Path, namespace: str) -> None:
    queue = make_queue(job_settings(tmp_path, namespace, photo_requeue_s=120))
    photo = add_pending_photo(queue, add_user(queue, "ann@example.org", treated_on=TREATED))
    sent = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert queue.enqueue("analyse_photo", photo.id, sent)
    assert (_messages(queue, photo.id), _enqueued_at(queue, photo.id)) == (1, sent)
    for seconds in (0, 60, 119):
        assert tick(queue, sent + dt.timedelta(seconds=seconds)) == 0
    assert _messages(queue, photo.id) == 1
    assert tick(queue, sent + dt.timedelta(seconds=121)) == 1
    assert (_messages(queue, photo.id), _enqueued_at(queue, photo.id)) == (
        2,
        sent + dt.timedelta(seconds=121),
    )


def test_in_process_failure_is_retried_after_the_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = make_queue(job_settings(tmp_path, None, photo_requeue_s=300))
    photo = add_pending_photo(queue, add_user(queue, "ann@example.org", treated_on=TREATED))
    real = photos.measure
    calls: list[int] = []

    def flaky(*args: object, **kwargs: object) -> photos.Analysis:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("photo volume not mounted yet")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(photos, "measure", flaky)
    t0 = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert not queue.enqueue("analyse_photo", photo.id, t0)  # in-process: fails, logged, stays pending
    assert (_photo(queue, photo.id).analysis_status, _enqueued_at(queue, photo.id)) == ("pending", t0)
    assert tick(queue, t0 + dt.timedelta(seconds=299)) == 0
    assert len(calls) == 1
    assert tick(queue, t0 + dt.timedelta(seconds=301)) == 1
    assert (len(calls), _photo(queue, photo.id).analysis_status) == (2, "done")
    assert tick(queue, t0 + dt.timedelta(days=1)) == 0
    assert len(calls) == 2
