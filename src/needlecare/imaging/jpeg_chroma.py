"""The exact mean colour of every JPEG colour block: undo the decoder's rounding of coarsely quantised chroma.

A JPEG stores the mean of each 8x8 block of a chroma plane (Cb, Cr) as its DC coefficient, an integer k
times the table's step Q; the block's mean is then ``128 + k Q / 8`` in 8-bit levels. A decoder writes whole
8-bit samples. Where a block's colour detail (its AC coefficients) was quantised to zero -- most blocks of
smooth skin at quality 70 and below -- every sample of the block is ``round_half_up(128 + k Q / 8)``, so the
block's mean is rounded to a whole level, and that rounding does not average out over the face:

======================  ==========================  ======================================
Q (quality)             fractions of k Q / 8        mean rounding of a flat block (levels)
======================  ==========================  ======================================
8 n                     0                           0
odd (75: Q = 9)         all eighths                 +1/16
4 n + 2 (60: Q = 14)    0, 1/4, 1/2, 3/4            +1/8
8 n + 4 (65: Q = 12)    0, 1/2                      +1/4
======================  ==========================  ======================================

Skin then reads bluer and redder than it is by the same fraction of a level everywhere, which the redness
index weighs heavily: averaged over block alignments, +0.008 to +0.014 OD_hb at quality 60 and +0.012 to
+0.021 at quality 65 on the ground-truth faces (the issue allows 0.01). ``tests/imaging/test_jpeg_chroma.py``
shows the rounding on synthetic blocks, ``tests/analysis/test_ground_truth.py`` its absence after repair.

The repair reads every block's k from a 1/8-scale decode (one pixel per 8x8 block, within 1/2 level of the
block's exact mean, so k is exact whenever the step exceeds one level) and shifts each block of the full
decode so that its mean is ``128 + k Q / 8`` exactly. What remains is the quantisation itself: each block's
mean is off by up to half a step, at random.

libjpeg computes the 1/8-scale pixels from the DC coefficients alone (4:4:4), or with a 2x2 inverse DCT of
the chroma blocks (4:2:0), whose four outputs average to the DC; both round each output by at most 1/2.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from needlecare.hints import Float64Array, FloatArray, ImageU8

__all__ = [
    "DEQUANTISE_MIN_STEP",
    "ChromaGrid",
    "chroma_grid",
    "exact_block_means",
    "restore_block_means",
    "ycbcr_to_rgb",
]

#: Chroma DC steps (levels) from which block means are restored. Above one level the 1/8-scale pixel
#: identifies k exactly; at 1.2 and above (quality 70 and below with the standard tables) the rounding is
#: systematic enough to move the index (+1/8 level at quality 70, 60, 55; +1/4 at quality 65).
DEQUANTISE_MIN_STEP = 1.2
#: Component ids that make libjpeg read a three-component JPEG without a JFIF or Adobe marker as RGB.
_RGB_COMPONENT_IDS = (ord("R"), ord("G"), ord("B"))


@dataclass(frozen=True)
class ChromaGrid:
    """Where a JPEG's chroma blocks lie and how coarsely their means are quantised.

    Attributes
    ----------
    steps : tuple of float
        (Cb, Cr) DC quantisation steps Q / 8, in 8-bit levels of a block's mean.
    block : tuple of int
        (width, height) of one chroma block in full-resolution pixels: 8 times the subsampling, e.g.
        (16, 16) for 4:2:0 and (8, 8) for 4:4:4.
    """

    steps: tuple[float, float]
    block: tuple[int, int]

    @property
    def coarse(self) -> bool:
        """Whether both steps are at least :data:`DEQUANTISE_MIN_STEP`, so that block means are restored."""
        return min(self.steps) >= DEQUANTISE_MIN_STEP


def chroma_grid(im: Image.Image) -> ChromaGrid | None:
    """The chroma block grid of an opened (not yet decoded) JPEG, or None if it is not coded as YCbCr.

    Parameters
    ----------
    im : PIL.Image.Image
        A JPEG or MPO opened by Pillow, before ``load()``.

    Returns
    -------
    ChromaGrid or None
        None for anything but three components read as YCbCr: CMYK/YCCK, RGB-coded JPEGs (Adobe transform
        0, or component ids R, G, B without a JFIF marker), or missing tables.
    """
    layers = getattr(im, "layer", None)
    tables = getattr(im, "quantization", None)
    if im.mode != "RGB" or not layers or len(layers) != 3 or not tables:
        return None
    # libjpeg's rule (jdapimin.c): a JFIF marker means YCbCr; else an Adobe marker's transform 0 means RGB;
    # else component ids R, G, B mean RGB.
    if "jfif" not in im.info:
        if "adobe" in im.info:
            if im.info.get("adobe_transform") == 0:
                return None
        elif tuple(layer[0] for layer in layers) == _RGB_COMPONENT_IDS:
            return None
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    _, h, v, _ = layers[1]
    if layers[2][1:3] != (h, v) or h_max % h or v_max % v:
        return None
    steps = []
    for _, _, _, table in layers[1:]:
        values = tables.get(table)
        if values is None or len(values) == 0:
            return None
        steps.append(float(values[0]) / 8.0)
    return ChromaGrid((steps[0], steps[1]), (8 * h_max // h, 8 * v_max // v))


def exact_block_means(dc_ycc: ImageU8, grid: ChromaGrid) -> Float64Array:
    """Every chroma block's exact mean from a 1/8-scale YCbCr decode.

    Parameters
    ----------
    dc_ycc : (h, w, 3) uint8
        The JPEG decoded in YCbCr at DCT scale 1/8 (Pillow ``draft("YCbCr", ...)``), not rotated.
    grid : ChromaGrid
        The JPEG's chroma grid; its steps must exceed one level.

    Returns
    -------
    (bh, bw, 2) float64
        ``128 + k Q / 8`` for Cb and Cr of each block that lies wholly inside the 1/8-scale image, in levels.
    """
    if min(grid.steps) <= 1.0:
        raise ValueError(f"chroma steps {grid.steps} do not exceed one level: k is not unique")
    fw, fh = grid.block[0] // 8, grid.block[1] // 8
    means = np.stack([_block_means(dc_ycc[..., c].astype(np.float32), fw, fh) for c in (1, 2)], axis=-1)
    steps = np.asarray(grid.steps)
    return 128.0 + steps * np.rint((means.astype(np.float64) - 128.0) / steps)


def restore_block_means(ycc: ImageU8, exact: Float64Array, block: int | tuple[int, int]) -> FloatArray:
    """Shift every whole chroma block of a decode so that its mean is the exact one.

    Parameters
    ----------
    ycc : (H, W, 3) uint8
        The JPEG decoded in YCbCr at some DCT scale, not rotated.
    exact : (bh, bw, 2) float64
        Exact (Cb, Cr) block means, in levels (:func:`exact_block_means`).
    block : int or tuple of int
        (width, height) of a chroma block in ``ycc``'s pixels: :attr:`ChromaGrid.block` times the DCT scale.

    Returns
    -------
    (H, W, 3) float32
        Y unchanged; Cb and Cr shifted block by block. Blocks that reach past the image's right or bottom
        edge (their means include libjpeg's padding) and blocks beyond ``exact`` are left as decoded.
    """
    fw, fh = (block, block) if isinstance(block, int) else block
    planes = [plane.astype(np.float32) for plane in cv2.split(np.ascontiguousarray(ycc))]
    bh = min(exact.shape[0], ycc.shape[0] // fh)
    bw = min(exact.shape[1], ycc.shape[1] // fw)
    for channel in (1, 2) if bh and bw else ():
        whole = planes[channel][: bh * fh, : bw * fw]
        shift = (exact[:bh, :bw, channel - 1] - _block_means(whole, fw, fh)).astype(np.float32)
        whole += cv2.resize(shift, (bw * fw, bh * fh), interpolation=cv2.INTER_NEAREST)
    return cv2.merge(planes)


def _block_means(plane: FloatArray, fw: int, fh: int) -> FloatArray:
    """(bh, bw) means of the whole ``fw`` x ``fh`` blocks of an (H, W) float32 plane (OpenCV's area resampling
    by an integer factor is the exact block mean, and several times faster than numpy's)."""
    bh, bw = plane.shape[0] // fh, plane.shape[1] // fw
    whole = np.ascontiguousarray(plane[: bh * fh, : bw * fw])
    return cv2.resize(whole, (bw, bh), interpolation=cv2.INTER_AREA).reshape(bh, bw)


#: JFIF (full-range ITU-R BT.601) Y'CbCr -> R'G'B' as an affine map on (Y', Cb, Cr, 1), with +0.5 so that
#: truncating a non-negative result rounds it.
_YCC_TO_RGB = np.array(
    [
        [1.0, 0.0, 1.402, -1.402 * 128 + 0.5],
        [1.0, -0.344136286, -0.714136286, (0.344136286 + 0.714136286) * 128 + 0.5],
        [1.0, 1.772, 0.0, -1.772 * 128 + 0.5],
    ],
    dtype=np.float32,
)


def ycbcr_to_rgb(ycc: FloatArray) -> ImageU8:
    """JFIF (full-range ITU-R BT.601) Y'CbCr to 8-bit R'G'B', rounded and clipped.

    Parameters
    ----------
    ycc : (H, W, 3) float32
        Y', Cb, Cr in 8-bit levels (chroma centred on 128).

    Returns
    -------
    (H, W, 3) uint8
        The same colours as libjpeg's conversion, up to one level of its fixed-point rounding.
    """
    rgb = cv2.transform(np.ascontiguousarray(ycc, dtype=np.float32), _YCC_TO_RGB)
    np.clip(rgb, 0.0, 255.0, out=rgb)
    return rgb.astype(np.uint8)
