"""Landmark registration: warp a baseline photo's maps onto a follow-up's face, triangle by triangle.

A piecewise-affine warp over the Delaunay triangulation of the follow-up's landmarks: every pixel inside the
follow-up's landmark hull is mapped, through its barycentric coordinates, to the same place on the baseline
face. Pixels outside the hull get NaN.
"""

from __future__ import annotations

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
    known = np.isfinite(values)
    filled = np.where(known, values, 0).astype(np.float32)
    warped = cv2.remap(filled, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    weight = cv2.remap(
        known.astype(np.float32),
        map_x,
        map_y,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    result = np.full(shape, np.nan, dtype=np.float32)
    ok = inside & (weight > 0.99)
    result[ok] = warped[ok] / weight[ok]
    return result


def refine_by_flow(target: FloatArray, source: FloatArray, values: FloatArray) -> FloatArray:
    """Correct the residual, non-rigid misregistration left by landmark jitter with dense optical flow.

    Landmarks move by a fraction of a pixel between two photos even where the face did not; a warp that
    follows them misaligns the skin by that much. DIS optical flow (Kroeger et al. 2016, OpenCV) between the
    grey images, with patch mean normalisation so that a change of redness or brightness is not taken for
    motion, gives the remaining displacement; *values* are resampled along it.

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
    known_source = np.isfinite(source)
    if known_source.sum() < 500:
        return values
    fill = float(np.nanmedian(source))
    target_u8 = np.clip(np.nan_to_num(target, nan=fill), 0, 255).astype(np.uint8)
    source_u8 = np.clip(np.where(known_source, source, fill), 0, 255).astype(np.uint8)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)  # type: ignore[attr-defined]
    flow = dis.calc(target_u8, source_u8, None)
    flow = np.clip(flow, -MAX_REFINEMENT_PX, MAX_REFINEMENT_PX)
    height, width = values.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    map_x, map_y = xs + flow[..., 0], ys + flow[..., 1]
    known = np.isfinite(values)
    filled = np.where(known, values, 0).astype(np.float32)
    moved = cv2.remap(filled, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    weight = cv2.remap(known.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderValue=0)
    result = np.full(values.shape, np.nan, dtype=np.float32)
    ok = weight > 0.99
    result[ok] = moved[ok] / weight[ok]
    return result


#: Largest residual displacement accepted from the optical flow (px, analysis frame).
MAX_REFINEMENT_PX = 4.0
