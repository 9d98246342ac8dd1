"""Day-to-day follow-ups of a baseline photo with known added haemoglobin (the baseline-delta ground truth).

A follow-up is the baseline photo with haemoglobin absorption of a known dose (OD_hb) added over the whole
measured skin (not the eyes or lips), then one change that happens between two days of photos: white
balance (warm, cool), exposure (x0.75, x1.3), a camera move (shift and zoom), a planar head turn (rotation in
the image plane about the face), a phone-size 4:2:0 JPEG at quality 92, or all of them at once. The
baseline delta should equal the dose; its error is ``delta - dose``.

The baseline is each photo at 0.8x exposure, so that x1.3 and a warmer light do not clip skin (clipping is
flagged separately).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image
from synthetic import add_absorption, apply_gain

from needlecare.analysis.pipeline import compare_photos, measure_photo
from needlecare.analysis.report import PhotoReport
from needlecare.hints import ImageU8
from needlecare.imaging.redness import chromophores

#: Doses of added haemoglobin, OD_hb.
DOSES = (0.0, 0.1, 0.2)
#: Exposure of the baseline relative to the photo as published.
BASELINE_EXPOSURE = 0.8
WARM, COOL = (1.12, 1.0, 0.9), (0.9, 1.0, 1.12)
#: Camera move: shift (px, as a fraction of the photo's width and height) and zoom.
MOVE_SHIFT, MOVE_ZOOM = (0.013, -0.009), 0.95
#: Planar head turn, degrees (in the image plane, about the face centre).
TURN_DEGREES = 7.0
JPEG_QUALITY = 92

Followup = ImageU8 | bytes


def _affine(rgb: ImageU8, matrix: np.ndarray) -> ImageU8:
    height, width = rgb.shape[:2]
    return cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def camera_move(rgb: ImageU8) -> ImageU8:
    """The scene shifted by :data:`MOVE_SHIFT` and zoomed by :data:`MOVE_ZOOM` about the photo's centre."""
    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0.0, MOVE_ZOOM)
    matrix[:, 2] += (MOVE_SHIFT[0] * width, MOVE_SHIFT[1] * height)
    return _affine(rgb, matrix)


def head_turn(rgb: ImageU8, centre: tuple[float, float]) -> ImageU8:
    """The photo turned by :data:`TURN_DEGREES` about *centre* (x, y px)."""
    return _affine(rgb, cv2.getRotationMatrix2D(centre, TURN_DEGREES, 1.0))


def jpeg(rgb: ImageU8, quality: int = JPEG_QUALITY) -> bytes:
    """The photo saved as a 4:2:0 JPEG (as phones save them)."""
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality, subsampling=2)
    return buffer.getvalue()


def changes(centre: tuple[float, float]) -> dict[str, Callable[[ImageU8], Followup]]:
    """The named day-to-day changes; *centre* is the face centre (x, y px) for the head turn."""

    def everything(rgb: ImageU8) -> bytes:
        moved = head_turn(camera_move(apply_gain(rgb, tuple(0.75 * g for g in WARM))), centre)
        return jpeg(moved)

    return {
        "none": lambda rgb: rgb,
        "warm": lambda rgb: apply_gain(rgb, WARM),
        "cool": lambda rgb: apply_gain(rgb, COOL),
        "exposure_0.75": lambda rgb: apply_gain(rgb, (0.75, 0.75, 0.75)),
        "exposure_1.3": lambda rgb: apply_gain(rgb, (1.3, 1.3, 1.3)),
        "camera_move": camera_move,
        "head_turn": lambda rgb: head_turn(rgb, centre),
        "jpeg_q92": jpeg,
        "all": everything,
    }


@dataclass(frozen=True)
class Outcome:
    """One follow-up compared with its baseline."""

    face: str
    change: str
    dose: float
    delta: float
    comparable: bool
    matched: bool
    lighting_differs: bool

    @property
    def error(self) -> float:
        return self.delta - self.dose


def run_face(
    name: str,
    rgb: ImageU8,
    skin_weight: np.ndarray,
    centre: tuple[float, float],
    only: tuple[str, ...] = (),
    doses: tuple[float, ...] = DOSES,
) -> list[Outcome]:
    """Every change (or only those named) at every dose (or the doses given) for one face."""
    start = apply_gain(rgb, (BASELINE_EXPOSURE,) * 3)
    baseline = measure_photo(start)
    outcomes = []
    for dose in doses:
        dosed = add_absorption(start, skin_weight, chromophores().haemoglobin, dose) if dose else start
        for change, apply in changes(centre).items():
            if only and change not in only:
                continue
            outcomes.append(_outcome(name, change, dose, compare(apply(dosed), baseline)))
    return outcomes


def compare(follow_up: Followup, baseline: PhotoReport) -> PhotoReport:
    return compare_photos(measure_photo(follow_up), baseline)


def _outcome(name: str, change: str, dose: float, report: PhotoReport) -> Outcome:
    comparison = report.baseline
    assert comparison is not None
    return Outcome(
        face=name,
        change=change,
        dose=dose,
        delta=comparison.delta,
        comparable=comparison.comparable,
        matched=report.reference.kind == "in_photo",
        lighting_differs=comparison.lighting_differs,
    )


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    """Median, 90th percentile and largest absolute error of the comparable outcomes, and the refusal rate."""
    errors = np.abs([o.error for o in outcomes if o.comparable])
    refused = sum(not o.comparable for o in outcomes) / len(outcomes)
    if not len(errors):
        return {"median": float("nan"), "p90": float("nan"), "max": float("nan"), "refused": refused}
    return {
        "median": float(np.median(errors)),
        "p90": float(np.percentile(errors, 90)),
        "max": float(errors.max()),
        "refused": refused,
    }
