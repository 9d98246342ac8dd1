"""Colour references inside the photo, used to take white balance out of the redness index.

Kinds, best first:

``colour_checker``
    An X-Rite/Calibrite ColorChecker Classic found with colour-checker-detection's segmentation method
    (OpenCV only, no downloaded weights). A 3x3 linear correction (Cheung et al. 2004), which passes exposure
    through, maps the photo's linear RGB onto the chart's reference values.
``in_photo``
    For a follow-up compared with its baseline: the eyes, registered pixel by pixel with the baseline's, and
    what surrounds the face (hair, clothing, background, teeth), registered as a whole, give the follow-up's
    light relative to the baseline's (:mod:`needlecare.imaging.relative_light`), and the follow-up is
    re-measured in the baseline's white balance (``analysis.baseline.match_white_balance``).
    A single photo has no such reference: the sclera or teeth (eye ring minus the iris disc, else the inside
    of the lip ring; the pixels between the 30th and 70th luminance percentile) are measured here but only
    used to tell whether two photos were taken under different light when the eyes cannot be matched. As an
    absolute reference they are too imprecise: the haemoglobin weights (-1.84, 2.99, -1.15 per OD of R, G,
    B) turn a 1 % error in one channel into up to 0.03 OD_hb, and a few hundred sclera or teeth pixels moved
    the corrected index by 0.03-0.14 OD_hb under 10-15 % red/blue gains on six faces.

Without either, ``none``: the index then depends on the camera's white balance, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

import cv2
import numpy as np

from needlecare.hints import Float64Array, FloatArray, ImageU8, Mask
from needlecare.imaging.checker import chart_crop, might_contain_checker, read_patches, screen_image
from needlecare.imaging.colour import channel_extremes, optical_density, to_linear
from needlecare.imaging.regions import LEFT_IRIS, LIPS_INNER, RIGHT_IRIS, eye_openings

ReferenceKind = Literal["colour_checker", "in_photo", "none"]

#: Fewest usable reference pixels (analysis frame) for a trustworthy reference.
MIN_REFERENCE_PIXELS = 30
#: Smallest eye distance in the photo's own pixels for the sclera or teeth to be resolved at all.
MIN_NATIVE_EYE_DISTANCE = 40.0
#: A reference whose channels' OD differ by more than this is too coloured to be sclera or teeth
#: (closed eyes, lips, gums, lashes).
MAX_REFERENCE_OD_SPREAD = 0.8
#: Luminance percentiles of the reference candidates that are used: above the lids, lashes, lips and gums,
#: below glare and clipping.
REFERENCE_BAND = (30.0, 70.0)
#: Pixels with any channel at or above this 8-bit code are treated as clipped.
CLIPPED_CODE = 250
#: Linear value above which a chart patch counts as clipped (8-bit code ~245).
CHECKER_CLIPPED_LINEAR = 0.91
#: Linear value below which a chart patch is too dark to carry colour (8-bit code ~18).
CHECKER_DARK_LINEAR = 0.005
#: Largest error (linear units) of the corrected patches for a detection to be believed.
CHECKER_MAX_RESIDUAL = 0.08
#: Fewest usable (neither clipped nor near-black) patches for a correction.
CHECKER_MIN_PATCHES = 12


@dataclass(frozen=True)
class ColourReference:
    """The colour reference of one photo.

    Attributes
    ----------
    kind : {"colour_checker", "in_photo", "none"}
    detail : str
        Human-readable description, e.g. ``"sclera, 212 px"``.
    correction : (3, 3) float64 or None
        Linear-RGB correction matrix (row vectors: ``corrected = rgb @ correction.T``) for a colour checker.
    illuminant_chroma : (3,) float64
        The light's colour as an OD vector with its mean removed (0 for neutral light); compared between a
        baseline and a follow-up to tell whether they were taken under different light.
    """

    kind: ReferenceKind
    detail: str
    correction: Float64Array | None
    illuminant_chroma: Float64Array


def _chroma(od: Float64Array) -> Float64Array:
    result: Float64Array = od - od.mean()
    return result


def sclera_mask(xy: FloatArray, shape: tuple[int, int], eye_distance: float) -> Mask:
    """Candidate sclera pixels: the eye openings (:func:`~needlecare.imaging.regions.eye_openings`) minus the
    iris discs, (H, W) bool."""
    mask = eye_openings(xy, shape, eye_distance).astype(np.uint8)
    for iris in (RIGHT_IRIS, LEFT_IRIS):
        points = xy[list(iris)]
        centre = points.mean(axis=0)
        radius = float(np.linalg.norm(points - centre, axis=1).mean()) * 1.25
        cv2.circle(mask, (round(centre[0]), round(centre[1])), int(np.ceil(radius)), 0, -1)
    return mask.astype(bool)


def teeth_mask(xy: FloatArray, shape: tuple[int, int], eye_distance: float) -> Mask:
    """Candidate teeth pixels: inside the inner lip ring, eroded, (H, W) bool."""
    mask = np.zeros(shape, dtype=np.uint8)
    cv2.fillPoly(mask, [np.round(xy[list(LIPS_INNER)]).astype(np.int32).reshape(-1, 1, 2)], 1)
    erode = max(1, round(0.015 * eye_distance))
    return cv2.erode(mask, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8)).astype(bool)


def _neutral_od(pixels: ImageU8) -> tuple[Float64Array, int] | None:
    """OD of the mid-bright part of candidate pixels (:data:`REFERENCE_BAND` luminance percentiles).

    The percentiles are ranks over all candidates, clipped ones included, so the same pixels are chosen
    whatever the exposure or a moderate white-balance change, as long as fewer than 30 % of them clip.
    """
    if len(pixels) < 2 * MIN_REFERENCE_PIXELS:
        return None
    linear = to_linear(pixels)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    low, high = np.percentile(luminance, REFERENCE_BAND)
    chosen = (luminance >= low) & (luminance <= high)
    if (pixels[chosen].max(axis=1) >= CLIPPED_CODE).any() or (pixels[chosen].min(axis=1) <= 10).any():
        return None
    band = linear[chosen]
    if len(band) < MIN_REFERENCE_PIXELS:
        return None
    od = optical_density(np.median(band, axis=0).astype(np.float32)).astype(np.float64)
    if float(np.ptp(od)) > MAX_REFERENCE_OD_SPREAD:
        return None
    return od, len(band)


def in_photo_reference(
    rgb: ImageU8, xy: FloatArray, eye_distance: float, native_eye_distance: float
) -> ColourReference | None:
    """The sclera, else the teeth, as an in-photo reference; None when neither can be measured reliably.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        Analysis-frame image.
    xy : (478, 2) float
        Landmarks in the analysis frame.
    eye_distance : float
        Eye distance in the analysis frame, px.
    native_eye_distance : float
        Eye distance in the photo as taken (full resolution), px.
    """
    if native_eye_distance < MIN_NATIVE_EYE_DISTANCE:
        return None
    for name, mask in (
        ("sclera (whites of the eyes)", sclera_mask(xy, rgb.shape[:2], eye_distance)),
        ("teeth", teeth_mask(xy, rgb.shape[:2], eye_distance)),
    ):
        found = _neutral_od(rgb[mask])
        if found is not None:
            od, count = found
            return ColourReference(
                kind="in_photo",
                detail=f"{name}, {count} px",
                correction=None,
                illuminant_chroma=_chroma(od),
            )
    return None


@cache
def _checker_reference_linear() -> Float64Array:
    """(24, 3) float64: the ColorChecker Classic's patches (values after November 2014) in linear sRGB, D65.

    One value (cyan's red) is slightly negative: outside the sRGB gamut.
    """
    import colour

    chart = colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyy = np.array(list(chart.data.values()))
    linear = colour.XYZ_to_RGB(
        colour.xyY_to_XYZ(xyy), "sRGB", illuminant=chart.illuminant, chromatic_adaptation_transform="Bradford"
    )
    result: Float64Array = np.asarray(linear, dtype=np.float64)
    result.setflags(write=False)
    return result


def _fit_correction(measured: Float64Array) -> tuple[Float64Array, float] | None:
    """3x3 correction (row vectors) mapping measured patches onto the reference, and its largest error.

    Parameters
    ----------
    measured : (24, 3) float64
        Linear RGB of the patches in chart order.

    Returns
    -------
    (matrix, residual) or None
        None when this is not a sound reading of the chart: fewer than :data:`CHECKER_MIN_PATCHES` usable
        (neither clipped nor near black) patches, a black patch (sampled off the chart), a grey row not in
        falling luminance order (misread or wrongly oriented), or a corrected patch off by more than
        :data:`CHECKER_MAX_RESIDUAL`.
    """
    import colour

    reference = _checker_reference_linear()
    if measured.shape != reference.shape or not np.isfinite(measured).all():
        return None
    if measured.max(axis=1).min() <= CHECKER_DARK_LINEAR:
        return None
    grey_luminance = measured[18:24] @ np.array([0.2126, 0.7152, 0.0722])
    if not (np.diff(grey_luminance) < 0).all():
        return None
    usable = (measured.max(axis=1) < CHECKER_CLIPPED_LINEAR) & (measured.min(axis=1) > CHECKER_DARK_LINEAR)
    if usable.sum() < CHECKER_MIN_PATCHES:
        return None
    matrix = np.asarray(
        colour.characterisation.matrix_colour_correction(
            measured[usable], reference[usable], method="Cheung 2004", terms=3
        ),
        dtype=np.float64,
    )
    residual = float(np.abs(measured[usable] @ matrix.T - reference[usable]).max())
    return (matrix, residual) if residual <= CHECKER_MAX_RESIDUAL else None


def colour_checker_reference(rgb: ImageU8) -> ColourReference | None:
    """Find a ColorChecker Classic in the photo and fit a 3x3 linear colour correction to it.

    A screen of a few ms rejects photos without a grid of patch-like blobs; only the region around such a
    grid is segmented and read (:mod:`needlecare.imaging.checker`). Of the four possible orientations of the
    patch grid (as seen, turned by 180 degrees, mirrored as by a selfie camera) the one whose correction fits
    best is used.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        The whole photo, sRGB-encoded, any resolution. The chart may be turned by any angle and seen in mild
        perspective; its patches should be at least ~12 px wide in a 640-px reduction of the photo.

    Returns
    -------
    ColourReference or None
        ``kind="colour_checker"`` with ``correction`` (``corrected = linear @ correction.T`` maps the photo's
        linear RGB onto the chart's reference values, whatever the exposure and white balance), or None.
    """
    gray, factor = screen_image(rgb)
    box = might_contain_checker(gray)
    if box is None:
        return None
    crop = chart_crop(rgb, box, factor)
    best: tuple[Float64Array, float, Float64Array] | None = None
    for grid in read_patches(crop, to_linear(crop)):
        for oriented in (grid, grid[::-1, ::-1], grid[:, ::-1], grid[::-1, :]):
            measured = oriented.reshape(24, 3)
            fit = _fit_correction(measured)
            if fit is not None and (best is None or fit[1] < best[1]):
                best = (fit[0], fit[1], measured)
    if best is None:
        return None
    matrix, residual, measured = best
    greys = measured[18:24]
    return ColourReference(
        kind="colour_checker",
        detail=f"ColorChecker Classic (24 patches), 3x3 linear correction, largest error {residual:.3f}",
        correction=matrix,
        illuminant_chroma=_chroma(-np.log(greys.mean(axis=0))),
    )


def grey_world_reference(rgb: ImageU8, face: Mask) -> ColourReference:
    """No reference: record the background's grey-world colour, only to compare the light between photos."""
    low, high = channel_extremes(rgb)
    background = ~face & (high < CLIPPED_CODE) & (low > 5)
    if not background.any():
        chroma = np.zeros(3)
    else:
        means = cv2.mean(to_linear(rgb), mask=background.view(np.uint8))
        mean_linear = np.array(means, dtype=np.float64)[:3]
        chroma = _chroma(-np.log(np.maximum(mean_linear, 1e-4)))
    return ColourReference(
        kind="none",
        detail="no colour reference found: the index depends on the camera's white balance",
        correction=None,
        illuminant_chroma=chroma,
    )
