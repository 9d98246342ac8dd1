"""The job queue on the real local Redis with real Dramatiq workers: runs, retries, duplicates, dead mail."""

from __future__ import annotations

from pathlib import Path

import dramatiq
import pytest
from icalendar import Calendar
from sqlalchemy import select

from needlecare.jobs import attachments, mail, photos
from needlecare.jobs.dead import dead_messages, failed_rows
from needlecare.jobs.queue import JobQueue
from needlecare.storage.models import MailDelivery, Photo, Treatment

from .conftest import (
    FACE,
    Sink,
    add_pending_photo,
    add_user,
    job_settings,
    make_queue,
    queue_test_mail,
    start,
    wait_for,
)

pytestmark = pytest.mark.redis

TREATED = __import__("datetime").date(2026, 11, 20)


def _photo(queue: JobQueue, photo_id: int) -> Photo:
    with queue.ctx.sessions() as db:
        photo = db.get(Photo, photo_id)
        assert photo is not None
        return photo


def _delivery(queue: JobQueue, key: str) -> MailDelivery:
    with queue.ctx.sessions() as db:
        return db.scalars(select(MailDelivery).where(MailDelivery.key == key)).one()


def _heatmaps(queue: JobQueue) -> list[Path]:
    return sorted(queue.ctx.store.root.rglob("*.heatmap.jpg"))


def test_photo_analysis_runs_on_a_redis_worker(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker]
) -> None:
    queue = make_queue(job_settings(tmp_path, namespace))
    photo = add_pending_photo(queue, add_user(queue, "ann@example.org", treated_on=TREATED))
    queue.enqueue("analyse_photo", photo.id)
    assert _photo(queue, photo.id).analysis_status == "pending"  # nothing runs without a worker
    start(queue, running)
    wait_for(lambda: _photo(queue, photo.id).analysis_status == "done")
    stored = _photo(queue, photo.id)
    expected = photos.measure(FACE.read_bytes(), heatmap=False).report
    assert stored.analysis is not None
    assert stored.analysis.index == pytest.approx(expected["redness"]["index"], abs=1e-9)
    assert stored.heatmap_path == photos.heatmap_relpath(stored.file_path)
    assert queue.ctx.store.path(stored.heatmap_path).read_bytes()[:3] == b"\xff\xd8\xff"  # a JPEG


