"""The colour of the light in a follow-up photo relative to its baseline, measured on the registered eyes.

A white-balance change multiplies each linear channel by a gain, so a pixel's log ratio between a follow-up
and its registered baseline is the same vector ``ln g`` everywhere the scene itself did not change. The
whites of the eyes and the irises do not change colour in the days after a facial treatment (the skin, lips
and brows' skin do), and unlike a one-photo reference they need not be neutral or large: with the two
photos registered pixel by pixel, every eye pixel is a reference for itself. The chroma of ``ln g`` (its
mean over channels removed: exposure and shading do not matter) is the median over the eye openings.

Pixels are kept only where the estimate is trustworthy: inside both eye openings (eroded away from the
lids), neither dark (pupils, lashes: 8-bit noise) nor clipped in either photo, on the flatter half of the
eye (edges between iris, sclera and lids turn a fraction of a pixel of misregistration into a colour
error), and with a brightness ratio close to the median one (a pixel that is iris in one photo and sclera in
the other, because the gaze moved, is not the same surface). The estimate is refused when too few pixels
remain or they disagree, or when the whites of the eyes changed colour differently from the irises (red,
tired or irritated eyes would otherwise pass for a change of light): then the photos cannot be matched and
the caller says so.

The same estimate runs on what surrounds the face (hair, ears, clothing, background and teeth,
:func:`needlecare.imaging.regions.surroundings`), registered as a whole: thousands of pixels where the eyes
give a few dozen. Its noise is measured between blocks of pixels far enough apart to err independently
(:func:`block_standard_error`): neighbouring pixels share the frame's smoothing, resampling and JPEG colour
blocks, so the pixels' own spread over-counts the evidence.

Measured on six faces with 10-15 % red/blue gains (tests/analysis/test_ground_truth.py): chroma within
0.001-0.011 of the true gains, median absolute deviation <= 0.009; between different photos of the same
person taken on other occasions (gaze, expression and light all changed) the pixels disagree (deviation
0.03-0.2) and the estimate is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from needlecare.hints import Float64Array, FloatArray, ImageU8, Mask

#: 8-bit codes: darker (any channel) is too noisy; brighter (any channel) may be clipped.
DARK_CODE, CLIPPED_CODE = 25, 250
#: Linear value above which a baseline pixel may be clipped (code ~243).
CLIPPED_LINEAR = 0.9
#: Keep the eye pixels whose log-luminance gradient is at most this percentile of theirs.
FLAT_PERCENTILE = 50.0
#: Largest difference of a pixel's log brightness ratio from the median ratio (same surface in both photos).
SAME_SURFACE_TOLERANCE = 0.1
#: At least this many pixels, and this fraction of the candidates, must agree.
MIN_PIXELS, MIN_AGREEING_FRACTION = 50, 0.5
#: Largest median absolute deviation of the pixels' chroma (any channel) for a trusted estimate.
MAX_SPREAD = 0.02
#: Largest difference between the sclera's and the iris's chroma change (any channel): above it the eyes
#: themselves changed colour (red or yellow whites), not the light.
MAX_SCLERA_IRIS_DISAGREEMENT = 0.02
#: A block of :func:`block_standard_error` counts with at least this many pixels; its standard error is
#: measured with at least this many blocks.
MIN_BLOCK_PIXELS, MIN_BLOCKS = 3, 4


@dataclass(frozen=True)
class RelativeLight:
    """The follow-up's light relative to the baseline's.

    Attributes
    ----------
    chroma : (3,) float64
        ``ln(follow-up / baseline)`` per linear channel (R, G, B), mean over channels removed; ~ the relative
        gain minus 1 for small changes. Zero for the same light.
    pixels : int
        Eye pixels the estimate rests on.
    spread : float
        Largest per-channel median absolute deviation of those pixels' chroma.
    block_error : float
        Standard error of the median chroma measured between blocks of pixels that are far enough apart to
        err independently (:func:`block_standard_error`); 0 when not measured.
    blocks : int
        Number of such blocks.
    source : {"eyes", "surroundings"}
        What the estimate was measured on (:func:`needlecare.imaging.regions.eye_openings` or
        :func:`needlecare.imaging.regions.surroundings`).
    """

    chroma: Float64Array
    pixels: int
    spread: float
    block_error: float = 0.0
    blocks: int = 0
    source: str = "eyes"

    @property
    def size(self) -> float:
        """Largest absolute chroma component: how much the light's colour changed."""
        return float(np.abs(self.chroma).max())

    @property
    def standard_error(self) -> float:
        """Standard error of the median chroma: the larger of the pixels' (1.4826 MAD, x1.25 for a median,
        as if every pixel erred independently) and the blocks' (:attr:`block_error`), which also holds the
        errors that neighbouring pixels share (smoothing, resampling, JPEG colour blocks)."""
        return max(1.25 * 1.4826 * self.spread / float(np.sqrt(self.pixels)), self.block_error)


