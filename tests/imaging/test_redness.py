"""Numeric tests of the redness indices and the skin-optics derivation of the chromophore directions.

The haemoglobin index is checked by its defining invariants on random float linear colours (added
haemoglobin raises it by exactly that amount; exposure and melanin leave it unchanged; a per-channel gain
shifts every pixel by one constant); the literature indices against colour-science.
"""

from __future__ import annotations

import itertools
import json
from importlib import resources
from typing import Any

import colour
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from needlecare.imaging import skin_optics
from needlecare.imaging.colour import D65_XYZ, LINEAR_FLOOR, to_linear
from needlecare.imaging.redness import (
    REDNESS_METHODS,
    UNITS,
    a_star,
    chromophores,
    erythema_index,
    haemoglobin_index,
    haemoglobin_index_from_linear,
    redness_map,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
U8 = npt.NDArray[np.uint8]

#: The stored directions are rounded to 4 decimals.
DIRECTION_ATOL = 1e-3
#: Invariants of the haemoglobin index (float32 arithmetic on optical densities up to ~9).
INDEX_ATOL = 1e-4

WAVELENGTHS = np.arange(400, 701, 10)
NM_450, NM_550, NM_650 = (int(np.flatnonzero(nm == WAVELENGTHS)[0]) for nm in (450, 550, 650))

#: Float linear colours, bright enough that gains and added absorption below stay above the floor.
LINEAR_PIXELS = arrays(np.float32, (16, 3), elements=st.floats(0.01171875, 1.0, width=32))
EXAMPLES = settings(max_examples=60, deadline=None)


@pytest.fixture(scope="module")
def derived() -> dict[str, Any]:
    return skin_optics.derive_directions()


def stored() -> dict[str, Any]:
    text = resources.files("needlecare.imaging").joinpath("data/chromophores.json").read_text()
    result: dict[str, Any] = json.loads(text)
    return result


def all_pairs_of_codes() -> U8:
    """(65536, 3) uint8: every (R, G) code pair, B fixed."""
    r, g = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    return np.stack([r.ravel(), g.ravel(), np.full(r.size, 100)], axis=-1).astype(np.uint8)


# --- chromophore directions -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["haemoglobin", "melanin"])
def test_stored_directions_agree_with_derivation(derived: dict[str, Any], name: str) -> None:
    np.testing.assert_allclose(stored()[name], derived[name], rtol=0, atol=DIRECTION_ATOL)
    np.testing.assert_allclose(getattr(chromophores(), name), derived[name], rtol=0, atol=DIRECTION_ATOL)


def test_stored_reference_skin_colour_agrees_with_derivation(derived: dict[str, Any]) -> None:
    np.testing.assert_allclose(stored()["reference_skin_srgb"], derived["reference_skin_srgb"], atol=0.5)


@pytest.mark.parametrize("name", ["haemoglobin", "melanin"])
def test_directions_are_unit_vectors(derived: dict[str, Any], name: str) -> None:
    assert np.linalg.norm(getattr(chromophores(), name)) == pytest.approx(1.0, abs=DIRECTION_ATOL)
    assert np.linalg.norm(derived[name]) == pytest.approx(1.0, abs=DIRECTION_ATOL)


def test_haemoglobin_absorbs_most_in_green_then_blue_least_in_red(derived: dict[str, Any]) -> None:
    for direction in (chromophores().haemoglobin, np.asarray(derived["haemoglobin"])):
        red, green, blue = direction
        assert green > blue > red > 0


def test_melanin_absorbs_most_in_blue_least_in_red() -> None:
    red, green, blue = chromophores().melanin
    assert blue > green > red > 0


def test_haemoglobin_weights_extract_haemoglobin_only() -> None:
    c = chromophores()
    w = c.haemoglobin_weights
    assert w.shape == (3,)
    assert float(w @ np.ones(3)) == pytest.approx(0.0, abs=1e-12)
    assert float(w @ c.melanin) == pytest.approx(0.0, abs=1e-12)
    assert float(w @ c.haemoglobin) == pytest.approx(1.0, abs=1e-12)


def test_unmix_recovers_coefficients() -> None:
    c = chromophores()
    coefficients = np.array([0.3, 0.7, -1.2])
    od = coefficients[0] * c.melanin + coefficients[1] * c.haemoglobin + coefficients[2] * np.ones(3)
    np.testing.assert_allclose(c.unmix @ od, coefficients, atol=1e-12)


# --- haemoglobin index invariants (float linear colours) --------------------------------------------------


@EXAMPLES
@given(LINEAR_PIXELS, st.floats(-1.0, 1.0))
def test_added_haemoglobin_raises_index_by_that_amount(linear: F32, amount: float) -> None:
    od = -np.log(linear.astype(np.float64)) + amount * chromophores().haemoglobin
    shifted = np.exp(-od).astype(np.float32)
    difference = haemoglobin_index_from_linear(shifted) - haemoglobin_index_from_linear(linear)
    np.testing.assert_allclose(difference, amount, rtol=0, atol=INDEX_ATOL)


@EXAMPLES
@given(LINEAR_PIXELS, st.floats(0.05, 20.0))
def test_exposure_leaves_index_unchanged(linear: F32, gain: float) -> None:
    exposed = (linear.astype(np.float64) * gain).astype(np.float32)
    np.testing.assert_allclose(
        haemoglobin_index_from_linear(exposed), haemoglobin_index_from_linear(linear), rtol=0, atol=INDEX_ATOL
    )


@EXAMPLES
@given(LINEAR_PIXELS, st.floats(-1.0, 2.0))
def test_added_melanin_leaves_index_unchanged(linear: F32, amount: float) -> None:
    od = -np.log(linear.astype(np.float64)) + amount * chromophores().melanin
    tanned = np.exp(-od).astype(np.float32)
    np.testing.assert_allclose(
        haemoglobin_index_from_linear(tanned), haemoglobin_index_from_linear(linear), rtol=0, atol=INDEX_ATOL
    )


@EXAMPLES
@given(LINEAR_PIXELS, arrays(np.float64, (3,), elements=st.floats(0.2, 5.0)))
def test_white_balance_gain_shifts_every_pixel_by_one_constant(linear: F32, gains: F64) -> None:
    balanced = (linear.astype(np.float64) * gains).astype(np.float32)
    shift = haemoglobin_index_from_linear(balanced) - haemoglobin_index_from_linear(linear)
    expected = -float(chromophores().haemoglobin_weights @ np.log(gains))
    np.testing.assert_allclose(shift, expected, rtol=0, atol=INDEX_ATOL)


def test_index_of_greys_is_zero() -> None:
    greys = np.repeat(np.linspace(0.01, 1.0, 50, dtype=np.float32)[:, None], 3, axis=1)
    np.testing.assert_allclose(haemoglobin_index_from_linear(greys), 0.0, atol=INDEX_ATOL)


def test_index_from_linear_floors_dark_channels() -> None:
    dark = np.array([[0.0, 0.5, 0.5], [LINEAR_FLOOR / 100, 0.5, 0.5]], dtype=np.float32)
    floored = np.array([LINEAR_FLOOR, 0.5, 0.5], dtype=np.float32)
    np.testing.assert_allclose(haemoglobin_index_from_linear(dark), haemoglobin_index_from_linear(floored))


def test_haemoglobin_index_uint8_agrees_with_linear_path() -> None:
    rng = np.random.default_rng(0)
    rgb = np.concatenate(
        [
            rng.integers(0, 256, size=(20000, 3), dtype=np.uint8),
            np.array([[0, 0, 0], [255, 255, 255]], np.uint8),
        ]
    )
    via_lut = haemoglobin_index(rgb)
    assert via_lut.dtype == np.float32
    assert via_lut.shape == (rgb.shape[0],)
    np.testing.assert_allclose(via_lut, haemoglobin_index_from_linear(to_linear(rgb)), rtol=0, atol=2e-5)


def test_haemoglobin_index_broadcasts() -> None:
    rgb = np.random.default_rng(1).integers(0, 256, size=(2, 3, 4, 5, 3), dtype=np.uint8)
    index = haemoglobin_index(rgb)
    assert index.shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(index.ravel(), haemoglobin_index(rgb.reshape(-1, 3)))


# --- literature indices against colour-science ------------------------------------------------------------


def test_erythema_index_matches_colour_science_decoding() -> None:
    rgb = all_pairs_of_codes()
    linear = colour.cctf_decoding(rgb / 255.0)
    expected = 100.0 * np.log10(
        np.maximum(linear[:, 0], LINEAR_FLOOR) / np.maximum(linear[:, 1], LINEAR_FLOOR)
    )
    actual = erythema_index(rgb)
    assert actual.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-4)
    # Away from code 0 (floored) it is exactly 100 log10(R_lin / G_lin).
    lit = (rgb[:, 0] > 0) & (rgb[:, 1] > 0)
    np.testing.assert_allclose(
        actual[lit], 100.0 * np.log10(linear[lit, 0] / linear[lit, 1]), rtol=0, atol=1e-4
    )


