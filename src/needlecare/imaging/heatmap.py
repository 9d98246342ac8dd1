"""Pictures of a redness map: colour-mapped overlay, region outlines, colour-scale legend, comparisons, PNG.

Everything is drawn with OpenCV on RGB ``uint8`` arrays (no matplotlib). Two colour maps are used:
``"sequential"`` (OpenCV's INFERNO, perceptually uniform, luminance rising from black to pale yellow) for an
index, and ``"diverging"`` (blue - white - red, interpolated from the ColorBrewer RdBu scheme, Brewer &
Harrower, colorbrewer2.org) for a difference from baseline, centred on 0. Text uses OpenCV's Hershey font,
which only has ASCII glyphs; a few common symbols are transliterated (see :func:`_ascii`).

Font sizes, line widths and margins scale with ``min(H, W)`` of the photo so the same picture reads well from
about 300 px to 2000 px.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from needlecare.hints import FloatArray, ImageU8, Mask

__all__ = ["ImageWriteError", "colormap_lut", "render_overlay", "side_by_side", "write_png"]

#: ColorBrewer RdBu, 11 classes, ordered from blue (negative) through near-white to red (positive).
_RDBU_ANCHORS: tuple[tuple[int, int, int], ...] = (
    (5, 48, 97),
    (33, 102, 172),
    (67, 147, 195),
    (146, 197, 222),
    (209, 229, 240),
    (247, 247, 247),
    (253, 219, 199),
    (244, 165, 130),
    (214, 96, 77),
    (178, 24, 43),
    (103, 0, 31),
)

_TEXT = (240, 240, 240)  # light text
_TEXT_SHADOW = (16, 16, 16)  # dark outline behind text
_OUTLINE = (235, 235, 235)  # region outlines
_PANEL = (32, 32, 32)  # legend and comparison background
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_TRANSLITERATION = {
    "Δ": "delta ",
    "δ": "delta ",
    "µ": "u",
    "μ": "u",
    "°": "deg",
    "−": "-",
    "–": "-",
    "—": "-",
}


class ImageWriteError(OSError):
    """A picture could not be written to the requested path (message names the path and the reason)."""


@cache
def _lut(name: str) -> ImageU8:
    if name == "sequential":
        codes = np.arange(256, dtype=np.uint8).reshape(256, 1)
        bgr = cv2.applyColorMap(codes, cv2.COLORMAP_INFERNO)
        lut = np.ascontiguousarray(np.asarray(bgr, dtype=np.uint8).reshape(256, 3)[:, ::-1])
    elif name == "diverging":
        anchors = np.asarray(_RDBU_ANCHORS, dtype=np.float64)
        positions = np.linspace(0.0, 1.0, len(anchors))
        t = np.arange(256, dtype=np.float64) / 255.0
        channels = [np.interp(t, positions, anchors[:, c]) for c in range(3)]
        lut = np.rint(np.stack(channels, axis=-1)).astype(np.uint8)
    else:
        raise ValueError(f"unknown colour map {name!r}; expected 'sequential' or 'diverging'")
    lut.setflags(write=False)
    return lut


def colormap_lut(name: str) -> ImageU8:
    """The 256-entry RGB colour table used to paint index values.

    Parameters
    ----------
    name : {"sequential", "diverging"}
        ``"sequential"``: OpenCV INFERNO (black - purple - orange - pale yellow), luminance strictly
        increasing. ``"diverging"``: blue - near-white - red (ColorBrewer RdBu), entry 0 dark blue,
        entries 127/128 near white, entry 255 dark red.

    Returns
    -------
    ImageU8
        (256, 3) uint8 sRGB, entry 0 for the low end of the scale. A fresh, writable copy.

    Raises
    ------
    ValueError
        For any other name.

    Examples
    --------
    >>> colormap_lut("diverging")[[0, 255]].tolist()
    [[5, 48, 97], [103, 0, 31]]
    """
    return _lut(name).copy()


@dataclass(frozen=True)
class _Style:
    """Sizes in pixels derived from the photo size."""

    font_scale: float
    text_thickness: int
    shadow_thickness: int
    line_thickness: int
    margin: int
    bar_width: int

    @classmethod
    def for_size(cls, height: int, width: int) -> _Style:
        ref = min(height, width)
        font_scale = float(np.clip(ref / 750.0, 0.35, 3.0))
        text = max(1, round(font_scale * 1.2))
        return cls(
            font_scale=font_scale,
            text_thickness=text,
            shadow_thickness=text + 2 * max(1, round(font_scale * 0.75)),
            line_thickness=max(1, round(ref / 600)),
            margin=max(4, round(ref * 0.02)),
            bar_width=max(8, round(ref * 0.035)),
        )

    def text_size(self, text: str) -> tuple[int, int, int]:
        """(width, height above baseline, depth below baseline) of ``text`` in pixels, shadow included."""
        (w, h), baseline = cv2.getTextSize(text, _FONT, self.font_scale, self.shadow_thickness)
        return int(w), int(h), int(baseline)


def _ascii(text: str) -> str:
    """Text the Hershey font can draw: symbols transliterated, spaces collapsed, other non-ASCII as '?'."""
    out = " ".join("".join(_TRANSLITERATION.get(ch, ch) for ch in text).split())
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in out)


def _fit(text: str, style: _Style, max_width: int) -> str:
    """``text`` shortened with '...' until it is at most ``max_width`` pixels wide."""
    if style.text_size(text)[0] <= max_width:
        return text
    while text and style.text_size(text + "...")[0] > max_width:
        text = text[:-1]
    return text.rstrip() + "..." if text else ""


def _put_text(image: ImageU8, text: str, origin: tuple[int, int], style: _Style) -> None:
    """Draw light text with a dark outline in place; ``origin`` is the (x, y) of the baseline start."""
    cv2.putText(
        image, text, origin, _FONT, style.font_scale, _TEXT_SHADOW, style.shadow_thickness, cv2.LINE_AA
    )
    cv2.putText(image, text, origin, _FONT, style.font_scale, _TEXT, style.text_thickness, cv2.LINE_AA)


def _scale_fraction(
    values: npt.NDArray[np.float64], vmin: float, vmax: float, diverging: bool
) -> npt.NDArray[np.float64]:
    """Position 0-1 of each value on the colour scale (values clipped to [vmin, vmax]).

    Sequential: linear from vmin to vmax. Diverging: 0 sits at the middle (0.5); negatives map linearly
    onto [0, 0.5] and positives onto [0.5, 1], which is one linear scale when ``vmin == -vmax``.
    """
    v = np.clip(values, vmin, vmax)
    if not diverging:
        return (v - vmin) / (vmax - vmin)
    return np.where(v < 0, 0.5 * (v - vmin) / -vmin, 0.5 + 0.5 * v / vmax)


def _lut_index(
    values: npt.NDArray[np.float64], vmin: float, vmax: float, diverging: bool
) -> npt.NDArray[np.intp]:
    fraction = _scale_fraction(values, vmin, vmax, diverging)
    return np.clip(np.rint(fraction * 255.0), 0, 255).astype(np.intp)


def _check_image(image: object, name: str) -> ImageU8:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        dtype = getattr(image, "dtype", type(image).__name__)
        raise ValueError(f"{name} must be an (H, W, 3) uint8 RGB array, got shape {shape} and dtype {dtype}")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"{name} is empty (shape {image.shape})")
    return image


def _check_mask(mask: object, shape: tuple[int, int], name: str) -> Mask:
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != shape:
        got = getattr(mask, "shape", None), getattr(mask, "dtype", type(mask).__name__)
        raise ValueError(
            f"{name} must be a boolean array of shape {shape}, got shape {got[0]} and dtype {got[1]}"
        )
    return mask


def _check_scale(vmin: float, vmax: float, diverging: bool, alpha: float) -> None:
    if not (np.isfinite(vmin) and np.isfinite(vmax) and vmin < vmax):
        raise ValueError(f"need finite vmin < vmax, got vmin={vmin}, vmax={vmax}")
    if diverging and not vmin < 0 < vmax:
        raise ValueError(f"a diverging scale is centred on 0 and needs vmin < 0 < vmax, got {vmin}, {vmax}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")


def _tick_values(vmin: float, vmax: float, diverging: bool, count: int) -> list[float]:
    if diverging:
        half = (count + 1) // 2
        lows = np.linspace(vmin, 0.0, half)
        highs = np.linspace(0.0, vmax, half)
        return [float(v) for v in (*lows, *highs[1:])]
    return [float(v) for v in np.linspace(vmin, vmax, count)]


def _tick_labels(values: Sequence[float], signed: bool) -> list[str]:
    """Labels with the fewest decimals (0-4) that show every tick within 1 % of the tick spacing."""
    spacing = min(abs(b - a) for a, b in pairwise(values))
    for decimals in range(5):
        if all(abs(round(v, decimals) - v) <= 0.01 * spacing for v in values):
            break
    labels = []
    for v in values:
        r = round(v, decimals)
        if r == 0:
            r = 0.0  # no "-0.00"
        labels.append(f"{r:+.{decimals}f}" if signed and r != 0 else f"{r:.{decimals}f}")
    return labels


def _legend(height: int, style: _Style, vmin: float, vmax: float, unit: str, diverging: bool) -> ImageU8:
    """(height, w, 3) panel: vertical colour bar (vmax at the top), tick labels on its right, unit below."""
    lut = _lut("diverging" if diverging else "sequential")
    m = style.margin
    _, text_h, text_depth = style.text_size("0123456789")
    unit_text = _ascii(unit)
    unit_w = style.text_size(unit_text)[0] if unit_text else 0
    y0 = m + (text_h + 1) // 2
    y1 = height - 1 - m - ((text_h + text_depth + m) if unit_text else 0) - (text_h + 1) // 2
    if y1 - y0 < 2:
        raise ValueError(f"image height {height} px is too small to draw a colour scale")
    bar_h = y1 - y0
    count = 5 if bar_h >= 5 * 2 * text_h else 3
    ticks = _tick_values(vmin, vmax, diverging, count)
    labels = _tick_labels(ticks, signed=diverging)
    tick_len = max(3, style.bar_width // 3)
    label_x = m + style.bar_width + tick_len + max(2, m // 2)
    width = max(label_x + max(style.text_size(s)[0] for s in labels), m + unit_w) + m
    panel = np.empty((height, width, 3), dtype=np.uint8)
    panel[:] = _PANEL

    rows = np.arange(y0, y1 + 1, dtype=np.float64)
    row_values = vmax - (rows - y0) / bar_h * (vmax - vmin)
    panel[y0 : y1 + 1, m : m + style.bar_width] = lut[_lut_index(row_values, vmin, vmax, diverging)][
        :, None, :
    ]

    for value, label in zip(ticks, labels, strict=True):
        y = round(y1 - (value - vmin) / (vmax - vmin) * bar_h)
        x_bar = m + style.bar_width
        cv2.line(panel, (x_bar + 1, y), (x_bar + tick_len, y), _TEXT, style.line_thickness, cv2.LINE_8)
        _put_text(panel, label, (label_x, y + text_h // 2), style)
    if unit_text:
        _put_text(panel, unit_text, (m, height - 1 - m - text_depth), style)
    return panel


def _draw_regions(image: ImageU8, regions: Mapping[str, Mask], style: _Style) -> None:
    """Outline every region and label it at its centroid, in place (labels drawn after all outlines)."""
    height, width = image.shape[:2]
    labels: list[tuple[str, float, float]] = []
    for name, mask in regions.items():
        if not mask.any():
            continue
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(image, contours, -1, _OUTLINE, style.line_thickness, cv2.LINE_8)
        ys, xs = np.nonzero(mask)
        labels.append((_ascii(name.replace("_", " ")), float(xs.mean()), float(ys.mean())))
    for text, cx, cy in labels:
        w, h, depth = style.text_size(text)
        x = int(np.clip(round(cx - w / 2), 0, max(0, width - w)))
        y = int(np.clip(round(cy + h / 2), h, max(h, height - 1 - depth)))
        _put_text(image, text, (x, y), style)


def _draw_title(image: ImageU8, title: str, style: _Style) -> None:
    """Title at the top-left on a dark band (70 % black over the photo), in place."""
    pad = max(3, style.margin // 2)
    text = _fit(_ascii(title), style, image.shape[1] - 2 * pad)
    if not text:
        return
    w, h, depth = style.text_size(text)
    band = image[: min(image.shape[0], h + depth + 2 * pad), : min(image.shape[1], w + 2 * pad)]
    band[:] = np.rint(band * 0.3).astype(np.uint8)
    _put_text(image, text, (pad, pad + h), style)


def render_overlay(
    rgb: ImageU8,
    index_map: FloatArray,
    valid: Mask,
    regions: Mapping[str, Mask],
    *,
    vmin: float,
    vmax: float,
    unit: str,
    title: str | None = None,
    diverging: bool = False,
    alpha: float = 0.6,
) -> ImageU8:
    """Paint a redness map over the photo, outline the regions and add a colour-scale legend on the right.

    Parameters
    ----------
    rgb : ImageU8
        (H, W, 3) uint8 sRGB photo or face crop. Not modified.
    index_map : FloatArray
        (H, W) float per-pixel index in ``unit``; NaN (or any non-finite value) where unknown.
    valid : Mask
        (H, W) bool, pixels that were measured. Only pixels that are valid *and* finite are painted.
    regions : Mapping[str, Mask]
        Region name (e.g. ``"left_cheek"``) -> (H, W) bool mask. Each non-empty region gets a thin light
        outline (its outer contours) and its name (underscores as spaces) at the mask's centroid.
    vmin, vmax : float
        Index values at the bottom and top of the colour scale (``vmin < vmax``); values are clipped to it.
    unit : str
        Unit of the index, printed under the legend (ASCII; Δ, µ, ° are transliterated).
    title : str, optional
        Drawn at the top-left on a dark band, shortened with "..." if wider than the photo.
    diverging : bool
        ``False``: sequential map (INFERNO). ``True``: blue - white - red map with 0 at the white middle, for
        differences from baseline; needs ``vmin < 0 < vmax`` (normally ``vmin == -vmax``; otherwise each
        side is scaled separately so 0 stays white).
    alpha : float
        Opacity of the colour map, 0-1.

    Returns
    -------
    ImageU8
        New (H, W + L, 3) uint8 RGB image: the first W columns are the photo; a painted pixel becomes
        ``rint((1 - alpha) * photo + alpha * lut[i])`` with
        ``i = rint(255 * (clip(v, vmin, vmax) - vmin) / (vmax - vmin))`` (per side for diverging
        maps); other pixels keep the photo's value except under outlines, labels and the title. The last
        L columns are the legend: a vertical gradient (``vmax`` at the top), 3 or 5 tick labels and the unit.

    Raises
    ------
    ValueError
        For arrays of the wrong shape or dtype, ``vmin >= vmax``, non-finite limits, a diverging scale that
        does not straddle 0, ``alpha`` outside 0-1, or an image too small to hold the legend (under ~40 px).
    """
    rgb = _check_image(rgb, "rgb")
    height, width = rgb.shape[:2]
    if not isinstance(index_map, np.ndarray) or index_map.shape != (height, width):
        raise ValueError(
            f"index_map must have shape {(height, width)}, got {getattr(index_map, 'shape', None)}"
        )
    if not np.issubdtype(index_map.dtype, np.floating):
        raise ValueError(f"index_map must be a float array, got dtype {index_map.dtype}")
    valid = _check_mask(valid, (height, width), "valid")
    for name, mask in regions.items():
        _check_mask(mask, (height, width), f"region {name!r}")
    _check_scale(vmin, vmax, diverging, alpha)
    style = _Style.for_size(height, width)
    legend = _legend(height, style, vmin, vmax, unit, diverging)

    out = np.array(rgb, dtype=np.uint8, order="C", copy=True)
    painted = valid & np.isfinite(index_map)
    if painted.any():
        lut = _lut("diverging" if diverging else "sequential")
        colours = lut[_lut_index(index_map[painted].astype(np.float64), vmin, vmax, diverging)]
        blended = (1.0 - alpha) * out[painted].astype(np.float64) + alpha * colours.astype(np.float64)
        out[painted] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    _draw_regions(out, regions, style)
    if title:
        _draw_title(out, title, style)
    return np.concatenate([out, legend], axis=1)


def side_by_side(left: ImageU8, right: ImageU8, *, labels: tuple[str, str], gap: int = 8) -> ImageU8:
    """Two pictures next to each other, each under its label, on a dark neutral background.

    Parameters
    ----------
    left, right : ImageU8
        (H1, W1, 3) and (H2, W2, 3) uint8 RGB. The shorter one is resized (aspect kept, width rounded) to
        ``H = max(H1, H2)``; the taller one is copied unchanged.
    labels : tuple of str
        Text centred above the left and the right picture (e.g. ``("baseline 2026-11-01", "follow-up")``),
        shortened with "..." if wider than its picture.
    gap : int
        Pixels of background between the two pictures, >= 0.

    Returns
    -------
    ImageU8
        New (T + H, W1' + gap + W2', 3) uint8 RGB image; both pictures are bottom-aligned below a label band
        of T pixels, the left one at column 0 and the right one at column ``W1' + gap``.

    Raises
    ------
    ValueError
        For arrays that are not (H, W, 3) uint8, a negative gap, or not exactly two labels.
    """
    left = _check_image(left, "left")
    right = _check_image(right, "right")
    if gap < 0:
        raise ValueError(f"gap must be >= 0, got {gap}")
    if len(labels) != 2:
        raise ValueError(f"need exactly two labels, got {len(labels)}")
    height = max(left.shape[0], right.shape[0])

    def fit_height(image: ImageU8) -> ImageU8:
        if image.shape[0] == height:
            return image
        new_width = max(1, round(image.shape[1] * height / image.shape[0]))
        return np.asarray(
            cv2.resize(image, (new_width, height), interpolation=cv2.INTER_LINEAR), dtype=np.uint8
        )

    left, right = fit_height(left), fit_height(right)
    style = _Style.for_size(height, min(left.shape[1], right.shape[1]))
    _, text_h, depth = style.text_size("Ag")
    band = text_h + depth + 2 * style.margin
    out = np.empty((band + height, left.shape[1] + gap + right.shape[1], 3), dtype=np.uint8)
    out[:] = _PANEL
    for image, label, x0 in ((left, labels[0], 0), (right, labels[1], left.shape[1] + gap)):
        out[band:, x0 : x0 + image.shape[1]] = image
        text = _fit(_ascii(label), style, image.shape[1])
        if text:
            w = style.text_size(text)[0]
            _put_text(out, text, (x0 + (image.shape[1] - w) // 2, style.margin + text_h), style)
    return out


def write_png(path: str | os.PathLike[str], image: ImageU8) -> None:
    """Write an RGB picture as PNG atomically (temporary file in the same directory, then ``os.replace``).

    Either the complete new file is at ``path`` afterwards or, on error, whatever was there before is left
    untouched and no temporary file remains. Missing parent directories are created.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file (normally ending in ``.png``); an existing file is replaced.
    image : ImageU8
        (H, W, 3) uint8 sRGB.

    Raises
    ------
    ValueError
        If ``image`` is not (H, W, 3) uint8.
    ImageWriteError
        (an ``OSError``) if the path is a directory, its parent cannot be created, or the file cannot be
        written; the message names the path and the reason.
    """
    image = _check_image(image, "image")
    target = Path(path)
    if target.is_dir():
        raise ImageWriteError(f"cannot write PNG to {target}: it is a directory")
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(image[:, :, ::-1]))
    if not ok:
        raise ImageWriteError(f"cannot write PNG to {target}: encoding failed")
    data = np.asarray(encoded, dtype=np.uint8).tobytes()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ImageWriteError(f"cannot write PNG to {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, target)
    except OSError as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise ImageWriteError(f"cannot write PNG to {target}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
