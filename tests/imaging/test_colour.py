"""Numeric tests of the colour conversions against colour-science (reference values with stated tolerances,
round trips, look-up tables, broadcasting, dtype policy, NaN/inf behaviour)."""

from __future__ import annotations

import colour
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from needlecare.imaging.colour import (
    D65_XYZ,
    LINEAR_FLOOR,
    linear_lut,
    linear_to_lab,
    linear_to_srgb,
    optical_density,
    optical_density_lut,
    srgb_to_linear,
    to_linear,
)

F64 = npt.NDArray[np.float64]

#: Transfer functions are computed in float32; colour-science in float64.
TRANSFER_ATOL = 1e-5
#: CIELAB agreement with colour-science when it uses the same white and primaries (Delta E*ab, CIE 1976).
LAB_DELTA_E = 1e-3
#: colour-science's stock sRGB uses IEC 61966-2-1's 4-decimal matrix (white 0.9505, 1, 1.0890) and the
#: 4-decimal D65 chromaticity; the module uses the 7-decimal matrix derived from the primaries and the
#: CIE 1931 D65 white (0.95047, 1, 1.08883). The conventions differ by up to ~0.03 Delta E*ab.
LAB_DELTA_E_STOCK = 0.05

D65_XY = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]

GRID = np.linspace(0.0, 1.0, 2001)
CODES = np.arange(256)


def random_colours(n: int, seed: int = 0) -> F64:
    """(n, 3) uniform random colours in 0-1 plus the corners of the RGB cube."""
    rng = np.random.default_rng(seed)
    corners = np.array(np.meshgrid([0.0, 1.0], [0.0, 1.0], [0.0, 1.0], indexing="ij")).reshape(3, -1).T
    result: F64 = np.concatenate([corners, rng.random((n, 3))])
    return result


def colour_lab_same_white(linear: F64) -> F64:
    """CIELAB by colour-science with sRGB primaries and the module's D65 white."""
    white_xy = colour.XYZ_to_xy(D65_XYZ)
    matrix = colour.normalised_primary_matrix(colour.RGB_COLOURSPACES["sRGB"].primaries, white_xy)
    result: F64 = colour.XYZ_to_Lab(linear @ matrix.T, white_xy)
    return result


def delta_e(lab1: npt.ArrayLike, lab2: npt.ArrayLike) -> F64:
    result: F64 = colour.delta_E(
        np.asarray(lab1, np.float64), np.asarray(lab2, np.float64), method="CIE 1976"
    )
    return result


# --- transfer functions against colour-science ------------------------------------------------------------


def test_srgb_to_linear_matches_colour_science_on_grid() -> None:
    expected = colour.cctf_decoding(GRID, function="sRGB")
    np.testing.assert_allclose(srgb_to_linear(GRID), expected, rtol=0, atol=TRANSFER_ATOL)


def test_linear_to_srgb_matches_colour_science_on_grid() -> None:
    expected = colour.cctf_encoding(GRID, function="sRGB")
    np.testing.assert_allclose(linear_to_srgb(GRID), expected, rtol=0, atol=TRANSFER_ATOL)


def test_transfer_functions_match_colour_science_on_random_colours() -> None:
    rgb = random_colours(5000, seed=1)
    np.testing.assert_allclose(srgb_to_linear(rgb), colour.cctf_decoding(rgb), rtol=0, atol=TRANSFER_ATOL)
    np.testing.assert_allclose(linear_to_srgb(rgb), colour.cctf_encoding(rgb), rtol=0, atol=TRANSFER_ATOL)


def test_transfer_functions_published_values() -> None:
    # IEC 61966-2-1: linear segment below 0.04045 (slope 1/12.92); mid-grey 0.5 decodes to 0.21404.
    assert float(srgb_to_linear(np.float32(0.04045))) == pytest.approx(0.04045 / 12.92, rel=1e-6)
    assert float(srgb_to_linear(np.float32(0.5))) == pytest.approx(0.2140411, abs=1e-6)
    assert float(linear_to_srgb(np.float32(0.0031308))) == pytest.approx(0.0031308 * 12.92, rel=1e-6)
    assert float(linear_to_srgb(np.float32(0.18))) == pytest.approx(0.4613561, abs=1e-6)


def test_transfer_functions_are_monotonic() -> None:
    assert np.all(np.diff(srgb_to_linear(GRID)) > 0)
    assert np.all(np.diff(linear_to_srgb(GRID)) > 0)


# --- round trips ------------------------------------------------------------------------------------------


