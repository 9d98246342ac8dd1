"""Face detection and the 478-point face mesh, with the models MediaPipe 0.10.14 ships inside its wheel.

Detection runs both of MediaPipe's face detectors: the full-range model (which finds small faces in large
photos, where the short-range model alone misses them) and the short-range model (better on close, large
faces); their boxes are merged. The largest face is then cropped with a margin, scaled to a fixed size and
given to the face mesh, whose landmarks are mapped back to the photo's pixel coordinates. The two detectors,
and the mesh on two crops, run side by side when a photo is measured on two threads
(:mod:`needlecare.imaging.parallel`); each thread has its own graphs, so the results are the same.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np

from needlecare.hints import Float64Array, FloatArray, ImageU8
from needlecare.imaging import parallel
from needlecare.imaging.errors import NoFaceError
from needlecare.imaging.validation import check_rgb8

#: Side of the square image given to the face mesh, px (its own input is 192 px; 384 keeps detail for the
#: crop detector).
MESH_INPUT_SIDE = 384
#: The mesh crop spans this many face-box widths around the detected box centre.
MESH_CROP_MARGIN = 1.9
#: The crop side is snapped to powers of this factor, its centre to multiples of this fraction of the side,
#: and two grid values are blended across this fraction of a grid step around their midpoint.
MESH_SIDE_STEP, MESH_CENTRE_STEP, MESH_GRID_BLEND = 1.15, 0.1, 0.5
#: Crops whose blend weight is below this are not run (their landmarks would move the result < 0.1 px).
MESH_MIN_CROP_WEIGHT = 0.03
_MIN_DETECTION_SCORE = 0.5
#: The short-range model produces confident false positives on textured backgrounds; it only adds faces the
#: full-range model missed when it is this sure.
_MIN_SHORT_RANGE_EXTRA_SCORE = 0.8
_MERGE_IOU = 0.3
_build_lock = threading.Lock()


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box in pixels ``(x, y, w, h)`` of the analysed image, and the detector's score."""

    x: float
    y: float
    w: float
    h: float
    score: float

    @property
    def area(self) -> float:
        return self.w * self.h

    def iou(self, other: FaceBox) -> float:
        """Intersection over union with *other* (0-1)."""
        x0, y0 = max(self.x, other.x), max(self.y, other.y)
        x1, y1 = min(self.x + self.w, other.x + other.w), min(self.y + self.h, other.y + other.h)
        inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class FaceLandmarks:
    """Face mesh of one face.

    Attributes
    ----------
    points : (478, 3) float32
        x, y in pixels of the analysed image; z in pixels too (MediaPipe's relative depth, same scale as x),
        smaller = closer to the camera.
    box : FaceBox
        The detection the mesh was run on.
    """

    points: FloatArray
    box: FaceBox

    @property
    def xy(self) -> FloatArray:
        """(478, 2) float32 pixel coordinates."""
        result: FloatArray = self.points[:, :2]
        return result


@contextlib.contextmanager
def _native_stderr_captured() -> Iterator[None]:
    """Capture what native code writes to file descriptor 2 (MediaPipe's and TensorFlow Lite's start-up
    logs: "Created TensorFlow Lite XNNPACK delegate", "Feedback manager requires ..."), so that a command's
    stderr holds only its own messages; the captured text is written out after all if the block fails."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            os.write(2, captured.read())
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _Graph:
    """One MediaPipe graph, run by one thread at a time."""

    def __init__(self, solution: Any) -> None:
        self.solution = solution
        self.lock = threading.Lock()

    def process(self, rgb: ImageU8) -> Any:
        with self.lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return self.solution.process(np.ascontiguousarray(rgb))


@dataclass(frozen=True)
class _Graphs:
    """The process's MediaPipe graphs: both detectors, and one face mesh per thread a photo is measured on
    (:func:`needlecare.imaging.parallel.threads`), handed out by :meth:`mesh`."""

    full_range: _Graph
    short_range: _Graph
    free_meshes: queue.SimpleQueue[_Graph]

    @contextlib.contextmanager
    def mesh(self) -> Iterator[_Graph]:
        """A face mesh graph no other thread is using, for the duration of the block."""
        graph = self.free_meshes.get()
        try:
            yield graph
        finally:
            self.free_meshes.put(graph)


@cache
def _graphs() -> _Graphs:
    """The MediaPipe graphs, built once per process and run once on a blank image, which is when they print
    their start-up logs (captured; see :func:`_native_stderr_captured`)."""
    with _build_lock, _native_stderr_captured(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import mediapipe as mp

        full_range = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=_MIN_DETECTION_SCORE
        )
        short_range = mp.solutions.face_detection.FaceDetection(
            model_selection=0, min_detection_confidence=_MIN_DETECTION_SCORE
        )
        meshes = [
            mp.solutions.face_mesh.FaceMesh(
                static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.3
            )
            for _ in range(parallel.threads())
        ]
        blank = np.zeros((64, 64, 3), dtype=np.uint8)
        free_meshes: queue.SimpleQueue[_Graph] = queue.SimpleQueue()
        for solution in (full_range, short_range, *meshes):
            solution.process(blank)
        for mesh in meshes:
            free_meshes.put(_Graph(mesh))
    return _Graphs(_Graph(full_range), _Graph(short_range), free_meshes)


def warm_up() -> None:
    """Build MediaPipe's graphs now (once per process), so that the first photo does not wait for them."""
    _graphs()


