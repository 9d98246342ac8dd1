"""Skin mask and facial regions from the 478-point face mesh.

The skin mask is the face oval minus the eyes, brows, lips and nostrils, each dilated by a margin that scales
with the face (a fraction of the distance between the eye centres). Regions, using the subject's left and
right, are cut from the skin mask along lines derived from landmarks in a face frame aligned with the eyes
(so that head roll does not move them):

- ``forehead``: above the top of the brows;
- ``nose``: the hull of the nose landmarks;
- ``left_cheek`` / ``right_cheek``: below the lower eyelids, above the mouth corners, outside the nose;
- ``chin``: below the lower lip, between the mouth corners widened by a margin.

MediaPipe publishes ring indices for the oval, eyes, brows and lips; there are no official cheek or forehead
sets, which is why those regions are derived here (see docs/redness-science.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from needlecare.hints import FloatArray, Mask

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
             148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109)  # fmt: skip
LIPS_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291, 375, 321, 405, 314, 17, 84, 181, 91, 146)
LIPS_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308, 324, 318, 402, 317, 14, 87, 178, 88, 95)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
RIGHT_BROW = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
LEFT_BROW = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
RIGHT_IRIS = (469, 470, 471, 472)
LEFT_IRIS = (474, 475, 476, 477)
#: Landmarks around the nostrils and the alar base.
RIGHT_NOSTRIL = (64, 98, 240, 75, 60, 20, 242, 141, 94, 2, 97, 99, 79, 166, 219, 48)
LEFT_NOSTRIL = (294, 327, 460, 305, 290, 250, 462, 370, 94, 2, 326, 328, 309, 392, 439, 278)
#: Landmarks whose hull is the nose (bridge, dorsum, tip, alae).
NOSE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2, 98, 327, 129, 358, 64, 294, 48, 278, 102, 331, 115, 344,
        131, 360, 45, 275, 51, 281, 3, 248, 196, 419, 122, 351, 188, 412, 217, 437, 114, 343)  # fmt: skip
MOUTH_RIGHT_CORNER, MOUTH_LEFT_CORNER, LOWER_LIP_BOTTOM = 61, 291, 17
RIGHT_EYE_LOWER = (145, 144, 153, 163, 7)
LEFT_EYE_LOWER = (374, 373, 380, 390, 249)

REGION_NAMES: tuple[str, ...] = ("forehead", "nose", "left_cheek", "right_cheek", "chin")

#: Margins, as fractions of the distance between the eye centres.
EXCLUSION_MARGIN = {"eyes": 0.10, "brows": 0.07, "lips": 0.14, "nostrils": 0.05}
FOREHEAD_GAP = 0.08  # between the brow tops and the forehead
EYE_OPENING_EROSION = 0.02  # of the eye openings used as colour references
CHEEK_GAP_BELOW_EYE = 0.12
CHIN_GAP_BELOW_LIP = 0.06
CHIN_HALF_WIDTH_EXTRA = 0.15  # beyond each mouth corner


@dataclass(frozen=True)
class FaceRegions:
    """Skin and region masks of one face, all (H, W) bool in the frame they were built for."""

    skin: Mask
    regions: dict[str, Mask]
    eye_distance: float


def _polygon_mask(shape: tuple[int, int], points: FloatArray, *, hull: bool = False) -> Mask:
    mask = np.zeros(shape, dtype=np.uint8)
    polygon = np.round(points).astype(np.int32)
    if hull:
        polygon = cv2.convexHull(polygon)
    cv2.fillPoly(mask, [polygon.reshape(-1, 1, 2)], 1, lineType=cv2.LINE_8)
    return mask.astype(bool)


def _dilate(mask: Mask, radius: float) -> Mask:
    """*mask* dilated by an elliptical (round) kernel of *radius* px, computed only around the mask's
    bounding box (the same result as over the whole image, at a fraction of the cost for small parts)."""
    r = max(1, round(radius))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    source = mask.astype(np.uint8)
    x, y, w, h = cv2.boundingRect(source)
    result = np.zeros(mask.shape, dtype=bool)
    if w == 0 or h == 0:
        return result
    top, left = max(0, y - r), max(0, x - r)
    bottom, right = min(mask.shape[0], y + h + r), min(mask.shape[1], x + w + r)
    roi = np.ascontiguousarray(source[top:bottom, left:right])
    result[top:bottom, left:right] = (
        cv2.dilate(roi, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    )
    return result


def eye_openings(xy: FloatArray, shape: tuple[int, int], eye_distance: float) -> Mask:
    """Both eye openings (lid rings filled), eroded by :data:`EYE_OPENING_EROSION` eye distances away from the
    lids and lashes, (H, W) bool."""
    mask = np.zeros(shape, dtype=np.uint8)
    for ring in (RIGHT_EYE, LEFT_EYE):
        cv2.fillPoly(mask, [np.round(xy[list(ring)]).astype(np.int32).reshape(-1, 1, 2)], 1)
    erode = max(1, round(EYE_OPENING_EROSION * eye_distance))
    return cv2.erode(mask, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)).astype(bool)


#: Margin around the face oval left out of :func:`surroundings`, eye distances: the skin's own colour (and any
#: redness) spreads that far through blur and JPEG colour blocks.
SURROUNDINGS_MARGIN = 0.25


def surroundings(xy: FloatArray, shape: tuple[int, int], eye_distance: float) -> Mask:
    """What surrounds the face in its frame (hair, ears, neck, clothing, background) and the teeth: the parts
    of a photo that share its light but not the skin's changes, (H, W) bool.

    The face oval dilated by :data:`SURROUNDINGS_MARGIN` eye distances is left out, and the inside of the
    inner lip ring (eroded like :func:`eye_openings`) is added.
    """
    oval = _dilate(_polygon_mask(shape, xy[list(FACE_OVAL)]), SURROUNDINGS_MARGIN * eye_distance)
    mouth = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mouth, [np.round(xy[list(LIPS_INNER)]).astype(np.int32).reshape(-1, 1, 2)], 1)
    erode = max(1, round(EYE_OPENING_EROSION * eye_distance))
    teeth = cv2.erode(mouth, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)).astype(bool)
    result: Mask = ~oval | teeth
    return result


def eye_distance(xy: FloatArray) -> float:
    """Distance between the eye centres in pixels, from landmarks (478, 2)."""
    right = xy[list(RIGHT_EYE)].mean(axis=0)
    left = xy[list(LEFT_EYE)].mean(axis=0)
    return float(np.hypot(*(left - right)))


def face_frame(xy: FloatArray, shape: tuple[int, int]) -> tuple[FloatArray, FloatArray]:
    """Per-pixel face-frame coordinates (u, v), each (H, W) float32, in eye-distance units.

    Origin at the midpoint between the eye centres; u runs from the subject's right eye toward the left eye,
    v runs down the face, perpendicular to u.
    """
    right = xy[list(RIGHT_EYE)].mean(axis=0)
    left = xy[list(LEFT_EYE)].mean(axis=0)
    origin = (right + left) / 2
    distance = float(np.hypot(*(left - right)))
    eu = (left - right) / distance
    ev = np.array([-eu[1], eu[0]], dtype=np.float32)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    dx, dy = xs - origin[0], ys - origin[1]
    u = (dx * eu[0] + dy * eu[1]) / distance
    v = (dx * ev[0] + dy * ev[1]) / distance
    return u.astype(np.float32), v.astype(np.float32)


def _to_frame(points: FloatArray, xy: FloatArray) -> FloatArray:
    right = xy[list(RIGHT_EYE)].mean(axis=0)
    left = xy[list(LEFT_EYE)].mean(axis=0)
    origin = (right + left) / 2
    distance = float(np.hypot(*(left - right)))
    eu = (left - right) / distance
    ev = np.array([-eu[1], eu[0]])
    d = points - origin
    result: FloatArray = (np.stack([d @ eu, d @ ev], axis=-1) / distance).astype(np.float32)
    return result


def build_regions(xy: FloatArray, shape: tuple[int, int]) -> FaceRegions:
    """Skin mask and the five regions for a face.

    Parameters
    ----------
    xy : (478, 2) float
        Landmark pixel coordinates in the frame of the masks.
    shape : (H, W)
        Mask shape.

    Returns
    -------
    FaceRegions
    """
    distance = eye_distance(xy)
    oval = _polygon_mask(shape, xy[list(FACE_OVAL)])
    excluded = np.zeros(shape, dtype=bool)
    for ring, margin in (
        (RIGHT_EYE, "eyes"),
        (LEFT_EYE, "eyes"),
        (RIGHT_BROW, "brows"),
        (LEFT_BROW, "brows"),
        (LIPS_OUTER, "lips"),
        (RIGHT_NOSTRIL, "nostrils"),
        (LEFT_NOSTRIL, "nostrils"),
    ):
        hull = ring in (RIGHT_BROW, LEFT_BROW, RIGHT_NOSTRIL, LEFT_NOSTRIL)
        part = _polygon_mask(shape, xy[list(ring)], hull=hull)
        excluded |= _dilate(part, EXCLUSION_MARGIN[margin] * distance)
    skin = oval & ~excluded

    u, v = face_frame(xy, shape)
    frame = _to_frame(xy, xy)
    brow_top = float(frame[list(RIGHT_BROW + LEFT_BROW), 1].min())
    eye_lower = float(frame[list(RIGHT_EYE_LOWER + LEFT_EYE_LOWER), 1].max())
    mouth_corners = frame[[MOUTH_RIGHT_CORNER, MOUTH_LEFT_CORNER]]
    lip_bottom = float(frame[LOWER_LIP_BOTTOM, 1])
    nose = _dilate(_polygon_mask(shape, xy[list(NOSE)], hull=True), 0.02 * distance)
    midline = float(frame[[168, 6, 197, 195, 5, 4, 1, 2], 0].mean())

    chin_half_width = float(np.abs(mouth_corners[:, 0] - midline).max()) + CHIN_HALF_WIDTH_EXTRA
    cheek_band = (v > eye_lower + CHEEK_GAP_BELOW_EYE) & (v < float(mouth_corners[:, 1].mean())) & ~nose
    regions = {
        "forehead": skin & (v < brow_top - FOREHEAD_GAP),
        "nose": skin & nose,
        "left_cheek": skin & cheek_band & (u > midline),
        "right_cheek": skin & cheek_band & (u < midline),
        "chin": skin & (v > lip_bottom + CHIN_GAP_BELOW_LIP) & (np.abs(u - midline) < chin_half_width),
    }
    return FaceRegions(skin=skin, regions=regions, eye_distance=distance)
