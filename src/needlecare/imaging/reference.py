"""Colour references inside the photo, used to take white balance out of the redness index.

Two kinds, best first:

``colour_checker``
    An X-Rite/Calibrite ColorChecker Classic found with colour-checker-detection's segmentation method
    (OpenCV only, no downloaded weights). A 3x3 linear correction (Cheung et al. 2004), which passes exposure
    through, maps the photo's linear RGB onto the chart's reference values.
``in_photo``
    The sclera (whites of the eyes: eye ring minus the iris disc) or, when too little sclera shows (smiling,
    squinting), the teeth (inside of the lip ring). Located from the face mesh; of those pixels the ones
    between the 30th and 70th luminance percentile are used (above lids and gums, below glare), which is a rank rule
    and so does not change with exposure. Their optical density gives the per-channel gains of the light;
    the index is taken relative to it. It assumes the reference's own colour does not change between photos
    (bloodshot eyes or a tooth whitening break that assumption); the report names which one was used.

Without either, ``none``: the index then depends on the camera's white balance, and the report says so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache
from typing import Literal

import cv2
import numpy as np

from needlecare.hints import Float64Array, FloatArray, ImageU8, Mask
from needlecare.imaging.colour import optical_density, to_linear
from needlecare.imaging.regions import LEFT_EYE, LEFT_IRIS, LIPS_INNER, RIGHT_EYE, RIGHT_IRIS

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
#: Fewest patches seen (screen) or usable (fit) for a chart.
CHECKER_MIN_PATCHES = 12
#: Aspect ratio of the ColorChecker Classic's 6 x 4 patch grid (as colour-checker-detection samples it).
CHECKER_ASPECT_RATIO = 6 / 4
#: Long side (px) of the reduced grey image the cheap screen looks at.
CHECKER_SCREEN_SIDE = 640
#: Block size (px, screen scale) of the screen's adaptive threshold.
CHECKER_SCREEN_BLOCK = 31
#: Smallest patch side (px, screen scale) the screen accepts.
CHECKER_MIN_PATCH_SIDE = 7
#: Largest patch side, as a fraction of the screen image's long side.
CHECKER_MAX_PATCH_FRACTION = 0.12
#: Margin around the screened grid, as a fraction of its long side, for patches the screen missed.
CHECKER_CROP_MARGIN = 0.35
#: Long side (px) of the crop handed to colour-checker-detection.
CHECKER_WORKING_WIDTH = 640
#: Side (px, on the library's rectified chart) of the square sampled in each patch.
CHECKER_SAMPLES = 32


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
    neutral_od : (3,) float64 or None
        Optical density of the reference (in-photo kind) or of the chart's grey patches after correction.
    illuminant_chroma : (3,) float64
        The light's colour as an OD vector with its mean removed (0 for neutral light); compared between a
        baseline and a follow-up to tell whether they were taken under different light.
    """

    kind: ReferenceKind
    detail: str
    correction: Float64Array | None
    neutral_od: Float64Array | None
    illuminant_chroma: Float64Array


def _chroma(od: Float64Array) -> Float64Array:
    result: Float64Array = od - od.mean()
    return result


def sclera_mask(xy: FloatArray, shape: tuple[int, int], eye_distance: float) -> Mask:
    """Candidate sclera pixels: both eye rings, eroded, minus the iris discs, (H, W) bool."""
    mask = np.zeros(shape, dtype=np.uint8)
    for ring in (RIGHT_EYE, LEFT_EYE):
        cv2.fillPoly(mask, [np.round(xy[list(ring)]).astype(np.int32).reshape(-1, 1, 2)], 1)
    erode = max(1, round(0.02 * eye_distance))
    mask = cv2.erode(mask, np.ones((2 * erode + 1, 2 * erode + 1), np.uint8))
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
                neutral_od=od,
                illuminant_chroma=_chroma(od),
            )
    return None


@cache
def _checker_reference_linear() -> Float64Array:
    """(24, 3) float64: the ColorChecker Classic's patches (post-Nov-2014 values) in linear sRGB, D65."""
    import colour

    chart = colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyy = np.array(list(chart.data.values()))
    linear = colour.XYZ_to_RGB(
        colour.xyY_to_XYZ(xyy), "sRGB", illuminant=chart.illuminant, chromatic_adaptation_transform="Bradford"
    )
    result: Float64Array = np.asarray(linear, dtype=np.float64)
    result.setflags(write=False)
    return result