def test_erythema_index_sign() -> None:
    rgb = np.array([[200, 100, 100], [100, 100, 100], [100, 200, 100]], dtype=np.uint8)
    red, grey, green = erythema_index(rgb)
    assert red > 0
    assert green < 0
    assert grey == pytest.approx(0.0, abs=1e-6)


def test_a_star_matches_colour_science_lab() -> None:
    rgb = np.random.default_rng(2).integers(0, 256, size=(20000, 3), dtype=np.uint8)
    white_xy = colour.XYZ_to_xy(D65_XYZ)
    matrix = colour.normalised_primary_matrix(colour.RGB_COLOURSPACES["sRGB"].primaries, white_xy)
    xyz = colour.cctf_decoding(rgb / 255.0) @ matrix.T
    expected = colour.XYZ_to_Lab(xyz, white_xy)[:, 1]
    np.testing.assert_allclose(a_star(rgb), expected, rtol=0, atol=1e-3)
    # colour-science's stock sRGB (IEC 4-decimal matrix, 4-decimal D65) differs by < 0.05 in a*.
    d65 = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]
    stock = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb / 255.0, illuminant=d65), d65)[:, 1]
    np.testing.assert_allclose(a_star(rgb), stock, rtol=0, atol=0.05)


# --- method table -----------------------------------------------------------------------------------------


