"""The baseline delta under the changes between two days of photos, with known added haemoglobin.

A subset of the benchmark's matrix (benchmarks/bench_baseline_delta.py prints all six faces x every change
x doses 0, 0.1, 0.2): two faces whose small eyes once let resampling pass for a change of light, one dose.
The goal figures: error <= 0.01 OD_hb at the 90th percentile and <= 0.03 at most, no light match when the
light did not change, no refusal of a 10-15 % white-balance change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from day_to_day import Outcome, run_face, summary
from face_fixtures import load_face
from test_ground_truth import whole_skin_weight

P90_ERROR, MAX_ERROR = 0.01, 0.03  # OD_hb
#: Changes that leave the light's colour as it was.
SAME_LIGHT = ("none", "exposure_0.75", "exposure_1.3", "camera_move", "head_turn", "jpeg_q92")
LIGHT_CHANGES = ("warm", "cool", "all")


@pytest.fixture(scope="module")
def outcomes(faces_dir: Path) -> list[Outcome]:
    found: list[Outcome] = []
    for name in ("obama.jpg", "alex_lacamoire1.jpg"):
        face = load_face(faces_dir, name)
        centre = tuple(np.argwhere(face.regions.skin).mean(axis=0)[::-1].tolist())
        found += run_face(name, face.rgb, whole_skin_weight(face), centre, doses=(0.1,))  # type: ignore[arg-type]
    return found


def test_no_light_match_when_the_light_did_not_change(outcomes: list[Outcome]) -> None:
    same = [o for o in outcomes if o.change in SAME_LIGHT]
    assert len(same) == 12
    assert not [(o.face, o.change) for o in same if o.matched or o.lighting_differs]


def test_white_balance_changes_are_matched_not_refused(outcomes: list[Outcome]) -> None:
    changed = [o for o in outcomes if o.change in LIGHT_CHANGES]
    assert summary(changed)["refused"] == 0.0
    assert all(o.matched and o.lighting_differs for o in changed)


def test_baseline_delta_error_meets_the_goal(outcomes: list[Outcome]) -> None:
    figures = summary(outcomes)
    assert figures["refused"] == 0.0
    assert figures["p90"] <= P90_ERROR, figures
    assert figures["max"] <= MAX_ERROR, figures
