"""Colour conversions on photo arrays: sRGB encoding, linear light, optical density and CIELAB.

The formulas are those of IEC 61966-2-1 (sRGB) and CIE 15 (CIELAB, D65 white); tests compare them with
colour-science. For 8-bit input the per-channel conversions are table look-ups (256 entries), which is what
makes a 12-MP photo cheap to measure.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

from needlecare.hints import FloatArray, ImageU8

#: Darkest linear value used when taking logarithms (the value of sRGB code 0.5/255); darker pixels are
#: excluded from measurement anyway.
LINEAR_FLOOR = 0.5 / 255 / 12.92

#: D65 white point in XYZ (Y = 1), as in IEC 61966-2-1.
D65_XYZ = np.array([0.95047, 1.0, 1.08883], dtype=np.float64)

_SRGB_TO_XYZ = np.array(
    [
        [0.4124564, 0.3575761, 0.1804375],
        [0.2126729, 0.7151522, 0.0721750],
        [0.0193339, 0.1191920, 0.9503041],
    ],
    dtype=np.float64,
)


def srgb_to_linear(encoded: FloatArray) -> FloatArray:
    """Decode sRGB values (0-1) to linear light (0-1), IEC 61966-2-1.

    Examples
    --------
    >>> float(srgb_to_linear(np.float32(0.5)))  # doctest: +ELLIPSIS
    0.2140...
    """
    encoded = np.asarray(encoded, dtype=np.float32)
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4).astype(
        np.float32
    )


def linear_to_srgb(linear: FloatArray) -> FloatArray:
    """Encode linear light (0-1) as sRGB values (0-1), IEC 61966-2-1; input is clipped to 0-1."""
    linear = np.clip(np.asarray(linear, dtype=np.float32), 0.0, 1.0)
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * np.power(linear, 1 / 2.4) - 0.055).astype(
        np.float32
    )


@cache
def linear_lut() -> FloatArray:
    """(256,) float32 table: linear light of each 8-bit sRGB code."""
    lut = srgb_to_linear(np.arange(256, dtype=np.float32) / 255.0)
    lut.setflags(write=False)
    return lut


@cache
def optical_density_lut() -> FloatArray:
    """(256,) float32 table: optical density ``-ln(linear)`` of each 8-bit sRGB code (floored)."""
    lut = (-np.log(np.maximum(linear_lut(), LINEAR_FLOOR))).astype(np.float32)
    lut.setflags(write=False)
    return lut


def to_linear(rgb: ImageU8) -> FloatArray:
    """(..., 3) uint8 sRGB -> (..., 3) float32 linear light, 0-1.

    Images and pixel lists (2 or 3 dimensions, up to 4 channels) go through OpenCV's table lookup, several
    times faster than numpy's indexing and with the same values.
    """
    if rgb.dtype == np.uint8 and rgb.size and (rgb.ndim == 2 or (rgb.ndim == 3 and rgb.shape[2] <= 4)):
        result: FloatArray = cv2.LUT(rgb, linear_lut())
        return result
    return linear_lut()[rgb]


def channel_extremes(rgb: ImageU8) -> tuple[ImageU8, ImageU8]:
    """Per-pixel (min, max) over the channels of an (H, W, 3) uint8 image, each (H, W) uint8 (OpenCV;
    numpy's reductions along the last axis are several times slower)."""
    r, g, b = cv2.split(np.ascontiguousarray(rgb))
    return cv2.min(cv2.min(r, g), b), cv2.max(cv2.max(r, g), b)


def optical_density(linear: FloatArray) -> FloatArray:
    """Natural-log optical density ``-ln(linear)`` of linear light, floored at :data:`LINEAR_FLOOR`."""
    return (-np.log(np.maximum(np.asarray(linear, dtype=np.float32), LINEAR_FLOOR))).astype(np.float32)


def linear_to_lab(linear: FloatArray) -> FloatArray:
    """Linear sRGB (..., 3), 0-1 -> CIELAB (..., 3) with the D65 white (L* 0-100, a*, b* roughly -128..127).

    Examples
    --------
    >>> lab = linear_to_lab(np.array([1.0, 1.0, 1.0], dtype=np.float32))
    >>> [round(abs(float(v)), 3) for v in lab]
    [100.0, 0.0, 0.0]
    """
    linear = np.asarray(linear, dtype=np.float64)
    xyz = linear @ _SRGB_TO_XYZ.T / D65_XYZ
    epsilon, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > epsilon, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lightness = 116 * f[..., 1] - 16
    a_star = 500 * (f[..., 0] - f[..., 1])
    b_star = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a_star, b_star], axis=-1).astype(np.float32)
