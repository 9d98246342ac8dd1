"""Landmark registration: warp a baseline photo's maps onto a follow-up's face, triangle by triangle.

A piecewise-affine warp over the Delaunay triangulation of the follow-up's landmarks: every pixel inside the
follow-up's landmark hull is mapped, through its barycentric coordinates, to the same place on the baseline
face. Pixels outside the hull get NaN.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from needlecare.hints import FloatArray, Mask


def piecewise_affine_maps(
    target_xy: FloatArray, source_xy: FloatArray, shape: tuple[int, int]
) -> tuple[FloatArray, FloatArray, Mask]:
    """Coordinate maps for :func:`cv2.remap` from a target frame to a source frame.

    Parameters
    ----------
    target_xy, source_xy : (N, 2) float
        Corresponding landmarks in the target (follow-up) and source (baseline) frames, px.
    shape : (H, W)
        Target frame shape.

    Returns
    -------
    map_x, map_y : (H, W) float32
        Source coordinates of every target pixel (-1 outside the landmark hull).
    inside : (H, W) bool
        Pixels inside the hull.
    """
    triangulation = Delaunay(target_xy.astype(np.float64))
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    pixels = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float64)
    simplex = triangulation.find_simplex(pixels)
    inside = simplex >= 0
    transform = triangulation.transform[simplex[inside]]
    offsets = pixels[inside] - transform[:, 2]
    bary2 = np.einsum("nij,nj->ni", transform[:, :2], offsets)
    bary = np.column_stack([bary2, 1 - bary2.sum(axis=1)])
    vertices = triangulation.simplices[simplex[inside]]
    mapped = np.einsum("ni,nij->nj", bary, source_xy.astype(np.float64)[vertices])
    map_x = np.full(pixels.shape[0], -1, dtype=np.float32)
    map_y = np.full(pixels.shape[0], -1, dtype=np.float32)
    map_x[inside], map_y[inside] = mapped[:, 0], mapped[:, 1]
    return map_x.reshape(shape), map_y.reshape(shape), inside.reshape(shape)


def _remap_known(values: FloatArray, map_x: FloatArray, map_y: FloatArray, inside: Mask | None) -> FloatArray:
    """Resample *values* ((H, W) or (H, W, C), NaN = unknown) at (map_x, map_y); NaN where unknown or outside
    pixels mix in (for several channels, where any channel is unknown)."""
    channels = values.ndim == 3
    known: Mask = np.isfinite(values).all(axis=2) if channels else np.isfinite(values)
    filled = np.where(known[..., None] if channels else known, values, 0).astype(np.float32)
    moved = cv2.remap(filled, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    weight = cv2.remap(
        known.astype(np.float32),
        map_x,
        map_y,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    shape = map_x.shape + values.shape[2:]
    result = np.full(shape, np.nan, dtype=np.float32)
    ok = weight > 0.99
    if inside is not None:
        ok &= inside
    result[ok] = moved[ok] / (weight[ok][:, None] if channels else weight[ok])
    return result


def warp_map(
    values: FloatArray, source_xy: FloatArray, target_xy: FloatArray, shape: tuple[int, int]
) -> FloatArray:
    """Warp a per-pixel map (e.g. a baseline redness map, NaN = unknown) into the target frame.

    Returns
    -------
    (H, W) float32
        The warped map; NaN outside the landmark hull or where the source is unknown.
    """
    map_x, map_y, inside = piecewise_affine_maps(target_xy, source_xy, shape)
    return _remap_known(values, map_x, map_y, inside)


def flow_field(target: FloatArray, source: FloatArray) -> FloatArray | None:
    """Residual displacement from *target* to *source* (both grey, 0-255, NaN = unknown), (H, W, 2) px.

    DIS optical flow (Kroeger et al. 2016, OpenCV) with patch mean normalisation, so that a change of
    redness or brightness is not taken for motion; clipped to :data:`MAX_REFINEMENT_PX`. None when the
    source has too few known pixels to align.
    """
    known_source = np.isfinite(source)
    if known_source.sum() < 500:
        return None
    fill = float(np.nanmedian(source))
    target_u8 = np.clip(np.nan_to_num(target, nan=fill), 0, 255).astype(np.uint8)
    source_u8 = np.clip(np.where(known_source, source, fill), 0, 255).astype(np.uint8)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    flow: FloatArray = np.clip(dis.calc(target_u8, source_u8, None), -MAX_REFINEMENT_PX, MAX_REFINEMENT_PX)
    return flow


def move_by_flow(values: FloatArray, flow: FloatArray | None) -> FloatArray:
    """*values* (registered like the flow's source, NaN = unknown) moved onto the target's pixels."""
    if flow is None:
        return values
    height, width = values.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return _remap_known(values, xs + flow[..., 0], ys + flow[..., 1], None)


def refine_by_flow(target: FloatArray, source: FloatArray, values: FloatArray) -> FloatArray:
    """Correct the residual, non-rigid misregistration left by landmark jitter with dense optical flow.

    Landmarks move by a fraction of a pixel between two photos even where the face did not; a warp that
    follows them misaligns the skin by that much. The flow between the grey images (:func:`flow_field`)
    gives the remaining displacement; *values* are resampled along it (:func:`move_by_flow`).

    Parameters
    ----------
    target, source : (H, W) float32
        Grey images (0-255) in the target frame; *source* already landmark-registered, NaN where unknown.
    values : (H, W) float32
        A map registered like *source* (NaN = unknown), e.g. the baseline's redness index.

    Returns
    -------
    (H, W) float32
        *values* moved onto the target's pixels; NaN where unknown.
    """
    return move_by_flow(values, flow_field(target, source))


@dataclass(frozen=True)
class Registration:
    """Where each pixel of a target (follow-up) frame lies in a source (baseline) frame: a piecewise-affine
    landmark warp refined by dense optical flow; computed once, applied to any number of source maps."""

    map_x: FloatArray
    map_y: FloatArray
    inside: Mask
    flow: FloatArray | None

    def warp(self, values: FloatArray) -> FloatArray:
        """A source map (H_s, W_s) or (H_s, W_s, C) float32, NaN = unknown, moved onto the target frame."""
        return move_by_flow(_remap_known(values, self.map_x, self.map_y, self.inside), self.flow)


def register(
    target_grey: FloatArray, source_grey: FloatArray, target_xy: FloatArray, source_xy: FloatArray
) -> Registration:
    """Register a source face onto a target face.

    Parameters
    ----------
    target_grey, source_grey : (H_t, W_t), (H_s, W_s) float32
        Grey images (0-255) of the two frames.
    target_xy, source_xy : (478, 2) float
        Their landmarks, px.
    """
    shape = target_grey.shape[:2]
    map_x, map_y, inside = piecewise_affine_maps(target_xy, source_xy, shape)
    landmark_warped = _remap_known(source_grey, map_x, map_y, inside)
    return Registration(map_x, map_y, inside, flow_field(target_grey, landmark_warped))


def register_similarity(
    target_grey: FloatArray, source_grey: FloatArray, target_xy: FloatArray, source_xy: FloatArray
) -> Registration | None:
    """Register a whole source frame onto a target frame with one similarity transform (rotation, scale and
    shift, least squares over the landmarks), refined by optical flow (:func:`flow_field`).

    Unlike :func:`register`, which follows the face and knows nothing outside the landmark hull, this maps
    what moved with the head and camera as a whole (hair, ears, clothing, a background when the camera
    moved or turned); pixels that moved otherwise are left to the caller's checks.

    Parameters
    ----------
    target_grey, source_grey : (H_t, W_t), (H_s, W_s) float32
        Grey images (0-255) of the two frames.
    target_xy, source_xy : (478, 2) float
        Their landmarks, px.

    Returns
    -------
    Registration or None
        ``inside`` is every target pixel; None when no transform fits the landmarks.
    """
    matrix, _ = cv2.estimateAffinePartial2D(
        target_xy.astype(np.float32), source_xy.astype(np.float32), method=cv2.LMEDS
    )
    if matrix is None:
        return None
    height, width = target_grey.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x = (matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2]).astype(np.float32)
    map_y = (matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2]).astype(np.float32)
    inside = np.ones((height, width), dtype=bool)
    warped = _remap_known(source_grey, map_x, map_y, inside)
    return Registration(map_x, map_y, inside, flow_field(target_grey, warped))


#: Largest residual displacement accepted from the optical flow (px, analysis frame).
MAX_REFINEMENT_PX = 4.0
