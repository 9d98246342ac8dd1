"""Heatmap pictures of a report: overlay, baseline side by side, registered difference map."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from needlecare.analysis.report import PhotoReport
from needlecare.imaging.heatmap import render_overlay, side_by_side, write_png

#: Half-range of the difference map's diverging scale, OD_hb (about twice the change from marked erythema
#: on the synthetic scale used in tests).
DIFFERENCE_RANGE = 0.2


def _scale(*reports: PhotoReport) -> tuple[float, float]:
    """A common colour scale (5th-95th percentile of the measured pixels of all *reports*)."""
    values = np.concatenate([r.frame.index_map[r.frame.valid] for r in reports])
    low, high = np.percentile(values, [5, 95]) if values.size else (0.0, 1.0)
    if high - low < 0.05:
        middle = (high + low) / 2
        low, high = middle - 0.025, middle + 0.025
    return float(low), float(high)


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