def _screen_image(rgb: ImageU8) -> tuple[ImageU8, int]:
    """Grey image reduced by an integer factor to at most :data:`CHECKER_SCREEN_SIDE`; returns it and the factor.

    An integer factor on a cropped-to-multiple image takes OpenCV's fast area-averaging path.
    """
    height, width = rgb.shape[:2]
    factor = max(1, -(-max(height, width) // CHECKER_SCREEN_SIDE))
    if factor > 1:
        rgb = cv2.resize(
            rgb[: height - height % factor, : width - width % factor],
            (width // factor, height // factor),
            interpolation=cv2.INTER_AREA,
        )
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), factor


def _might_contain_checker(gray_small: ImageU8) -> tuple[int, int, int, int] | None:
    """Cheap screen for a ColorChecker: a grid of at least 12 similar, square, bright-on-dark blobs.

    Parameters
    ----------
    gray_small : (H, W) uint8
        Grey image, long side at most a few hundred px.

    Returns
    -------
    (x0, y0, x1, y1) or None
        Bounding box (px, exclusive end) of the grid of patch-like blobs, or None when there is none.
    """
    binary = cv2.adaptiveThreshold(
        gray_small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, CHECKER_SCREEN_BLOCK, 2
    )
    _count, _labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=4)
    x, y, w, h, area = stats[1:].T
    side_limit = CHECKER_MAX_PATCH_FRACTION * max(gray_small.shape)
    patch_like = (
        (area >= CHECKER_MIN_PATCH_SIDE**2)
        & (np.maximum(w, h) <= side_limit)
        & (w < 1.4 * h)
        & (h < 1.4 * w)
        & (area > 0.75 * w * h)
    )
    if patch_like.sum() < CHECKER_MIN_PATCHES:
        return None
    x, y, w, h = x[patch_like], y[patch_like], w[patch_like], h[patch_like]
    centre = centroids[1:][patch_like]
    side = np.sqrt(area[patch_like].astype(np.float64))
    # Grid neighbours: a blob of similar size one patch pitch (patch + gap) away, in any direction.
    distance = np.linalg.norm(centre[:, None, :] - centre[None, :, :], axis=2)
    mean_side = (side[:, None] + side[None, :]) / 2
    similar = np.abs(np.log(side[:, None] / side[None, :])) < np.log(1.3)
    neighbours = similar & (distance > 1.0 * mean_side) & (distance < 1.8 * mean_side)
    # The largest group of blobs linked through grid neighbours.
    unvisited = np.ones(len(side), dtype=bool)
    best: list[int] = []
    for start in range(len(side)):
        if not unvisited[start] or not neighbours[start].any():
            continue
        group, frontier = [start], [start]
        unvisited[start] = False
        while frontier:
            linked = np.flatnonzero(neighbours[frontier].any(axis=0) & unvisited)
            unvisited[linked] = False
            group.extend(linked.tolist())
            frontier = linked.tolist()
        if len(group) > len(best):
            best = group
    if len(best) < CHECKER_MIN_PATCHES:
        return None
    chosen = np.asarray(best)
    return (
        int(x[chosen].min()),
        int(y[chosen].min()),
        int((x[chosen] + w[chosen]).max()),
        int((y[chosen] + h[chosen]).max()),
    )


def _chart_crop(rgb: ImageU8, box: tuple[int, int, int, int], factor: int) -> ImageU8:
    """The photo around a screened grid, with room for two missed patch rows or columns on every side,
    reduced to at most :data:`CHECKER_WORKING_WIDTH` (long side)."""
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = (v * factor for v in box)
    margin = CHECKER_CROP_MARGIN * max(x1 - x0, y1 - y0)
    left, top = max(0, int(x0 - margin)), max(0, int(y0 - margin))
    right, bottom = min(width, int(x1 + margin)), min(height, int(y1 + margin))
    crop = rgb[top:bottom, left:right]
    scale = CHECKER_WORKING_WIDTH / max(crop.shape[:2])
    if scale < 1:
        size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
        crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    return crop


def _detect_swatches(crop: ImageU8) -> list[Float64Array]:
    """Patch colours (linear sRGB, (24, 3) each, chart order) of every chart colour-checker-detection finds.

    The library segments the sRGB-encoded image (it encodes the linear input itself) and samples the linear
    one. Its sampler warps the chart onto a ``working_width`` x ``working_height`` canvas but places the
    swatch grid on a rectangle of ``working_width / aspect_ratio`` height: the two must agree, or rows are
    sampled outside the chart (as zeros). It also turns portrait images to landscape, so the working width
    is the crop's long side (no resampling inside the library).
    """
    from colour_checker_detection import detect_colour_checkers_segmentation

    working_width = max(crop.shape[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = detect_colour_checkers_segmentation(
            to_linear(crop),
            samples=CHECKER_SAMPLES,
            working_width=working_width,
            working_height=int(working_width / CHECKER_ASPECT_RATIO),
            aspect_ratio=CHECKER_ASPECT_RATIO,
        )
    return [np.asarray(swatches, dtype=np.float64) for swatches in found]


def _fit_correction(measured: Float64Array) -> Float64Array | None:
    """3x3 correction (row vectors) mapping measured patches onto the reference, or None if not a sound chart.

    Clipped and near-black patches are left out of the fit. The reading is rejected when the grey row is not
    in falling luminance order (a misread or mis-oriented chart) or when a corrected patch is off by more
    than :data:`CHECKER_MAX_RESIDUAL`.
    """
    import colour

    reference = _checker_reference_linear()
    if measured.shape != reference.shape or not np.isfinite(measured).all():
        return None
    if measured.max(axis=1).min() <= CHECKER_DARK_LINEAR:
        return None  # a black patch: sampled off the chart
    usable = (measured.max(axis=1) < CHECKER_CLIPPED_LINEAR) & (measured.min(axis=1) > CHECKER_DARK_LINEAR)
    if usable.sum() < CHECKER_MIN_PATCHES:
        return None
    grey_luminance = measured[18:24] @ np.array([0.2126, 0.7152, 0.0722])
    if not (np.diff(grey_luminance) < 0).all():
        return None
    matrix = np.asarray(
        colour.characterisation.matrix_colour_correction(
            measured[usable], reference[usable], method="Cheung 2004", terms=3
        ),
        dtype=np.float64,
    )
    residual = float(np.abs(measured[usable] @ matrix.T - reference[usable]).max())
    return matrix if residual <= CHECKER_MAX_RESIDUAL else None


def colour_checker_reference(rgb: ImageU8) -> ColourReference | None:
    """Find a ColorChecker Classic in the photo and fit a 3x3 linear colour correction to it.

    A cheap screen (a few ms) rejects photos without a grid of patch-like blobs; only the region around
    such a grid is handed to colour-checker-detection's segmentation.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        The whole photo, sRGB-encoded, any resolution. The chart should be upright or turned (any angle,
        mild perspective) and span at least ~15 % of a 1000-px-wide photo.

    Returns
    -------
    ColourReference or None
        ``kind="colour_checker"`` with ``correction`` (``corrected = linear @ correction.T`` maps the photo's
        linear RGB onto the chart's reference values), or None when no chart was found and validated.
    """
    gray, factor = _screen_image(rgb)
    box = _might_contain_checker(gray)
    if box is None:
        return None
    for measured in _detect_swatches(_chart_crop(rgb, box, factor)):
        matrix = _fit_correction(measured)
        if matrix is not None:
            greys = measured[18:24]
            return ColourReference(
                kind="colour_checker",
                detail="ColorChecker Classic (24 patches), 3x3 linear correction",
                correction=matrix,
                neutral_od=None,
                illuminant_chroma=_chroma(-np.log(greys.mean(axis=0))),
            )
    return None


def grey_world_reference(rgb: ImageU8, face: Mask) -> ColourReference:
    """No reference: record the grey-world colour of the background only to compare lighting between photos."""
    background = rgb[~face]
    background = background[(background.max(axis=1) < CLIPPED_CODE) & (background.min(axis=1) > 5)]
    if len(background) == 0:
        chroma = np.zeros(3)
    else:
        mean_linear = to_linear(background).mean(axis=0).astype(np.float64)
        chroma = _chroma(-np.log(np.maximum(mean_linear, 1e-4)))
    return ColourReference(
        kind="none",
        detail="no colour reference found: the index depends on the camera's white balance",
        correction=None,
        neutral_od=None,
        illuminant_chroma=chroma,
    )
