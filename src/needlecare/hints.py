"""Array type aliases used in every signature of the imaging core.

Shapes and units are stated in each function's docstring; these aliases only fix the dtype.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

#: (H, W, 3) or (N, 3) 8-bit sRGB-encoded colour.
ImageU8: TypeAlias = npt.NDArray[np.uint8]
#: Boolean masks, usually (H, W).
Mask: TypeAlias = npt.NDArray[np.bool_]
#: Float arrays: linear RGB, optical densities, index maps, landmarks. The imaging core computes in float32.
FloatArray: TypeAlias = npt.NDArray[np.float32]
#: Float64 arrays where precision matters more than speed (small matrices, fits).
Float64Array: TypeAlias = npt.NDArray[np.float64]
