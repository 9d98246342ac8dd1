"""The analysis job measures a treatment's stored baseline file once, not with every follow-up."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import needlecare.analysis.pipeline as pipeline
from needlecare.jobs import photos


def test_a_baseline_file_is_measured_once_until_it_changes(
    faces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = tmp_path / "baseline.jpg"
    shutil.copy(faces_dir / "obama.jpg", baseline)
    follow_up = (faces_dir / "obama2.jpg").read_bytes()
    measured: list[object] = []
    real = pipeline.measure_photo

    def counted(source: object) -> object:
        measured.append(source)
        return real(source)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "measure_photo", counted)
    photos._baseline_report.cache_clear()
    first = photos.measure(follow_up, baseline, heatmap=False)
    second = photos.measure(follow_up, baseline, heatmap=False)
    assert measured.count(str(baseline)) == 1
    assert first.report == second.report
    assert first.report["baseline"] is not None

    shutil.copy(faces_dir / "biden.jpg", baseline)  # same path, other picture: measured again
    stat = baseline.stat()
    os.utime(baseline, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    photos.measure(follow_up, baseline, heatmap=False)
    assert measured.count(str(baseline)) == 2


def test_a_missing_baseline_file_is_skipped(faces_dir: Path, tmp_path: Path) -> None:
    analysis = photos.measure((faces_dir / "obama.jpg").read_bytes(), tmp_path / "gone.jpg", heatmap=False)
    assert analysis.report.get("baseline") is None


def test_the_upload_gate_and_the_job_measure_the_same_bytes_once(
    faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jpeg = (faces_dir / "obama.jpg").read_bytes()
    other = (faces_dir / "biden.jpg").read_bytes()
    measured: list[bytes] = []
    real = pipeline.measure_photo

    def counted(source: bytes) -> object:
        measured.append(source)
        return real(source)

    monkeypatch.setattr(pipeline, "measure_photo", counted)
    photos._recent.clear()
    gate = photos.measure(jpeg, heatmap=False)
    job = photos.measure(jpeg, heatmap=True)
    assert len(measured) == 1
    assert job.report == gate.report
    assert job.heatmap_jpeg is not None
    for _ in range(photos.RECENT_REPORTS):  # pushed out by as many other photos
        photos.measure(other + bytes(len(measured)), heatmap=False)
    photos.measure(jpeg, heatmap=False)
    assert measured.count(jpeg) == 2
