"""From an analysis frame in linear light to the redness map and its robust whole-face and region means."""

from __future__ import annotations

import numpy as np

from needlecare.analysis.report import RegionScore
from needlecare.analysis.statistics import MIN_REGION_PIXELS, robust_mean
from needlecare.hints import Float64Array, FloatArray, Mask
from needlecare.imaging.redness import haemoglobin_index_from_linear
from needlecare.imaging.regions import REGION_NAMES


def index_map(linear: FloatArray, correction: Float64Array | None, valid: Mask) -> FloatArray:
    """Per-pixel haemoglobin index (OD_hb), NaN where not measurable.

    Parameters
    ----------
    linear : (H, W, 3) float32
        The frame in linear light.
    correction : (3, 3) float64 or None
        Colour correction of linear RGB (row vectors: ``corrected = linear @ correction.T``).
    valid : (H, W) bool
        Measurable skin pixels.
    """
    if correction is not None:
        linear = np.clip(linear @ correction.T.astype(np.float32), 1e-4, 1.0)
    result: FloatArray = np.where(valid, haemoglobin_index_from_linear(linear), np.nan).astype(np.float32)
    return result


def summarise(
    values: FloatArray, valid: Mask, regions: dict[str, Mask]
) -> tuple[float | None, dict[str, RegionScore]]:
    """Robust mean of the map over all measurable skin (None when there is none) and per region.

    A region with fewer than :data:`~needlecare.analysis.statistics.MIN_REGION_PIXELS` measurable pixels
    has ``index`` None.
    """
    scores = {}
    for name in REGION_NAMES:
        pixels = valid & regions[name]
        count = int(pixels.sum())
        scores[name] = RegionScore(
            index=robust_mean(values[pixels]) if count >= MIN_REGION_PIXELS else None, pixels=count
        )
    return robust_mean(values[valid]), scores
