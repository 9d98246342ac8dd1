"""One photo measured on two threads gives exactly what one thread gives; the helper thread is used only when
the process allows it."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from needlecare.imaging import parallel


def _thread_name() -> str:
    return threading.current_thread().name


def _use(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    monkeypatch.setattr(parallel, "_threads", count)


def test_beside_runs_on_the_helper_thread_when_two_are_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, 2)
    assert parallel.beside(_thread_name).result(timeout=10).startswith("needlecare-photo")


def test_beside_runs_in_the_caller_on_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, 1)
    future = parallel.beside(_thread_name)
    assert future.done()
    assert future.result() == threading.current_thread().name


def test_set_threads_keeps_one_or_two(monkeypatch: pytest.MonkeyPatch) -> None:
    _use(monkeypatch, None)  # type: ignore[arg-type]
    parallel.set_threads(8)
    assert parallel.threads() == parallel.MAX_THREADS
    parallel.set_threads(0)
    assert parallel.threads() == 1


@pytest.mark.parametrize("count", [1, 2])
def test_errors_reach_the_caller(monkeypatch: pytest.MonkeyPatch, count: int) -> None:
    _use(monkeypatch, count)

    def fail() -> None:
        raise ValueError("broken step")

    future = parallel.beside(fail)
    with pytest.raises(ValueError, match="broken step"):
        future.result(timeout=10)


def test_one_photo_on_two_threads_is_measured_exactly_as_on_one(
    monkeypatch: pytest.MonkeyPatch, faces_dir: Path
) -> None:
    from needlecare.analysis.pipeline import measure_photo
    from needlecare.imaging.face import FaceBox, detect_faces, face_mesh, mesh_crops

    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "biden2.jpg")), cv2.COLOR_BGR2RGB)
    box = detect_faces(rgb)[0]
    # a box between grid values, so that the mesh runs on several crops, split over the two threads
    moved = next(
        b
        for dx in np.linspace(0, 40, 81)
        if len(mesh_crops(b := FaceBox(box.x + dx, box.y + dx / 2, box.w, box.h, box.score))) >= 3
    )
    measured = {}
    for count in (1, 2):
        _use(monkeypatch, count)
        measured[count] = (detect_faces(rgb), face_mesh(rgb, moved).points, measure_photo(rgb).to_dict())
    (one_boxes, one_mesh, one_report), (two_boxes, two_mesh, two_report) = measured[1], measured[2]
    assert two_boxes == one_boxes
    np.testing.assert_array_equal(two_mesh, one_mesh)
    assert two_report == one_report