def test_round_trip_encoded_linear_encoded() -> None:
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(GRID)), GRID, rtol=0, atol=TRANSFER_ATOL)


def test_round_trip_linear_encoded_linear() -> None:
    np.testing.assert_allclose(srgb_to_linear(linear_to_srgb(GRID)), GRID, rtol=0, atol=TRANSFER_ATOL)


def test_round_trip_recovers_every_8bit_code() -> None:
    codes = np.rint(linear_to_srgb(linear_lut()) * 255).astype(np.int64)
    np.testing.assert_array_equal(codes, CODES)


def test_lab_round_trip_through_colour_science_inverse() -> None:
    linear = random_colours(2000, seed=2)
    lab = linear_to_lab(linear).astype(np.float64)
    white_xy = colour.XYZ_to_xy(D65_XYZ)
    matrix = colour.normalised_primary_matrix(colour.RGB_COLOURSPACES["sRGB"].primaries, white_xy)
    back = colour.Lab_to_XYZ(lab, white_xy) @ np.linalg.inv(matrix).T
    np.testing.assert_allclose(back, linear, rtol=0, atol=1e-4)


# --- CIELAB -----------------------------------------------------------------------------------------------


def test_linear_to_lab_matches_colour_science_same_white() -> None:
    linear = random_colours(20000, seed=3)
    assert delta_e(linear_to_lab(linear), colour_lab_same_white(linear)).max() < LAB_DELTA_E


def test_linear_to_lab_matches_colour_science_stock_srgb_on_grid() -> None:
    g = np.linspace(0.0, 1.0, 17)
    encoded = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    expected = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(encoded, illuminant=D65_XY), D65_XY)
    actual = linear_to_lab(srgb_to_linear(encoded))
    assert delta_e(actual, expected).max() < LAB_DELTA_E_STOCK


def test_d65_white_is_the_cie_d65_chromaticity() -> None:
    np.testing.assert_allclose(colour.XYZ_to_xy(D65_XYZ), D65_XY, atol=5e-5)
    assert D65_XYZ[1] == 1.0


