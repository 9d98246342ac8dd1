"""Fixtures for the analysis tests: real faces with their landmarks and region masks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from needlecare.analysis.pipeline import _largest_face
from needlecare.hints import ImageU8
from needlecare.imaging.regions import FaceRegions, build_regions

#: Frontal single-face photos used for ground truth.
GROUND_TRUTH_FACES = (
    "obama.jpg",
    "obama2.jpg",
    "obama3.jpg",
    "biden.jpg",
    "biden2.jpg",
    "alex_lacamoire1.jpg",
)


@dataclass(frozen=True)
class Face:
    name: str
    rgb: ImageU8
    regions: FaceRegions


def load_face(faces_dir: Path, name: str) -> Face:
    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / name)), cv2.COLOR_BGR2RGB)
    landmarks, _ = _largest_face(rgb)
    return Face(name, np.ascontiguousarray(rgb), build_regions(landmarks.xy, rgb.shape[:2]))
