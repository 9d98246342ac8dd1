"""Input checks of the imaging core's entry points: shape and dtype, with messages that say what to pass.

In the manner of scikit-image's ``check_nD``: the checks are O(1) (no pass over the pixels), so they cost
nothing next to the work and turn a bare ``IndexError`` deep inside numpy into a sentence about the input.
"""

from __future__ import annotations

import numpy as np

from needlecare.hints import FloatArray, ImageU8

__all__ = ["check_linear", "check_rgb8"]


def _describe(value: object) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    return f"shape {shape} and dtype {dtype}" if shape is not None else f"a {type(value).__name__}"


def check_rgb8(value: object, name: str = "rgb", *, image: bool = False) -> ImageU8:
    """*value* if it holds 8-bit sRGB colours: a uint8 array whose last axis has the 3 channels R, G, B.

    Parameters
    ----------
    value
        The array to check.
    name
        Its name in the error message.
    image
        Require an (H, W, 3) image rather than any (..., 3) array of colours.

    Raises
    ------
    TypeError
        Not a numpy array, or not uint8 (floats in 0-1 or 16-bit codes must be converted first).
    ValueError
        Not 3 channels (grayscale, RGBA), not an image when *image* is set, or empty.

    Examples
    --------
    >>> check_rgb8(np.zeros((2, 2, 3), np.uint8)).shape
    (2, 2, 3)
    >>> check_rgb8(np.zeros((2, 2), np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: rgb must have 3 colour channels (R, G, B) on its last axis, got shape (2, 2)
    """
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy array of uint8 sRGB colours, got {_describe(value)}")
    if value.dtype != np.uint8:
        raise TypeError(
            f"{name} must hold 8-bit sRGB codes (dtype uint8, 0-255), got dtype {value.dtype}; convert "
            "floats in 0-1 with np.round(x * 255).astype(np.uint8), 16-bit images with (x >> 8)"
        )
    if value.ndim < 2 or value.shape[-1] != 3:
        hint = "; drop the alpha channel of RGBA images first" if value.shape[-1:] == (4,) else ""
        raise ValueError(
            f"{name} must have 3 colour channels (R, G, B) on its last axis, got shape {value.shape}{hint}"
        )
    if image and value.ndim != 3:
        raise ValueError(f"{name} must be an (H, W, 3) image, got shape {value.shape}")
    if value.size == 0:
        raise ValueError(f"{name} is empty (shape {value.shape})")
    return value


def check_linear(value: object, name: str = "linear") -> FloatArray:
    """*value* as a float32 array of linear-light colours (..., 3).

    Raises
    ------
    TypeError
        Not a numpy array of real numbers (8-bit codes must go through ``to_linear`` first).
    ValueError
        Not 3 channels on the last axis, or empty.
    """
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.floating):
        raise TypeError(
            f"{name} must be a float array of linear-light colours (0-1), got {_describe(value)}; "
            "convert 8-bit sRGB with needlecare.imaging.colour.to_linear"
        )
    if value.ndim < 1 or value.shape[-1] != 3:
        raise ValueError(f"{name} must have 3 colour channels on its last axis, got shape {value.shape}")
    if value.size == 0:
        raise ValueError(f"{name} is empty (shape {value.shape})")
    return value.astype(np.float32, copy=False)
