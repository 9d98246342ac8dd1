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
