"""Heatmaps: one colour scale per treatment (its baseline's), drawn on the face at a phone's resolution."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from needlecare.analysis.pictures import (
    HEADROOM,
    PICTURE_EYE_DISTANCE,
    face_picture,
    overlay,
    treatment_scale,
)
from needlecare.analysis.pipeline import FRAME_EYE_DISTANCE
from needlecare.jobs import photos


def _enlarged(path: Path, factor: int) -> bytes:
    with Image.open(path) as image:
        big = image.convert("RGB").resize(
            (image.width * factor, image.height * factor), Image.Resampling.LANCZOS
        )
    out = io.BytesIO()
    big.save(out, format="JPEG", quality=95)
    return out.getvalue()


def test_a_large_face_is_drawn_finer_than_the_analysis_frame_and_in_register(faces_dir: Path) -> None:
    jpeg = _enlarged(faces_dir / "obama.jpg", 4)
    report = photos.photo_report(jpeg)
    frame = report.frame
    assert frame.native_eye_distance > PICTURE_EYE_DISTANCE
    scale = treatment_scale(report)
    picture = face_picture(jpeg, report, scale=scale)
    height, width = frame.index_map.shape
    factor = PICTURE_EYE_DISTANCE / FRAME_EYE_DISTANCE
    assert abs(picture.shape[0] - height * factor) <= 1
    # The photo part (the legend is appended on the right) shows the same place as the frame: unpainted
    # pixels, reduced to the frame's size, match the frame's own pixels.
    photo_part = picture[:, : round(width * factor)]
    reduced = np.asarray(
        Image.fromarray(photo_part).resize((width, height), Image.Resampling.BOX), dtype=float
    )
    untouched = ~frame.valid
    untouched[: height // 8] = False  # the title band
    for mask in frame.regions.values():  # outlines and names of the regions
        untouched &= ~mask
    difference = np.abs(reduced - frame.rgb.astype(float)).mean(axis=2)[untouched]
    assert difference.size > 1000
    assert float(np.median(difference)) < 6.0


def test_a_small_face_keeps_the_frame_picture(faces_dir: Path) -> None:
    jpeg = (faces_dir / "obama-480p.jpg").read_bytes()
    report = photos.photo_report(jpeg)
    assert report.frame.native_eye_distance < FRAME_EYE_DISTANCE
    scale = treatment_scale(report)
    assert np.array_equal(face_picture(jpeg, report, scale=scale), overlay(report, scale=scale))


def test_every_photo_of_a_treatment_gets_its_baselines_colour_scale(faces_dir: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.jpg"
    shutil.copy(faces_dir / "obama.jpg", baseline)
    photos._baseline_report.cache_clear()
    first = photos.measure((faces_dir / "obama2.jpg").read_bytes(), baseline)
    second = photos.measure((faces_dir / "obama3.jpg").read_bytes(), baseline)
    alone = photos.measure(baseline.read_bytes())  # the baseline photo itself
    scales = [a.report["heatmap_scale"] for a in (first, second, alone)]
    assert scales[0] == scales[1]
    assert (scales[0]["min"], scales[0]["max"]) == (scales[2]["min"], scales[2]["max"])
    assert [s["from"] for s in scales] == ["baseline", "baseline", "this photo"]
    low, high = treatment_scale(photos.photo_report(baseline.read_bytes()))
    assert scales[0]["min"] == pytest.approx(low, abs=1e-4)
    assert scales[0]["max"] == pytest.approx(high, abs=1e-4)
    assert high - low > HEADROOM
    for analysis in (first, second):
        assert analysis.heatmap_jpeg is not None
        assert Image.open(io.BytesIO(analysis.heatmap_jpeg)).format == "JPEG"
