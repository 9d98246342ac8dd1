"""The background runner of the web app without a broker: photos measured in worker processes, mail from a
thread, both after the enqueuing call has returned."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from needlecare.jobs.queue import ANALYSE_PHOTO, SEND_MAIL, JobQueue
from needlecare.jobs.runner import WORKER_NICENESS
from needlecare.storage.models import MailDelivery, Photo

from .conftest import add_pending_photo, add_user, job_settings, make_queue, queue_test_mail, wait_for


@pytest.fixture
def background(tmp_path: Path) -> Iterator[JobQueue]:
    settings = job_settings(tmp_path, None, job_runner="background", worker_processes=1)
    inline = make_queue(settings)  # migrates the database
    queue = JobQueue(inline.ctx, None, background=True)
    try:
        yield queue
    finally:
        queue.close()


def _photo(queue: JobQueue, photo_id: int) -> Photo:
    with queue.ctx.sessions() as db:
        photo = db.get(Photo, photo_id)
        assert photo is not None
        return photo


def test_photo_is_measured_in_a_worker_process(background: JobQueue) -> None:
    treatment = add_user(background, "ann@example.org", treated_on=dt.date(2026, 11, 1))
    photo = add_pending_photo(background, treatment)
    assert background.background is not None

    assert background.enqueue(ANALYSE_PHOTO, photo.id) is True
    wait_for(lambda: _photo(background, photo.id).analysis_status == "done", timeout_s=90)

    stored = _photo(background, photo.id)
    assert stored.analysis is not None
    assert stored.analysis.index is not None
    assert stored.analysis.index > 0
    assert stored.heatmap_path is not None
    assert background.ctx.store.path(stored.heatmap_path).is_file()
    pids = [p.pid for p in background.background.processes()._processes.values()]
    assert pids
    assert os.getpid() not in pids
    base = os.getpriority(os.PRIO_PROCESS, 0)
    assert all(os.getpriority(os.PRIO_PROCESS, pid) == base + WORKER_NICENESS for pid in pids)


def test_a_photo_that_cannot_be_measured_is_marked_failed(background: JobQueue, tmp_path: Path) -> None:
    import cv2
    import numpy as np

    treatment = add_user(background, "bo@example.org", treated_on=dt.date(2026, 11, 1))
    wall = np.zeros((480, 480, 3), np.uint8)
    wall[:] = (90, 140, 200)  # a blue wall: colour, no face
    jpeg = cv2.imencode(".jpg", wall)[1].tobytes()
    photo = add_pending_photo(background, treatment, jpeg)

    background.enqueue(ANALYSE_PHOTO, photo.id)
    wait_for(lambda: _photo(background, photo.id).analysis_status == "failed", timeout_s=90)
    assert "no face" in (_photo(background, photo.id).analysis_error or "")


def test_mail_goes_out_from_the_mail_thread(background: JobQueue) -> None:
    delivery_id = queue_test_mail(background)

    assert background.enqueue(SEND_MAIL, delivery_id) is True
    background.close()  # waits for the jobs already handed over

    with background.ctx.sessions() as db:
        delivery = db.get(MailDelivery, delivery_id)
        assert delivery is not None
        assert delivery.status == "sent"
    assert len(list((background.ctx.settings.data_dir / "outbox").glob("*.eml"))) == 1


def test_stopping_leaves_the_photos_not_yet_started_pending(background: JobQueue) -> None:
    treatment = add_user(background, "cy@example.org", treated_on=dt.date(2026, 11, 1))
    photos = [add_pending_photo(background, treatment) for _ in range(4)]
    for photo in photos:
        background.enqueue(ANALYSE_PHOTO, photo.id)

    background.close()  # one worker process, still loading MediaPipe: most photos have not started

    statuses = [_photo(background, photo.id).analysis_status for photo in photos]
    assert "pending" in statuses
    assert set(statuses) <= {"pending", "done"}
