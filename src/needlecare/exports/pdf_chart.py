"""The report's chart: a value over days since treatment, the expected window as a band, drawn with
reportlab graphics (a :class:`~reportlab.graphics.shapes.Drawing` is a platypus flowable).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from reportlab.graphics.shapes import Circle, Drawing, Line, Rect, String
from reportlab.lib import colors

from needlecare.chart_axes import ticks

#: Plot margins in points (left, right, top, bottom) inside the drawing.
LEFT, RIGHT, TOP, BOTTOM = 44.0, 10.0, 18.0, 30.0
BAND = colors.HexColor("#d9ecd9")
POINT = colors.HexColor("#b22222")
GREY = colors.HexColor("#555555")


@dataclass(frozen=True)
class _Frame:
    width: float
    height: float
    t_max: float
    y_lo: float
    y_hi: float

    def x(self, t: float) -> float:
        return LEFT + (self.width - LEFT - RIGHT) * t / self.t_max

    def y(self, v: float) -> float:
        return BOTTOM + (self.height - TOP - BOTTOM) * (v - self.y_lo) / (self.y_hi - self.y_lo)


def _frame(
    points: Sequence[tuple[float, float]],
    outside: float,
    baseline: float | None,
    y_range: tuple[float, float] | None,
    size: tuple[float, float],
) -> _Frame:
    t_max = max([outside + 1.0, *(t for t, _ in points)])
    if y_range is not None:
        return _Frame(*size, t_max, *y_range)
    values = [v for _, v in points] + ([baseline] if baseline is not None else [])
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.1 or 0.05
    return _Frame(*size, t_max, lo - pad, hi + pad)


def _text(x: float, y: float, text: str, anchor: str = "middle", size: float = 7) -> String:
    return String(x, y, text, fontName="Helvetica", fontSize=size, fillColor=GREY, textAnchor=anchor)


def chart(
    points: Sequence[tuple[float, float]],
    expected: dict[str, Any],
    *,
    y_label: str,
    baseline: float | None = None,
    y_range: tuple[float, float] | None = None,
    size: tuple[float, float] = (460.0, 190.0),
    excluded: Sequence[tuple[float, float]] = (),
) -> Drawing:
    """Points over days since treatment, over the expected band.

    Parameters
    ----------
    points
        ``(day, value)`` pairs; day >= 0, in days since treatment.
    expected
        ``expected_course(...).to_dict()``: a shaded band spans day 0 to the typical high end
        (``typical_days[1]``); a dashed line marks ``outside_expected_after_days``.
    y_label
        Axis title with the unit.
    baseline
        Value of the before-treatment photo, drawn as a dotted horizontal line.
    y_range
        Fixed (low, high) of the y axis (the 0-4 self-rating); otherwise from the data.
    size
        (width, height) of the drawing in points.
    excluded
        ``(day, value)`` of measurements the app left out of the curve (a photo not comparable with its
        baseline): drawn as hollow grey points, never like the valid ones.
    """
    outside = float(expected["outside_expected_after_days"])
    f = _frame([*points, *excluded], outside, baseline, y_range, size)
    top, right = f.height - TOP, f.width - RIGHT
    d = Drawing(f.width, f.height)
    band_end = min(float(expected["typical_days"][1]), f.t_max)
    d.add(Rect(f.x(0), BOTTOM, f.x(band_end) - f.x(0), top - BOTTOM, fillColor=BAND, strokeColor=None))
    d.add(Line(f.x(outside), BOTTOM, f.x(outside), top, strokeColor=GREY, strokeDashArray=[3, 3]))
    d.add(_text(f.x(outside) - 2, top + 4, f"outside expected after day {outside:g}", anchor="end"))
    d.add(Line(LEFT, BOTTOM, right, BOTTOM, strokeColor=GREY))
    d.add(Line(LEFT, BOTTOM, LEFT, top, strokeColor=GREY))
    for t in ticks(0, f.t_max):
        d.add(_text(f.x(t), BOTTOM - 10, f"{t:g}"))
    for v in ticks(f.y_lo, f.y_hi, 4):
        if f.y_lo <= v <= f.y_hi:
            d.add(_text(LEFT - 4, f.y(v) - 2.5, f"{v:g}", anchor="end"))
    d.add(_text((LEFT + right) / 2, 4, "days since treatment"))
    d.add(_text(LEFT, top + 4, y_label, anchor="start"))
    if baseline is not None:
        y = f.y(baseline)
        d.add(Line(LEFT, y, right, y, strokeColor=GREY, strokeDashArray=[1, 2]))
        d.add(_text(right, y + 3, "baseline", anchor="end", size=6))
    for t, v in excluded:
        d.add(Circle(f.x(t), f.y(v), 2.6, fillColor=None, strokeColor=GREY, strokeWidth=0.8))
    for t, v in points:
        d.add(Circle(f.x(t), f.y(v), 2.6, fillColor=POINT, strokeColor=None))
    return d
