"""Heatmap pictures of a report: overlay, baseline side by side, registered difference map."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from needlecare.analysis.pipeline import FRAME_EYE_DISTANCE
from needlecare.analysis.report import PhotoReport
from needlecare.hints import ImageU8
from needlecare.imaging.heatmap import render_overlay, side_by_side, write_png

#: Half-range of the difference map's diverging scale, OD_hb (about twice the change from marked erythema
#: on the synthetic scale used in tests).
DIFFERENCE_RANGE = 0.2


#: Room above the baseline's redness on a treatment's colour scale, OD_hb: about the change from marked
#: erythema, so that a typical post-treatment face stays inside the scale rather than all at its top.
HEADROOM = DIFFERENCE_RANGE / 2

#: Eye distance of the heatmap picture, px (2.5 times the analysis frame's): the face as finely as a
#: phone screen shows it, or the photo's own resolution when that is coarser.
PICTURE_EYE_DISTANCE = 320.0


def _scale(*reports: PhotoReport) -> tuple[float, float]:
    """A common colour scale (5th-95th percentile of the measured pixels of all *reports*)."""
    values = np.concatenate([r.frame.index_map[r.frame.valid] for r in reports])
    low, high = np.percentile(values, [5, 95]) if values.size else (0.0, 1.0)
    if high - low < 0.05:
        middle = (high + low) / 2
        low, high = middle - 0.025, middle + 0.025
    return float(low), float(high)


def treatment_scale(baseline: PhotoReport) -> tuple[float, float]:
    """The colour scale of every heatmap of a treatment, from its baseline photo: the baseline's 5th
    percentile to its 95th plus :data:`HEADROOM` (OD_hb). The same numbers for every photo compared with
    that baseline, so that two heatmaps can be compared by eye."""
    low, high = _scale(baseline)
    return low, high + HEADROOM


def face_picture(
    jpeg: bytes, report: PhotoReport, *, scale: tuple[float, float], title: str | None = None
) -> ImageU8:
    """(H, W', 3) uint8 heatmap of *report* drawn on the face of the photo *jpeg* it measured, at
    :data:`PICTURE_EYE_DISTANCE` (or the photo's own resolution, when coarser), with a legend.

    The redness map, the measured pixels and the regions of the analysis frame are enlarged onto the same
    rectangle of the photo (``report.frame.source_box``; the frame is that rectangle scaled). JPEGs are
    decoded at the largest DCT reduction that still gives the picture's size.

    Parameters
    ----------
    jpeg
        The photo's bytes (the upright copy that was measured).
    scale
        ``(vmin, vmax)`` of the colour scale, OD_hb (:func:`treatment_scale`).
    """
    frame = report.frame
    left, top, right, bottom = frame.source_box
    factor = min(PICTURE_EYE_DISTANCE, frame.native_eye_distance) / FRAME_EYE_DISTANCE
    if right - left < 2 or bottom - top < 2 or factor <= 1.0:
        return overlay(report, scale=scale, title=title)
    height, width = frame.index_map.shape
    size = (round(width * factor), round(height * factor))
    with Image.open(io.BytesIO(jpeg)) as image:
        full_width, full_height = image.size
        reduce = max(1.0, (right - left) / size[0])
        image.draft("RGB", (max(1, int(full_width / reduce)), max(1, int(full_height / reduce))))
        f = full_width / image.size[0]
        box = (left / f, top / f, right / f, bottom / f)
        face = image.convert("RGB").resize(size, Image.Resampling.BILINEAR, box=box)
    rgb = np.ascontiguousarray(np.asarray(face, dtype=np.uint8))
    finite = np.isfinite(frame.index_map)
    values = cv2.resize(
        np.where(finite, frame.index_map, 0.0).astype(np.float32), size, interpolation=cv2.INTER_LINEAR
    )
    measured = (frame.valid & finite).astype(np.uint8)
    valid = cv2.resize(measured, size, interpolation=cv2.INTER_NEAREST).astype(bool)
    regions = {
        name: cv2.resize(mask.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
        for name, mask in frame.regions.items()
    }
    vmin, vmax = scale
    return render_overlay(
        rgb, values.astype(np.float64), valid, regions, vmin=vmin, vmax=vmax, unit=report.unit, title=title
    )


def overlay(report: PhotoReport, *, scale: tuple[float, float] | None = None, title: str | None = None):  # type: ignore[no-untyped-def]
    """(H, W', 3) uint8 overlay of the report's redness map with region outlines and a legend."""
    vmin, vmax = scale or _scale(report)
    frame = report.frame
    return render_overlay(
        frame.rgb,
        frame.index_map,
        frame.valid,
        frame.regions,
        vmin=vmin,
        vmax=vmax,
        unit=report.unit,
        title=title,
    )


def write_pictures(
    report: PhotoReport, baseline: PhotoReport | None, directory: Path, stem: str
) -> list[Path]:
    """Write ``<stem>.heatmap.png``; with a baseline also ``<stem>.compare.png``, ``<stem>.difference.png``.

    Returns
    -------
    list of Path
        The files written.
    """
    written = []
    scale = _scale(report, baseline) if baseline is not None else _scale(report)
    path = directory / f"{stem}.heatmap.png"
    write_png(path, overlay(report, scale=scale, title=f"redness index {report.index:.3f} {report.unit}"))
    written.append(path)
    if baseline is not None and report.baseline is not None:
        pair = side_by_side(
            overlay(baseline, scale=scale, title=f"baseline {baseline.index:.3f}"),
            overlay(report, scale=scale, title=f"follow-up {report.index:.3f}"),
            labels=("baseline", "follow-up"),
        )
        path = directory / f"{stem}.compare.png"
        write_png(path, pair)
        written.append(path)
        difference = report.baseline.difference_map
        if difference is not None:
            frame = report.frame
            valid = frame.valid & np.isfinite(difference)
            picture = render_overlay(
                frame.rgb,
                difference,
                valid,
                frame.regions,
                vmin=-DIFFERENCE_RANGE,
                vmax=DIFFERENCE_RANGE,
                unit=f"delta {report.unit}",
                title=f"follow-up minus baseline ({report.baseline.delta:+.3f})",
                diverging=True,
            )
            path = directory / f"{stem}.difference.png"
            write_png(path, picture)
            written.append(path)
    return written