def detect_faces(rgb: ImageU8) -> list[FaceBox]:
    """All faces in an image, largest first.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        sRGB image.

    Returns
    -------
    list of FaceBox
        Boxes in pixels of *rgb*, clipped to the image, largest first; empty when no face is found.

    Raises
    ------
    TypeError, ValueError
        *rgb* is not an (H, W, 3) uint8 image (:func:`~needlecare.imaging.validation.check_rgb8`).
    """
    rgb = check_rgb8(rgb, image=True)
    height, width = rgb.shape[:2]
    graphs = _graphs()
    short_range = parallel.beside(graphs.short_range.process, rgb)
    full_range = graphs.full_range.process(rgb)
    boxes: list[FaceBox] = []
    for result, min_score in (
        (full_range, _MIN_DETECTION_SCORE),
        (short_range.result(), _MIN_SHORT_RANGE_EXTRA_SCORE),
    ):
        for detection in result.detections or []:
            if detection.score[0] < min_score:
                continue
            rel = detection.location_data.relative_bounding_box
            x0, y0 = max(0.0, rel.xmin * width), max(0.0, rel.ymin * height)
            x1, y1 = (
                min(float(width), (rel.xmin + rel.width) * width),
                min(float(height), (rel.ymin + rel.height) * height),
            )
            if x1 - x0 < 4 or y1 - y0 < 4:
                continue
            candidate = FaceBox(x0, y0, x1 - x0, y1 - y0, float(detection.score[0]))
            if all(candidate.iou(kept) < _MERGE_IOU for kept in boxes):
                boxes.append(candidate)
    return sorted(boxes, key=lambda box: box.area, reverse=True)


def _grid_ramp(value: float, step: float) -> tuple[float, float, float]:
    """Snap *value* to a grid of *step*: the grid values below and above it, and the weight of the one above,
    which ramps linearly from 0 to 1 across :data:`MESH_GRID_BLEND` of a step around their midpoint."""
    position = value / step
    below = float(np.floor(position))
    ramp = float(np.clip((position - below - 0.5 + MESH_GRID_BLEND / 2) / MESH_GRID_BLEND, 0.0, 1.0))
    return below * step, (below + 1) * step, ramp


def _centre_options(cx: float, cy: float, step: float) -> list[tuple[float, float, float]]:
    """Grid centres ``(x, y, weight)`` that blend to the centre (*cx*, *cy*): at most three.

    The two ramps are interpolated on the triangles of the unit square split along its diagonal (the corners
    ``(0, 0)``, the corner of the larger ramp, ``(1, 1)``), which is continuous like bilinear interpolation
    but needs three crops where that needs four, and two where one ramp is 0 or 1.
    """
    x0, x1, rx = _grid_ramp(cx, step)
    y0, y1, ry = _grid_ramp(cy, step)
    middle = (x1, y0) if rx >= ry else (x0, y1)
    options = [
        (x0, y0, 1.0 - max(rx, ry)),
        (*middle, abs(rx - ry)),
        (x1, y1, min(rx, ry)),
    ]
    return [option for option in options if option[2] > 0]


def mesh_crops(box: FaceBox) -> list[tuple[Float64Array, float]]:
    """The square mesh-input crops around *box*, as (2, 3) affine matrices from image pixels, with weights.

    The crop's side (on a geometric grid) and centre (on a grid of a fraction of that side) are snapped to
    fixed grids of the image, so that the small changes of the detector's box between two photos of the same
    face (about 1-3 px, enough to move the whole mesh by as much) give the same crop. Near the midpoint
    between two grid values the meshes of both crops are blended with weights that change linearly, so the
    landmarks never jump (:func:`_centre_options` for the centre). Usually one or two crops, at most six.
    """
    exact_side = MESH_CROP_MARGIN * max(box.w, box.h)
    log_side = float(np.log(exact_side) / np.log(MESH_SIDE_STEP))
    low, high, side_ramp = _grid_ramp(log_side, 1.0)
    crops = []
    for log_grid, side_weight in ((low, 1.0 - side_ramp), (high, side_ramp)):
        if side_weight <= 0:
            continue
        side = float(MESH_SIDE_STEP**log_grid)
        scale = MESH_INPUT_SIDE / side
        centre = (box.x + box.w / 2, box.y + box.h / 2)
        for cx, cy, centre_weight in _centre_options(*centre, side * MESH_CENTRE_STEP):
            transform = np.array(
                [
                    [scale, 0.0, MESH_INPUT_SIDE / 2 - scale * cx],
                    [0.0, scale, MESH_INPUT_SIDE / 2 - scale * cy],
                ]
            )
            crops.append((transform, side_weight * centre_weight))
    kept = [(transform, weight) for transform, weight in crops if weight >= MESH_MIN_CROP_WEIGHT]
    total = sum(weight for _, weight in kept)
    return [(transform, weight / total) for transform, weight in kept]


