"""Synthetic ground truth on real faces: known absorption added in optical-density space.

A photo is converted to linear RGB, optical density ``OD = -ln(linear)`` is raised along a chromophore
direction by ``amount`` times a feathered weight (0-1) over chosen skin, and the result is converted back to
8-bit sRGB. Exposure and white balance are gains on linear light.
"""

from __future__ import annotations

import cv2
import numpy as np

from needlecare.hints import ImageU8, Mask
from needlecare.imaging.colour import linear_to_srgb, srgb_to_linear


def encode(linear: np.ndarray) -> ImageU8:
    return np.clip(np.round(linear_to_srgb(linear.astype(np.float32)) * 255), 0, 255).astype(np.uint8)


def add_absorption(rgb: ImageU8, weight: np.ndarray, direction: np.ndarray, amount: float) -> ImageU8:
    """Add ``amount * weight`` optical density along the unit *direction* (R, G, B) to every pixel."""
    linear = srgb_to_linear(rgb.astype(np.float32) / 255).astype(np.float64)
    od = -np.log(np.maximum(linear, 1e-7)) + amount * weight[..., None] * np.asarray(direction)[None, None, :]
    return encode(np.exp(-od))


def apply_gain(rgb: ImageU8, gains: tuple[float, float, float]) -> ImageU8:
    """Multiply linear light by per-channel *gains* (exposure when all equal, white balance otherwise)."""
    return encode(srgb_to_linear(rgb.astype(np.float32) / 255) * np.asarray(gains, dtype=np.float32))


def feathered(mask: Mask, erode_px: int, sigma_px: float) -> np.ndarray:
    """A 0-1 weight: *mask* eroded by *erode_px*, then blurred with a Gaussian of *sigma_px*."""
    kernel = np.ones((2 * erode_px + 1, 2 * erode_px + 1), np.uint8)
    inner = cv2.erode(mask.astype(np.uint8), kernel).astype(np.float32)
    return cv2.GaussianBlur(inner, (0, 0), sigma_px)
