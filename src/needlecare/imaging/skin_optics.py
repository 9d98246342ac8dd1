"""Derivation of the haemoglobin and melanin directions in optical-density space of an sRGB camera.

Skin colour is, to a good approximation, a sum of a melanin and a haemoglobin absorption direction in
optical-density space plus shading along (1, 1, 1) (Tsumura et al., JOSA A 1999). The directions depend on
the camera; for an sRGB-rendered photo we derive them from a published skin-optics model instead of using
unexplained example vectors:

- dermis: diffuse reflectance of a semi-infinite turbid medium,
  ``R = exp(-7 sqrt(mu_a / (3 (mu_a + mu_s'))))``
  (Jacques, "Skin optics", Oregon Medical Laser Center News 1998), with blood absorption from Prahl's
  haemoglobin table (75 % oxygenated whole blood, 150 g/L, 64,500 g/mol), the bloodless-tissue baseline
  ``mu_a = 0.244 + 85.3 exp(-(lambda - 154) / 66.2)`` cm^-1 and reduced scattering
  ``mu_s' = 46 (lambda / 500 nm)^-1.421`` cm^-1 (Jacques, Phys Med Biol 2013);
- epidermis: transmission ``exp(-m mu_a,mel L)`` passed twice, ``mu_a,mel = 6.6e11 lambda^-3.33`` cm^-1,
  thickness ``L = 60 um`` (Jacques 1998);
- camera: D65 illumination, CIE 1931 2-degree observer, XYZ -> linear sRGB.

The directions are the normalised derivatives of ``-ln(linear sRGB)`` with respect to blood volume fraction
and melanin volume fraction at a reference light-brown skin (2 % blood, 5 % melanin). They are stored in
``data/chromophores.json``; :func:`derive_directions` recomputes them (a test checks that they agree).
The Soret band makes pure haemoglobin look blue-absorbing in a thin-film model; the diffusion model reproduces
what is measured on skin: haemoglobin absorbs most in green, less in blue, little in red.
"""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

import numpy as np

from needlecare.hints import Float64Array

_WAVELENGTHS_NM = np.arange(400, 701, 10, dtype=np.float64)
_OXYGEN_SATURATION = 0.75
_HAEMOGLOBIN_G_PER_L = 150.0
_HAEMOGLOBIN_G_PER_MOL = 64_500.0
_EPIDERMIS_CM = 0.006
REFERENCE_BLOOD_FRACTION = 0.02
REFERENCE_MELANIN_FRACTION = 0.05


def _blood_absorption_per_cm() -> Float64Array:
    text = resources.files("needlecare.imaging").joinpath("data/haemoglobin_extinction.csv").read_text()
    rows = list(csv.reader(line for line in text.splitlines() if not line.startswith("#")))[1:]
    table = np.array(rows, dtype=np.float64)
    if not np.array_equal(table[:, 0], _WAVELENGTHS_NM):
        raise ValueError("haemoglobin_extinction.csv must list 400-700 nm every 10 nm")
    epsilon = _OXYGEN_SATURATION * table[:, 1] + (1 - _OXYGEN_SATURATION) * table[:, 2]
    result: Float64Array = np.log(10) * epsilon * _HAEMOGLOBIN_G_PER_L / _HAEMOGLOBIN_G_PER_MOL
    return result


def skin_reflectance(blood_fraction: float, melanin_fraction: float) -> Float64Array:
    """Diffuse reflectance spectrum of skin, 400-700 nm every 10 nm.

    Parameters
    ----------
    blood_fraction : float
        Dermal blood volume fraction, 0-1 (typical 0.002-0.05).
    melanin_fraction : float
        Epidermal melanin volume fraction, 0-1 (0.01-0.05 light, 0.1-0.4 dark skin).

    Returns
    -------
    (31,) float64 array
        Reflectance, 0-1.

    Examples
    --------
    >>> r = skin_reflectance(0.02, 0.05)
    >>> bool(r[-1] > r[15])  # skin reflects more red (700 nm) than green (550 nm)
    True
    """
    wl = _WAVELENGTHS_NM
    mua_baseline = 0.244 + 85.3 * np.exp(-(wl - 154.0) / 66.2)
    mua = blood_fraction * _blood_absorption_per_cm() + (1 - blood_fraction) * mua_baseline
    mus_reduced = 46.0 * (wl / 500.0) ** -1.421
    dermis = np.exp(-7.0 * np.sqrt(mua / (3.0 * (mua + mus_reduced))))
    epidermis = np.exp(-melanin_fraction * 6.6e11 * wl**-3.33 * _EPIDERMIS_CM)
    result: Float64Array = epidermis**2 * dermis
    return result


def reflectance_to_linear_srgb(reflectance: Float64Array) -> Float64Array:
    """Linear sRGB (0-1) of a reflectance spectrum under D65 seen by the CIE 1931 2-degree observer."""
    import colour

    shape = colour.SpectralShape(400, 700, 10)
    cmfs = colour.MSDS_CMFS["CIE 1931 2 Degree Standard Observer"].copy().align(shape)
    illuminant = colour.SDS_ILLUMINANTS["D65"].copy().align(shape)
    sd = colour.SpectralDistribution(dict(zip(_WAVELENGTHS_NM, reflectance, strict=True)))
    # Plain sum over the 10 nm samples: the default ASTM E308 method needs 1 nm CMFS for its weighting
    # tables and warns (ColourRuntimeWarning) when given the aligned ones.
    xyz = colour.sd_to_XYZ(sd, cmfs, illuminant, method="Integration") / 100.0
    result: Float64Array = np.asarray(colour.RGB_COLOURSPACES["sRGB"].matrix_XYZ_to_RGB @ xyz)
    return result


def derive_directions(step: float = 1e-3) -> dict[str, Any]:
    """Unit optical-density directions of haemoglobin and melanin for an sRGB camera.

    Returns
    -------
    dict
        ``{"haemoglobin": [r, g, b], "melanin": [r, g, b], "reference_skin_srgb": [r, g, b]}``; directions are
        unit vectors in natural-log optical density (OD = -ln linear sRGB), channel order R, G, B.
    """

    def od(blood: float, melanin: float) -> Float64Array:
        result: Float64Array = -np.log(reflectance_to_linear_srgb(skin_reflectance(blood, melanin)))
        return result

    b0, m0 = REFERENCE_BLOOD_FRACTION, REFERENCE_MELANIN_FRACTION
    d_blood = od(b0 * (1 + step), m0) - od(b0, m0)
    d_melanin = od(b0, m0 * (1 + step)) - od(b0, m0)
    linear = reflectance_to_linear_srgb(skin_reflectance(b0, m0))
    import colour

    srgb = colour.cctf_encoding(np.clip(linear, 0, 1))
    return {
        "haemoglobin": (d_blood / np.linalg.norm(d_blood)).round(4).tolist(),
        "melanin": (d_melanin / np.linalg.norm(d_melanin)).round(4).tolist(),
        "reference_skin_srgb": (srgb * 255).round(1).tolist(),
    }