def test_redness_map_dispatches_each_method() -> None:
    rgb = np.random.default_rng(3).integers(0, 256, size=(6, 7, 3), dtype=np.uint8)
    assert set(REDNESS_METHODS) == set(UNITS)
    for name, function in REDNESS_METHODS.items():
        np.testing.assert_array_equal(redness_map(rgb, name), function(rgb))
    np.testing.assert_array_equal(redness_map(rgb), haemoglobin_index(rgb))


def test_redness_map_unknown_method_lists_valid_names() -> None:
    rgb = np.zeros((2, 2, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="unknown redness method 'bogus'") as info:
        redness_map(rgb, "bogus")
    for name in REDNESS_METHODS:
        assert repr(name) in str(info.value)


# --- skin reflectance model -------------------------------------------------------------------------------

BLOOD = np.array([0.0, 0.002, 0.01, 0.02, 0.05, 0.1, 0.3])
MELANIN = np.array([0.0, 0.01, 0.05, 0.1, 0.2, 0.4])


def test_skin_reflectance_is_a_reflectance() -> None:
    for blood in BLOOD:
        for melanin in MELANIN:
            r = skin_optics.skin_reflectance(float(blood), float(melanin))
            assert r.shape == WAVELENGTHS.shape
            assert np.all((r > 0) & (r <= 1)), (blood, melanin)


@pytest.mark.parametrize("melanin", [0.01, 0.05, 0.2])
def test_more_blood_is_redder(melanin: float) -> None:
    spectra = np.array([skin_optics.skin_reflectance(float(b), melanin) for b in BLOOD])
    red_to_green = spectra[:, NM_650] / spectra[:, NM_550]
    assert np.all(red_to_green > 1)
    assert np.all(np.diff(red_to_green) > 0)


@pytest.mark.parametrize("blood", [0.002, 0.02, 0.05])
def test_more_melanin_is_darker_in_blue(blood: float) -> None:
    at_450 = np.array([skin_optics.skin_reflectance(blood, float(m))[NM_450] for m in MELANIN])
    assert np.all(np.diff(at_450) < 0)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.001, 0.2), st.floats(0.001, 0.2), st.floats(0.0, 0.4))
def test_reflectance_falls_with_blood_at_every_wavelength(b1: float, b2: float, melanin: float) -> None:
    low, high = sorted((b1, b2))
    assert np.all(skin_optics.skin_reflectance(high, melanin) <= skin_optics.skin_reflectance(low, melanin))


# --- a* change of added haemoglobin -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0.15, 0.7), st.floats(0.05, 0.45), st.floats(0.03, 0.35), st.floats(-0.3, 0.5)
)  # skin-like linear colours and index changes
def test_a_star_change_matches_colour_science(red: float, green: float, blue: float, delta: float) -> None:
    from needlecare.imaging.redness import a_star_change, chromophores

    skin = np.array([red, green, blue])
    after = skin * np.exp(-delta * chromophores().haemoglobin)
    white = colour.CCS_ILLUMINANTS["CIE 1931 2 Degree Standard Observer"]["D65"]

    def a_star(linear: np.ndarray) -> float:
        xyz = colour.RGB_to_XYZ(linear, "sRGB", apply_cctf_decoding=False)
        return float(colour.XYZ_to_Lab(xyz, white)[1])

    assert a_star_change(skin, delta) == pytest.approx(a_star(after) - a_star(skin), abs=0.01)


def test_a_star_change_grows_with_the_dose_and_reaches_colipa_near_0_2() -> None:
    from needlecare.imaging.redness import a_star_change

    skin = np.array([0.45, 0.25, 0.18])  # a light-medium skin tone, linear sRGB
    changes = [a_star_change(skin, d) for d in (0.0, 0.05, 0.1, 0.2, 0.3)]
    assert changes[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(changes))
    assert 1.5 < changes[3] < 4.0  # 0.2 OD_hb is about COLIPA's minimal visible erythema (2.5)