def _mesh_in_crop(rgb: ImageU8, transform: Float64Array) -> Float64Array | None:
    """(478, 3) landmarks in image pixels from the mesh run on one crop; None when it finds no face."""
    crop = cv2.warpAffine(
        rgb,
        transform,
        (MESH_INPUT_SIDE, MESH_INPUT_SIDE),
        flags=cv2.INTER_AREA if transform[0, 0] < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    with _graphs().mesh() as mesh:
        result = mesh.process(crop)
    if not result.multi_face_landmarks:
        return None
    landmarks = result.multi_face_landmarks[0].landmark
    crop_points = np.array([[p.x, p.y, p.z] for p in landmarks], dtype=np.float64) * MESH_INPUT_SIDE
    scale = transform[0, 0]
    points = np.empty_like(crop_points)
    points[:, 0] = (crop_points[:, 0] - transform[0, 2]) / scale
    points[:, 1] = (crop_points[:, 1] - transform[1, 2]) / scale
    points[:, 2] = crop_points[:, 2] / scale
    return points


def face_mesh(rgb: ImageU8, box: FaceBox) -> FaceLandmarks:
    """Run the 478-point face mesh on the face in *box* (on the snapped crops of :func:`mesh_crops`).

    Raises
    ------
    NoFaceError
        When the mesh finds no face in the crop (e.g. a false detection).
    TypeError, ValueError
        *rgb* is not an (H, W, 3) uint8 image.
    """
    rgb = check_rgb8(rgb, image=True)
    crops = mesh_crops(box)
    # every other crop on the helper thread (each thread with its own mesh graph), the rest here
    transforms = [transform for transform, _ in crops]
    helped = {i: parallel.beside(_mesh_in_crop, rgb, transforms[i]) for i in range(1, len(crops), 2)}
    here = {i: _mesh_in_crop(rgb, transforms[i]) for i in range(0, len(crops), 2)}
    meshes = [here[i] if i in here else helped[i].result() for i in range(len(crops))]
    found = [
        (points, weight) for points, (_, weight) in zip(meshes, crops, strict=True) if points is not None
    ]
    if not found:
        raise NoFaceError("no face found: the face mesh could not place landmarks on the detected face")
    total = sum(weight for _, weight in found)
    points = sum(points * (weight / total) for points, weight in found)
    assert isinstance(points, np.ndarray)
    x0, y0 = points[:, :2].min(axis=0)
    x1, y1 = points[:, :2].max(axis=0)
    if FaceBox(float(x0), float(y0), float(x1 - x0), float(y1 - y0), 1.0).iou(box) < 0.25:
        raise NoFaceError("no face found: the face mesh did not agree with the face detector")
    return FaceLandmarks(points=points.astype(np.float32), box=box)


def head_pose(landmarks: FaceLandmarks) -> tuple[float, float, float]:
    """Yaw, pitch and roll of the head in degrees, from the mesh geometry.

    Conventions (for a photo that is not mirrored): yaw > 0 when the nose points toward the image's right
    (the subject's left), pitch > 0 when the chin is raised, roll > 0 when the head tilts so that the
    subject's left eye is lower in the image than the right. A frontal face gives values near 0.

    Returns
    -------
    (yaw, pitch, roll) : tuple of float, degrees
    """
    p = landmarks.points.astype(np.float64)
    right_cheek, left_cheek = p[234], p[454]  # subject's right / left face edge
    top, chin = p[10], p[152]
    across = left_cheek - right_cheek
    # z decreases toward the camera: a face turned to the image right brings its left edge closer.
    yaw = np.degrees(np.arctan2(across[2], across[0]))
    down = chin - top
    pitch = np.degrees(np.arctan2(-down[2], down[1]))
    right_eye = (p[33] + p[133]) / 2
    left_eye = (p[263] + p[362]) / 2
    eyes = left_eye - right_eye
    roll = np.degrees(np.arctan2(eyes[1], eyes[0]))
    return float(yaw), float(pitch), float(roll)