def test_lab_of_white_black_and_greys() -> None:
    np.testing.assert_allclose(linear_to_lab(np.ones(3)), [100.0, 0.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(linear_to_lab(np.zeros(3)), [0.0, 0.0, 0.0], atol=1e-6)
    greys = np.repeat(np.linspace(0.0, 1.0, 101)[:, None], 3, axis=1)
    lab = linear_to_lab(greys)
    np.testing.assert_allclose(lab[:, 1:], 0.0, atol=1e-3)
    # CIE 15: L* = 116 Y^(1/3) - 16 above (6/29)^3, 24389/27 Y below.
    y = greys[:, 0]
    expected_l = np.where(y > 216 / 24389, 116 * np.cbrt(y) - 16, 24389 / 27 * y)
    np.testing.assert_allclose(lab[:, 0], expected_l, atol=1e-3)


def test_lab_red_has_positive_a_star_and_green_negative() -> None:
    lab = linear_to_lab(np.eye(3))
    assert lab[0, 1] > 70
    assert lab[1, 1] < -70
    assert lab[2, 2] < -100


# --- look-up tables ---------------------------------------------------------------------------------------


def test_linear_lut_equals_formula_and_colour_science() -> None:
    lut = linear_lut()
    assert lut.shape == (256,)
    assert lut.dtype == np.float32
    encoded = CODES / 255.0
    formula = np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)
    np.testing.assert_allclose(lut, formula, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(lut, colour.cctf_decoding(encoded), rtol=1e-6, atol=1e-9)
    assert lut[0] == 0.0
    assert lut[255] == pytest.approx(1.0, abs=1e-7)


def test_optical_density_lut_equals_formula() -> None:
    lut = optical_density_lut()
    assert lut.shape == (256,)
    assert lut.dtype == np.float32
    linear = colour.cctf_decoding(CODES / 255.0)
    formula = -np.log(np.maximum(linear, LINEAR_FLOOR))
    np.testing.assert_allclose(lut, formula, rtol=1e-6, atol=1e-6)
    assert lut[0] == pytest.approx(-np.log(LINEAR_FLOOR), rel=1e-6)
    assert abs(float(lut[255])) < 1e-6
    assert np.all(np.diff(lut) < 0)


def test_luts_are_read_only() -> None:
    for lut in (linear_lut(), optical_density_lut()):
        with pytest.raises(ValueError, match="read-only"):
            lut[0] = 1.0


def test_to_linear_is_the_lut_lookup() -> None:
    rgb = np.random.default_rng(4).integers(0, 256, size=(7, 5, 3), dtype=np.uint8)
    np.testing.assert_allclose(to_linear(rgb), colour.cctf_decoding(rgb / 255.0), rtol=1e-6, atol=1e-9)


# --- optical density --------------------------------------------------------------------------------------


def test_linear_floor_is_half_an_8bit_code() -> None:
    assert float(srgb_to_linear(np.float32(0.5 / 255))) == pytest.approx(LINEAR_FLOOR, rel=1e-6)
    assert 0.0 < LINEAR_FLOOR < float(linear_lut()[1])


def test_optical_density_is_minus_log_above_floor() -> None:
    linear = np.geomspace(LINEAR_FLOOR, 1.0, 500)
    np.testing.assert_allclose(optical_density(linear), -np.log(linear), rtol=1e-6, atol=1e-6)


def test_optical_density_floor() -> None:
    ceiling = -np.log(LINEAR_FLOOR)
    darker = np.array([0.0, -1.0, LINEAR_FLOOR / 10, LINEAR_FLOOR, -np.inf])
    np.testing.assert_allclose(optical_density(darker), ceiling, rtol=1e-6)


# --- broadcasting and dtype -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(12,), (4, 5, 3), (2, 3, 4, 5, 3)])
def test_elementwise_functions_broadcast(shape: tuple[int, ...]) -> None:
    values = np.random.default_rng(5).random(shape)
    flat = values.ravel()
    for function in (srgb_to_linear, linear_to_srgb, optical_density):
        result = function(values)
        assert result.shape == shape
        np.testing.assert_array_equal(result.ravel(), function(flat))


@pytest.mark.parametrize("shape", [(12, 3), (4, 5, 3), (2, 3, 4, 5, 3)])
def test_lab_and_to_linear_broadcast(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(6)
    linear = rng.random(shape)
    lab = linear_to_lab(linear)
    assert lab.shape == shape
    np.testing.assert_allclose(lab.reshape(-1, 3), linear_to_lab(linear.reshape(-1, 3)), rtol=0, atol=1e-4)
    rgb = rng.integers(0, 256, size=shape, dtype=np.uint8)
    assert to_linear(rgb).shape == shape
    np.testing.assert_array_equal(to_linear(rgb).reshape(-1, 3), to_linear(rgb.reshape(-1, 3)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_outputs_are_float32(dtype: type[np.floating]) -> None:
    values = np.linspace(0, 1, 12, dtype=dtype).reshape(4, 3)
    for function in (srgb_to_linear, linear_to_srgb, optical_density, linear_to_lab):
        assert function(values).dtype == np.float32, function.__name__
    assert srgb_to_linear(0.5).dtype == np.float32
    assert to_linear(np.zeros((2, 3), dtype=np.uint8)).dtype == np.float32


# --- NaN / inf --------------------------------------------------------------------------------------------


def test_nan_propagates() -> None:
    values = np.array([0.2, np.nan, 0.7])
    for function in (srgb_to_linear, linear_to_srgb, optical_density):
        result = function(values)
        assert np.isnan(result[1]), function.__name__
        assert np.all(np.isfinite(result[[0, 2]])), function.__name__
    lab = linear_to_lab(np.array([[np.nan, 0.5, 0.5], [0.5, 0.5, 0.5]]))
    assert np.all(np.isnan(lab[0]))
    assert np.all(np.isfinite(lab[1]))


def test_linear_to_srgb_clips_out_of_range_and_infinite_input() -> None:
    result = linear_to_srgb(np.array([-np.inf, -0.5, 0.0, 1.0, 1.5, np.inf]))
    np.testing.assert_allclose(result, [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], atol=1e-6)


def test_srgb_to_linear_extends_above_one_and_keeps_infinity() -> None:
    # Not clipped: encoded values above 1 (e.g. after a colour correction) keep decoding with the power law.
    result = srgb_to_linear(np.array([1.5, np.inf]))
    assert float(result[0]) == pytest.approx(((1.5 + 0.055) / 1.055) ** 2.4, rel=1e-6)
    assert result[1] == np.inf


# --- properties -------------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, (8, 3), elements=st.floats(0.0, 1.0, width=32)))
def test_lab_lightness_depends_only_on_luminance(linear: npt.NDArray[np.float32]) -> None:
    luminance = linear.astype(np.float64) @ np.array([0.2126729, 0.7151522, 0.0721750])
    grey = np.repeat(np.clip(luminance, 0, 1)[:, None], 3, axis=1)
    np.testing.assert_allclose(linear_to_lab(linear)[:, 0], linear_to_lab(grey)[:, 0], atol=2e-3)
