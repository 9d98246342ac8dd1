"""The face mesh's input crop is snapped to fixed image grids, so that small changes of the detector's box do
not move the landmarks (a moved crop moves MediaPipe's whole mesh by ~1-2 px, as much as a changed face)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.imaging.face import (
    MESH_INPUT_SIDE,
    FaceBox,
    _mesh_in_crop,
    detect_faces,
    face_mesh,
    mesh_crops,
)

boxes = st.builds(
    FaceBox,
    x=st.floats(0, 3000),
    y=st.floats(0, 3000),
    w=st.floats(40, 2000),
    h=st.floats(40, 2000),
    score=st.just(0.9),
)


@given(boxes)
def test_crop_weights_sum_to_one_and_crops_cover_the_box(box: FaceBox) -> None:
    crops = mesh_crops(box)
    assert 1 <= len(crops) <= 6
    assert sum(weight for _, weight in crops) == pytest.approx(1.0)
    for transform, weight in crops:
        assert weight > 0
        scale = transform[0, 0]
        side = MESH_INPUT_SIDE / scale
        # the crop is about 1.9 box sides (snapped by at most a grid step) and contains the whole box
        assert 1.9 / 1.15 * max(box.w, box.h) <= side <= 1.9 * 1.15 * max(box.w, box.h)
        corners = np.array([[box.x, box.y], [box.x + box.w, box.y + box.h]])
        mapped = corners * scale + transform[:, 2]
        assert (mapped >= -1e-6).all()
        assert (mapped <= MESH_INPUT_SIDE + 1e-6).all()


def _blended_centre(box: FaceBox) -> np.ndarray:
    """Weighted mean crop centre (image px): where the blended crops look."""
    centres = [
        (MESH_INPUT_SIDE / 2 - transform[:, 2]) / transform[0, 0] * weight
        for transform, weight in mesh_crops(box)
    ]
    return np.sum(centres, axis=0)


@settings(max_examples=200)
@given(boxes, st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))
def test_crops_change_continuously_with_the_box(box: FaceBox, dx: float, dy: float) -> None:
    """A box moved by up to 1 px moves the blended crop centre by at most a fraction of the grid step per px
    (never a jump of a whole grid step, ~0.19 box sides)."""
    moved = replace(box, x=box.x + dx, y=box.y + dy)
    step = 0.1 * 1.9 * max(box.w, box.h) * 1.15
    shift = np.abs(_blended_centre(moved) - _blended_centre(box)).max()
    # the blend ramps over half a grid step: <= 2 px of centre per px of box, plus dropped tiny weights
    # (< 0.03 of a step each, on either side)
    assert shift <= 2.0 * max(abs(dx), abs(dy)) + 0.06 * step


def test_small_box_changes_keep_the_crops_and_barely_change_their_weights() -> None:
    """Detector jitter (+-1.5 px on a 500-px box) keeps the same crops in nine cases out of ten, with
    weights that change by less than 0.1 (the rest cross a grid value where a crop is added or dropped)."""
    rng = np.random.default_rng(1)
    kept = 0
    for _ in range(300):
        box = FaceBox(*rng.uniform(200, 2000, 2), 500.0, 500.0, 0.9)
        jitter = rng.uniform(-1.5, 1.5, 4)
        moved = FaceBox(box.x + jitter[0], box.y + jitter[1], box.w + jitter[2], box.h + jitter[3], 0.9)
        a, b = mesh_crops(box), mesh_crops(moved)
        kept += len(a) == len(b) and all(
            np.array_equal(ta, tb) and abs(wa - wb) < 0.1 for (ta, wa), (tb, wb) in zip(a, b, strict=True)
        )
    assert kept >= 0.9 * 300, kept


def test_snapped_mesh_is_steadier_than_a_crop_that_follows_the_box(faces_dir: Path) -> None:
    rgb = cv2.cvtColor(cv2.imread(str(faces_dir / "biden2.jpg")), cv2.COLOR_BGR2RGB)
    box = detect_faces(rgb)[0]
    snapped_moves, following_moves = [], []
    for dx, dy in ((1.0, 0.0), (0.0, 1.0), (-1.0, 1.0), (1.5, -0.5)):
        moved = replace(box, x=box.x + dx, y=box.y + dy)
        snapped_moves.append(np.abs(face_mesh(rgb, moved).xy - face_mesh(rgb, box).xy).mean())
        following = []
        for b in (box, moved):
            side = 1.9 * max(b.w, b.h)
            scale = MESH_INPUT_SIDE / side
            cx, cy = b.x + b.w / 2, b.y + b.h / 2
            transform = np.array(
                [[scale, 0, MESH_INPUT_SIDE / 2 - scale * cx], [0, scale, MESH_INPUT_SIDE / 2 - scale * cy]]
            )
            points = _mesh_in_crop(rgb, transform)
            assert points is not None
            following.append(points[:, :2])
        following_moves.append(np.abs(following[1] - following[0]).mean())
    # a crop that follows the box moves the mesh by ~0.5-0.8 px per px; the snapped one by ~0.03 px
    assert np.mean(following_moves) > 0.3
    assert np.mean(snapped_moves) < 0.2 * np.mean(following_moves), (snapped_moves, following_moves)
