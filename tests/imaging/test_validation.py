"""The imaging core's entry points say what is wrong with an input instead of failing deep inside numpy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from needlecare.imaging.face import detect_faces
from needlecare.imaging.redness import (
    a_star,
    erythema_index,
    haemoglobin_index,
    haemoglobin_index_from_linear,
    redness_map,
)

RGB_FUNCTIONS: list[Callable[[Any], Any]] = [haemoglobin_index, erythema_index, a_star, redness_map]

BAD_RGB = [
    (np.full((4, 4, 3), 0.5), TypeError, "uint8"),  # floats in 0-1
    (np.full((4, 4, 3), 40000, np.uint16), TypeError, "16-bit"),
    (np.zeros((4, 4, 4), np.uint8), ValueError, "drop the alpha channel"),  # RGBA
    (np.zeros((4, 4), np.uint8), ValueError, "3 colour channels"),  # grayscale
    (np.zeros((0, 4, 3), np.uint8), ValueError, "empty"),
    ([[[1, 2, 3]]], TypeError, "numpy array"),
]


@pytest.mark.parametrize("function", RGB_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("value", "error", "words"), BAD_RGB)
def test_bad_images_are_refused_with_a_plain_reason(
    function: Callable[[Any], Any], value: object, error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        function(value)


@pytest.mark.parametrize("function", RGB_FUNCTIONS, ids=lambda f: f.__name__)
def test_good_images_and_pixel_lists_still_work(function: Callable[[Any], Any]) -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    assert function(image).shape == (5, 6)
    assert function(image.reshape(-1, 3)).shape == (30,)


def test_detection_needs_an_image_not_a_pixel_list() -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) image"):
        detect_faces(np.zeros((10, 3), np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        detect_faces(np.zeros((10, 10, 3), np.float32))


def test_linear_input_must_be_float_colours() -> None:
    with pytest.raises(TypeError, match="to_linear"):
        haemoglobin_index_from_linear(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="3 colour channels"):
        haemoglobin_index_from_linear(np.zeros((2, 4), np.float32))
    grey = np.full((2, 3), 0.2, np.float64)
    assert np.allclose(haemoglobin_index_from_linear(grey), 0.0, atol=1e-5)
