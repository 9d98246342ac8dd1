"""Robust statistics of redness maps."""

from __future__ import annotations

import numpy as np

from needlecare.hints import FloatArray

#: A region needs this many measurable pixels (analysis frame) for an index.
MIN_REGION_PIXELS = 150
#: Trimmed mean: drop this fraction at each end.
TRIM = 0.10


def robust_mean(values: FloatArray) -> float | None:
    """Mean of the values between the 10th and 90th percentile; None for an empty array.

    Examples
    --------
    >>> robust_mean(np.array([-500.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 500.0], dtype=np.float32))
    5.0
    """
    if values.size == 0:
        return None
    low, high = np.percentile(values, [100 * TRIM, 100 * (1 - TRIM)])
    kept = values[(values >= low) & (values <= high)]
    return float(kept.mean()) if kept.size else float(np.median(values))