def test_failing_job_is_retried_with_backoff_and_stored_once(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = make_queue(job_settings(tmp_path, namespace))
    photo = add_pending_photo(queue, add_user(queue, "ann@example.org", treated_on=TREATED))
    calls: list[int] = []
    real = photos.measure

    def flaky(*args: object, **kwargs: object) -> photos.Analysis:
        calls.append(1)
        if len(calls) <= 2:
            raise OSError("photo volume not mounted yet")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(photos, "measure", flaky)
    queue.enqueue("analyse_photo", photo.id)
    start(queue, running)
    wait_for(lambda: _photo(queue, photo.id).analysis_status == "done")
    assert len(calls) == 3
    assert len(_heatmaps(queue)) == 1
    assert dead_messages(queue) == []


def test_mail_refused_twice_is_sent_once(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.refuse_next = 2
    queue = make_queue(job_settings(tmp_path, namespace), port)
    queue.enqueue("send_mail", queue_test_mail(queue))
    start(queue, running)
    wait_for(lambda: _delivery(queue, "test:1").status == mail.SENT)
    row = _delivery(queue, "test:1")
    assert (row.attempts, row.error) == (3, None)
    assert [m["To"] for m in sink.received] == ["ann@example.org"]
    assert sink.received[0]["Message-ID"] == mail.message_id(row, "needlecare.test")


def test_duplicated_messages_send_one_mail_and_store_one_result(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    queue = make_queue(job_settings(tmp_path, namespace), port)
    delivery = queue_test_mail(queue)
    photo = add_pending_photo(queue, add_user(queue, "bob@example.org", treated_on=TREATED))
    for _ in range(3):  # the same work enqueued three times, handled by two threads at once
        queue.enqueue("send_mail", delivery)
        queue.enqueue("analyse_photo", photo.id)
    worker = start(queue, running, threads=2)
    wait_for(lambda: _delivery(queue, "test:1").status == mail.SENT)
    wait_for(lambda: _photo(queue, photo.id).analysis_status == "done")
    worker.join()
    assert len(sink.received) == 1
    assert _delivery(queue, "test:1").attempts == 1
    assert len(_heatmaps(queue)) == 1
    with queue.ctx.sessions() as db:  # recording the same mail again finds the first row
        row, new = mail.queue_mail(db, key="test:1", to="ann@example.org", subject="Hello", text="x")
        assert (row.id, new) == (delivery, False)


def test_exhausted_retries_are_dead_lettered_and_visible(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.refuse_next = 100
    queue = make_queue(job_settings(tmp_path, namespace, job_max_retries=1), port)
    delivery = queue_test_mail(queue)
    queue.enqueue("send_mail", delivery)
    start(queue, running)
    wait_for(lambda: _delivery(queue, "test:1").status == mail.DEAD)
    wait_for(lambda: len(dead_messages(queue)) == 1)
    (dead,) = dead_messages(queue)
    assert (dead["actor"], dead["args"], dead["retries"]) == ("send_mail", [delivery], 1)  # 1 retry, 2 runs
    assert "451" in dead["error"]
    assert _delivery(queue, "test:1").attempts == 2
    assert sink.received == []
    (row,) = failed_rows(queue)
    assert (row["kind"], row["id"]) == ("mail", delivery)
    assert "451" in row["error"]


def test_photo_that_cannot_be_measured_fails_without_retries(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker]
) -> None:
    from PIL import Image

    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (320, 240), (200, 180, 170)).save(blank)
    queue = make_queue(job_settings(tmp_path, namespace))
    photo = add_pending_photo(
        queue, add_user(queue, "ann@example.org", treated_on=TREATED), blank.read_bytes()
    )
    queue.enqueue("analyse_photo", photo.id)
    start(queue, running)
    wait_for(lambda: _photo(queue, photo.id).analysis_status == "failed")
    assert "no face" in (_photo(queue, photo.id).analysis_error or "")
    wait_for(lambda: len(dead_messages(queue)) == 1)
    assert dead_messages(queue)[0]["retries"] == 0  # failed at once (PermanentJobError is not retried)


def test_mail_with_an_ics_is_built_by_the_worker_after_a_refusal(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    sink.refuse_next = 1
    queue = make_queue(job_settings(tmp_path, namespace), port)
    treatment = add_user(queue, "ann@example.org", treated_on=TREATED)
    with queue.ctx.sessions() as db:
        row, _ = mail.queue_mail(
            db,
            key="aftercare:1",
            to="ann@example.org",
            subject="Aftercare",
            text="Your plan is attached.\n",
            attachment=attachments.AFTERCARE_ICS,
            treatment_id=treatment.id,
        )
        db.commit()
        with pytest.raises(ValueError, match="needs a treatment_id"):
            mail.queue_mail(db, key="x", to="a@b.org", subject="s", text="t", attachment="aftercare.ics")
        with pytest.raises(ValueError, match="unknown attachment kind"):
            mail.queue_mail(
                db, key="y", to="a@b.org", subject="s", text="t", attachment="x.pdf", treatment_id=1
            )
        expected = attachments.aftercare_ics(db.get_one(Treatment, treatment.id))
    queue.enqueue("send_mail", row.id)
    start(queue, running)
    wait_for(lambda: _delivery(queue, "aftercare:1").status == mail.SENT)
    assert _delivery(queue, "aftercare:1").attempts == 2
    (received,) = sink.received
    (part,) = list(received.iter_attachments())
    assert (part.get_content_type(), part.get_filename()) == ("text/calendar", "aftercare.ics")
    got = Calendar.from_ical(part.get_payload(decode=True))
    want = Calendar.from_ical(expected)
    assert [(e["UID"], e.decoded("DTSTART")) for e in got.walk("VEVENT")] == [
        (e["UID"], e.decoded("DTSTART")) for e in want.walk("VEVENT")
    ]


def test_mail_whose_attachment_source_is_gone_fails_without_retries(
    tmp_path: Path, namespace: str, running: list[dramatiq.Worker], smtp: tuple[Sink, int]
) -> None:
    sink, port = smtp
    queue = make_queue(job_settings(tmp_path, namespace), port)
    with queue.ctx.sessions() as db:  # a row naming a treatment that does not exist (written by hand)
        db.add(
            MailDelivery(
                key="aftercare:9",
                to_address="ann@example.org",
                subject="s",
                body="b",
                attachment="aftercare.ics",
            )
        )
        db.commit()
    queue.enqueue("send_mail", _delivery(queue, "aftercare:9").id)
    start(queue, running)
    wait_for(lambda: _delivery(queue, "aftercare:9").status == mail.DEAD)
    row = _delivery(queue, "aftercare:9")
    assert row.attempts == 1  # a permanent error: not retried
    assert "is gone" in (row.error or "")
    assert sink.received == []
