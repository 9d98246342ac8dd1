"""How a 12-MP JPEG is decoded for measuring: once at 1/2 scale, again only for a face too small there, and
faces the detectors miss on the whole photo found in its tiles (no timing here; benchmarks/ times it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import needlecare.analysis.pipeline as pipeline
from needlecare.imaging.loading import LoadedPhoto

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_analyze.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_analyze", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_analyze", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def eyes_per_box(bench: ModuleType, faces_dir: Path) -> float:
    return float(bench.source_eye_distance(faces_dir / "obama.jpg"))


class Calls:
    """Records every load_photo call's scale and every detection on a whole photo."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.scales: list[float] = []
        self.detections = 0
        self.tiled = 0
        self.measured: list[float] = []
        load, largest, tiles = pipeline.load_photo, pipeline._find_face, pipeline._tile_boxes
        measure = pipeline._measure

        def counted_load(*args: Any, **kwargs: Any) -> LoadedPhoto:
            loaded = load(*args, **kwargs)
            self.scales.append(loaded.scale)
            return loaded

        def counted_largest(*args: Any) -> Any:
            self.detections += 1
            return largest(*args)

        def counted_tiles(*args: Any) -> Any:
            self.tiled += 1
            return tiles(*args)

        def counted_measure(loaded: LoadedPhoto, *args: Any) -> Any:
            self.measured.append(loaded.scale)
            return measure(loaded, *args)

        monkeypatch.setattr(pipeline, "_measure", counted_measure)
        monkeypatch.setattr(pipeline, "load_photo", counted_load)
        monkeypatch.setattr(pipeline, "_find_face", counted_largest)
        monkeypatch.setattr(pipeline, "_tile_boxes", counted_tiles)


def test_a_face_of_150_px_is_measured_from_one_half_scale_decode(
    bench: ModuleType, faces_dir: Path, tmp_path: Path, eyes_per_box: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = bench.build_eye_distance_photo(faces_dir / "obama.jpg", tmp_path / "p.jpg", 150, eyes_per_box)
    calls = Calls(monkeypatch)
    report = pipeline.measure_photo(photo)
    assert calls.scales == [0.5]
    assert calls.detections == 1
    assert calls.measured == [0.5]
    assert report.frame.native_eye_distance == pytest.approx(150, rel=0.05)
    assert report.face.box[2] > 150  # the box is given in full-resolution pixels


def test_a_face_too_small_at_half_scale_is_decoded_once_more_without_a_second_detection(
    bench: ModuleType, faces_dir: Path, tmp_path: Path, eyes_per_box: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = bench.build_eye_distance_photo(faces_dir / "obama.jpg", tmp_path / "p.jpg", 80, eyes_per_box)
    calls = Calls(monkeypatch)
    report = pipeline.measure_photo(photo)
    assert calls.scales == [0.5, 1.0]
    assert calls.detections == 1
    assert report.frame.native_eye_distance == pytest.approx(80, rel=0.05)
    assert report.frame.native_eye_distance * 0.5 < pipeline.REDECODE_BELOW_EYE_DISTANCE
    assert calls.measured == [1.0]  # measured once, on the larger decode only


def test_a_face_too_small_for_the_whole_photo_detection_is_found_in_its_tiles(
    bench: ModuleType, faces_dir: Path, tmp_path: Path, eyes_per_box: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At an eye distance of 45 px in 12 MP the detectors, which see the whole photo at 192 px, miss the
    face; in a tile a quarter of the photo's area they find it."""
    photo = bench.build_eye_distance_photo(faces_dir / "obama.jpg", tmp_path / "p.jpg", 45, eyes_per_box)
    calls = Calls(monkeypatch)
    report = pipeline.measure_photo(photo)
    assert calls.tiled == 1
    assert calls.detections == 1
    assert calls.scales == [0.5, 1.0]  # 22 px at 1/2 scale: measured on a full-size decode
    assert report.frame.native_eye_distance == pytest.approx(45, rel=0.05)


def test_batch_needs_at_least_one_job() -> None:
    from needlecare.analysis.batch import BatchAnalyzer

    with pytest.raises(ValueError, match="at least 1"):
        BatchAnalyzer(0)


def test_worker_processes_default_to_the_cores_and_follow_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import os

    from needlecare.analysis.batch import default_jobs
    from needlecare.settings import Settings

    cores = len(os.sched_getaffinity(0))
    assert default_jobs() == cores
    assert Settings().jobs.worker_processes == cores
    monkeypatch.setenv("NEEDLECARE_WORKER_PROCESSES", "3")
    assert Settings().jobs.worker_processes == 3
    monkeypatch.setenv("NEEDLECARE_WORKER_PROCESSES", "0")
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        Settings()
