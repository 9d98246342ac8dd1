"""One photo measured on two threads gives exactly what one thread gives; the helper thread is used only when
the process and the caller allow it."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from needlecare.imaging import parallel


def _thread_name() -> str:
    return threading.current_thread().name


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_process_threads", 2)


def test_beside_runs_on_the_helper_thread_when_two_are_allowed(two_threads: None) -> None:
    assert parallel.threads() == 2
    assert parallel.beside(_thread_name).result(timeout=10).startswith("needlecare-photo")


def test_beside_runs_in_the_caller_when_limited_to_one(two_threads: None) -> None:
    with parallel.at_most(1):
        assert parallel.threads() == 1
        future = parallel.beside(_thread_name)
        assert future.done()
        assert future.result() == threading.current_thread().name
    assert parallel.threads() == 2


def test_the_limit_belongs_to_the_thread_that_set_it(two_threads: None) -> None:
    seen: list[int] = []
    with parallel.at_most(1):
        other = threading.Thread(target=lambda: seen.append(parallel.threads()))
        other.start()
        other.join()
    assert seen == [2]


def test_set_threads_keeps_one_or_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "_process_threads", None)
    parallel.set_threads(8)
    assert parallel.process_threads() == parallel.MAX_THREADS
    parallel.set_threads(0)
    assert parallel.process_threads() == 1
    assert parallel.threads() == 1


@pytest.mark.parametrize("limit", [1, 2])
def test_errors_reach_the_caller(two_threads: None, limit: int) -> None:
    def fail() -> None:
        raise ValueError("broken step")

    with parallel.at_most(limit):
        future = parallel.beside(fail)
    with pytest.raises(ValueError, match="broken step"):
        future.result(timeout=10)


def test_one_photo_on_two_threads_is_measured_exactly_as_on_one(two_threads: None, faces_dir: Path) -> None:
    from needlecare.analysis.pipeline import measure_photo
    from needlecare.imaging.face import detect_faces, face_mesh, mesh_crops

    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "biden2.jpg")), cv2.COLOR_BGR2RGB)
    box = detect_faces(rgb)[0]
    # a box between grid values, so that the mesh runs on several crops, split over the two threads
    moved = next(
        b
        for dx in np.linspace(0, 40, 81)
        if len(mesh_crops(b := type(box)(box.x + dx, box.y + dx / 2, box.w, box.h, box.score))) >= 3
    )
    with parallel.at_most(1):
        one_boxes, one_mesh = detect_faces(rgb), face_mesh(rgb, moved)
        one_report = measure_photo(rgb)
    two_boxes, two_mesh = detect_faces(rgb), face_mesh(rgb, moved)
    two_report = measure_photo(rgb)
    assert two_boxes == one_boxes
    np.testing.assert_array_equal(two_mesh.points, one_mesh.points)
    assert two_report.to_dict() == one_report.to_dict()
