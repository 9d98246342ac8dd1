"""Per-pixel redness indices and the method table behind them.

The default index, ``"haemoglobin"``, decomposes each pixel's optical density (OD = -ln linear sRGB) into a
melanin direction, a haemoglobin direction and shading along (1, 1, 1) (Tsumura et al. 1999) and keeps the
haemoglobin coefficient. Its unit, ``OD_hb``, is natural-log optical density along the unit haemoglobin
direction of :mod:`needlecare.imaging.skin_optics`: adding haemoglobin absorption ``d`` (in OD_hb) to a pixel
raises its index by exactly ``d``. Exposure (a gain on linear light) shifts OD along (1, 1, 1) and melanin
along its own direction; neither moves the index. A white-balance gain shifts every pixel's index by the same
constant, which :mod:`needlecare.imaging.reference` removes with an in-photo reference.

Other methods, for comparison with the literature: ``"erythema_index"`` (100 log10(R/G), linear light) and
``"a_star"`` (CIELAB a*, D65 white; not exposure-invariant).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from needlecare.hints import Float64Array, FloatArray, ImageU8
from needlecare.imaging.colour import LINEAR_FLOOR, linear_to_lab, optical_density_lut, to_linear
from needlecare.imaging.validation import check_linear, check_rgb8


@dataclass(frozen=True)
class Chromophores:
    """Unit OD directions (R, G, B) and the row that extracts each coefficient.

    ``coefficients = unmix @ od`` gives (melanin, haemoglobin, shading) for an OD vector ``od``.
    """

    haemoglobin: Float64Array
    melanin: Float64Array
    unmix: Float64Array

    @property
    def haemoglobin_weights(self) -> Float64Array:
        """(3,) weights ``w`` with ``index = w @ od``; ``w @ (1, 1, 1) = 0`` and ``w @ melanin = 0``."""
        weights: Float64Array = self.unmix[1]
        return weights


@cache
def chromophores() -> Chromophores:
    """The directions stored in ``data/chromophores.json`` (derived in :mod:`~.skin_optics`)."""
    raw = json.loads(resources.files("needlecare.imaging").joinpath("data/chromophores.json").read_text())
    haemoglobin = np.asarray(raw["haemoglobin"], dtype=np.float64)
    melanin = np.asarray(raw["melanin"], dtype=np.float64)
    basis = np.column_stack([melanin, haemoglobin, np.ones(3)])
    return Chromophores(haemoglobin=haemoglobin, melanin=melanin, unmix=np.linalg.inv(basis))


UNITS: dict[str, str] = {
    "haemoglobin": "OD_hb",
    "erythema_index": "EI",
    "a_star": "a*",
}


@cache
def _haemoglobin_luts() -> FloatArray:
    """(3, 256) float32: each channel's contribution to the haemoglobin index for each 8-bit code."""
    weights = chromophores().haemoglobin_weights.astype(np.float32)
    return weights[:, None] * optical_density_lut()[None, :]


def haemoglobin_index(rgb: ImageU8) -> FloatArray:
    """Haemoglobin index of 8-bit sRGB pixels, in OD_hb.

    Parameters
    ----------
    rgb : (..., 3) uint8
        sRGB pixels.

    Returns
    -------
    (...) float32
        Haemoglobin coefficient of each pixel's optical density; higher = redder.

    Examples
    --------
    >>> grey = np.full((2, 2, 3), 128, dtype=np.uint8)
    >>> bool(np.allclose(haemoglobin_index(grey), 0.0, atol=1e-5))  # neutral pixels carry no haemoglobin
    True
    """
    rgb = check_rgb8(rgb)
    luts = _haemoglobin_luts()
    result: FloatArray = luts[0][rgb[..., 0]] + luts[1][rgb[..., 1]] + luts[2][rgb[..., 2]]
    return result


def haemoglobin_index_from_linear(linear: FloatArray) -> FloatArray:
    """Haemoglobin index (OD_hb) of linear-light pixels (..., 3), e.g. after colour correction."""
    linear = check_linear(linear)
    od = -np.log(np.maximum(linear, LINEAR_FLOOR))
    weights = chromophores().haemoglobin_weights.astype(np.float32)
    result: FloatArray = (od @ weights).astype(np.float32)
    return result


def a_star_change(skin_linear: Float64Array, delta_od_hb: float) -> float:
    """CIELAB a* change (D65) of a skin colour when haemoglobin absorption of *delta_od_hb* is added to it.

    Converts an index change into the unit of visibility thresholds (COLIPA's minimal visible erythema is a
    rise in a* of about 2.5) for this person's own skin colour: the colour's optical density is moved along
    the unit haemoglobin direction and both colours are converted to CIELAB.

    Parameters
    ----------
    skin_linear : (3,) float
        Mean linear sRGB of the skin (0-1), e.g. of the baseline photo.
    delta_od_hb : float
        Index change, OD_hb.

    Returns
    -------
    float
        a*(after) - a*(before).

    Examples
    --------
    >>> skin = np.array([0.45, 0.25, 0.18])
    >>> round(a_star_change(skin, 0.0), 6)
    0.0
    >>> a_star_change(skin, 0.2) > a_star_change(skin, 0.1) > 0
    True
    """
    before = np.asarray(skin_linear, dtype=np.float64)
    after = before * np.exp(-delta_od_hb * chromophores().haemoglobin)
    lab = linear_to_lab(np.stack([before, after]))
    return float(lab[1, 1] - lab[0, 1])


def erythema_index(rgb: ImageU8) -> FloatArray:
    """Camera erythema index ``100 log10(R_lin / G_lin)`` of 8-bit sRGB pixels (..., 3) -> (...)."""
    linear = np.maximum(to_linear(check_rgb8(rgb)), LINEAR_FLOOR)
    result: FloatArray = (100.0 * np.log10(linear[..., 0] / linear[..., 1])).astype(np.float32)
    return result


def a_star(rgb: ImageU8) -> FloatArray:
    """CIELAB a* (D65 white) of 8-bit sRGB pixels (..., 3) -> (...)."""
    result: FloatArray = linear_to_lab(to_linear(check_rgb8(rgb)))[..., 1]
    return result


REDNESS_METHODS: dict[str, Callable[[ImageU8], FloatArray]] = {
    "haemoglobin": haemoglobin_index,
    "erythema_index": erythema_index,
    "a_star": a_star,
}


def redness_map(rgb: ImageU8, method: str = "haemoglobin") -> FloatArray:
    """Per-pixel redness of an 8-bit sRGB image with the named method (see :data:`REDNESS_METHODS`).

    Raises
    ------
    ValueError
        For an unknown method (the message lists the valid names), or an image that is not (..., 3).
    TypeError
        For an image that is not uint8 (see :func:`needlecare.imaging.validation.check_rgb8`).
    """
    try:
        function = REDNESS_METHODS[method]
    except KeyError:
        raise ValueError(
            f"unknown redness method {method!r}; choose one of {sorted(REDNESS_METHODS)}"
        ) from None
    return function(rgb)