def block_standard_error(
    chroma: Float64Array, ys: npt.NDArray[np.intp], xs: npt.NDArray[np.intp], block_px: float
) -> tuple[float, int]:
    """Standard error of the median chroma from the spread between square blocks of pixels.

    Pixels closer than a few pixels share their errors (the frame's smoothing, resampling, JPEG colour
    blocks), so the pixels' own spread over-counts the evidence. Each block of ``block_px`` x ``block_px``
    pixels with at least :data:`MIN_BLOCK_PIXELS` pixels gives one mean; the standard error of the median
    over the blocks is ``1.25 * 1.4826 * MAD / sqrt(blocks)`` of those means (largest over the channels).

    Parameters
    ----------
    chroma : (N, 3) float64
        The pixels' chroma.
    ys, xs : (N,) int
        Their rows and columns, px.
    block_px : float
        Block side, px.

    Returns
    -------
    (standard error, blocks)
        ``(inf, blocks)`` with fewer than :data:`MIN_BLOCKS` blocks.
    """
    side = max(1.0, block_px)
    keys = (ys // side).astype(np.int64) * 1_000_003 + (xs // side).astype(np.int64)
    _, block_of, counts = np.unique(keys, return_inverse=True, return_counts=True)
    means = (
        np.column_stack(
            [np.bincount(block_of, weights=chroma[:, c], minlength=len(counts)) for c in range(3)]
        )
        / counts[:, None]
    )
    means = means[counts >= MIN_BLOCK_PIXELS]
    blocks = len(means)
    if blocks < MIN_BLOCKS:
        return float("inf"), blocks
    deviation = np.median(np.abs(means - np.median(means, axis=0)), axis=0).max()
    return float(1.25 * 1.4826 * deviation / np.sqrt(blocks)), blocks


def relative_light(
    follow_up_linear: FloatArray,
    follow_up_rgb: ImageU8,
    baseline_linear: FloatArray,
    eyes: Mask,
    block_px: float = 0.0,
    check_sclera: bool = True,
    flat_percentile: float = FLAT_PERCENTILE,
) -> RelativeLight | None:
    """Estimate the follow-up's light relative to the registered baseline's on the eye openings.

    Parameters
    ----------
    follow_up_linear : (H, W, 3) float32
        The follow-up's analysis frame in linear light.
    follow_up_rgb : (H, W, 3) uint8
        The same frame, sRGB-encoded (for the dark and clipped tests).
    baseline_linear : (H, W, 3) float32
        The baseline's linear frame registered onto the follow-up's (NaN where unknown).
    eyes : (H, W) bool
        The follow-up's eye openings (:func:`needlecare.imaging.regions.eye_openings`), or any other
        pixels that share the light and did not change (:func:`needlecare.imaging.regions.surroundings`).
    block_px : float
        Side of the blocks over which the estimate's noise is measured (:func:`block_standard_error`), px;
        0 to leave it unmeasured.
    check_sclera : bool
        Refuse when the brighter and darker halves of the pixels (sclera and iris) changed differently.
    flat_percentile : float
        Keep the pixels whose gradient (:func:`_log_gradient`) is at most this percentile of theirs.

    Returns
    -------
    RelativeLight or None
        None when fewer than :data:`MIN_PIXELS` usable eye pixels agree, or they disagree by more than
        :data:`MAX_SPREAD`.
    """
    known: Mask = np.isfinite(baseline_linear).all(axis=2)
    baseline = np.where(known[..., None], baseline_linear, 0.0)
    candidates = (
        eyes
        & known
        & (follow_up_rgb.min(axis=2) > DARK_CODE)
        & (follow_up_rgb.max(axis=2) < CLIPPED_CODE)
        & (baseline.min(axis=2) > float((DARK_CODE / 255) ** 2.2))
        & (baseline.max(axis=2) < CLIPPED_LINEAR)
    )
    if candidates.sum() < MIN_PIXELS:
        return None
    gradient = _log_gradient(follow_up_linear, candidates)
    candidates &= gradient <= np.percentile(gradient[candidates], flat_percentile)
    ratio = np.log(np.maximum(follow_up_linear[candidates], 1e-4)) - np.log(
        np.maximum(baseline[candidates], 1e-4)
    )
    brightness = ratio.mean(axis=1)
    same_surface = np.abs(brightness - np.median(brightness)) < SAME_SURFACE_TOLERANCE
    agreeing = int(same_surface.sum())
    if agreeing < MIN_PIXELS or agreeing < MIN_AGREEING_FRACTION * len(ratio):
        return None
    chroma = ratio[same_surface] - brightness[same_surface, None]
    median = np.median(chroma, axis=0).astype(np.float64)
    spread = float(np.median(np.abs(chroma - median), axis=0).max())
    if spread > MAX_SPREAD:
        return None
    if check_sclera and not _sclera_agrees_with_iris(chroma, baseline[candidates][same_surface]):
        return None
    block_error, blocks = 0.0, 0
    if block_px > 0:
        ys, xs = np.nonzero(candidates)
        block_error, blocks = block_standard_error(chroma, ys[same_surface], xs[same_surface], block_px)
    return RelativeLight(
        chroma=median - median.mean(), pixels=agreeing, spread=spread, block_error=block_error, blocks=blocks
    )


def _log_gradient(linear: FloatArray, where: Mask) -> FloatArray:
    """(H, W) float32: the largest Sobel gradient magnitude of the log linear channels, computed in the
    bounding box of *where* (0 outside it).

    Edges in any channel count, not only in brightness: across an edge between two colours a fraction of a
    pixel of misregistration, or JPEG's halved colour resolution (4:2:0), turns into a colour error even
    where the brightness is the same on both sides.
    """
    gradient = np.zeros(linear.shape[:2], dtype=np.float32)
    x, y, w, h = cv2.boundingRect(where.astype(np.uint8))
    top, left = max(0, y - 1), max(0, x - 1)
    box = (slice(top, min(linear.shape[0], y + h + 1)), slice(left, min(linear.shape[1], x + w + 1)))
    logs = np.log(np.maximum(linear[box], 1e-4)).astype(np.float32)
    inner = gradient[box]
    for channel in range(3):
        plane = np.ascontiguousarray(logs[..., channel])
        magnitude = np.hypot(cv2.Sobel(plane, cv2.CV_32F, 1, 0), cv2.Sobel(plane, cv2.CV_32F, 0, 1))
        np.maximum(inner, magnitude, out=inner)
    return gradient


def _sclera_agrees_with_iris(chroma: Float64Array, baseline_pixels: FloatArray) -> bool:
    """Whether the whites of the eyes and the irises saw the same change of light.

    Pixels are split at the median baseline brightness into the brighter half (sclera) and the darker half
    (iris). Under a change of light both change colour alike; whites that turned red (tired, irritated or
    bloodshot eyes) or yellow change on their own, and would otherwise be taken for a change of light.
    Checked only when each half has :data:`MIN_PIXELS` / 2 pixels (dark-eyed and light-eyed people both
    have a clearly darker iris).
    """
    brightness = baseline_pixels.mean(axis=1)
    sclera = brightness > np.median(brightness)
    if min(int(sclera.sum()), int((~sclera).sum())) < MIN_PIXELS // 2:
        return True
    difference = np.median(chroma[sclera], axis=0) - np.median(chroma[~sclera], axis=0)
    return float(np.abs(difference).max()) <= MAX_SCLERA_IRIS_DISAGREEMENT
