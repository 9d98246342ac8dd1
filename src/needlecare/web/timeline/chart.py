"""Server-rendered inline SVG chart: redness over days since treatment, the expected window, the fitted curve.

Pure geometry and escaped text; colours come from classes in ``style.css`` (the CSP forbids inline styles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from needlecare.chart_axes import ticks

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 12, 30, 52


def _el(tag: str, text: str | None = None, **attrs: object) -> str:
    """One SVG element; attribute names use ``_`` for ``-``, values and text are escaped."""
    attr = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f"<{tag} {attr}/>" if text is None else f"<{tag} {attr}>{escape(text)}</{tag}>"


@dataclass(frozen=True)
class _Frame:
    t_max: float
    y_lo: float
    y_hi: float

    def x(self, t: float) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * t / self.t_max

    def y(self, v: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (v - self.y_lo) / (self.y_hi - self.y_lo))


def _frame(series: dict[str, Any], outside: float, y_range: tuple[float, float] | None) -> _Frame:
    points, curve = series["points"], (series.get("fit") or {}).get("curve", [])
    t_max = max([outside + 1.0, *(p["t"] for p in points), *(c["t"] for c in curve)])
    if y_range is not None:
        return _Frame(t_max, *y_range)
    values = [p["value"] for p in points] + [
        c[k] for c in curve for k in ("lower", "upper") if math.isfinite(c[k])
    ]
    if series.get("baseline") is not None:
        values.append(float(series["baseline"]))
    if series.get("visible_line") is not None:
        values.append(float(series["visible_line"]))
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    pad = (hi - lo) * 0.1 or 0.05
    return _Frame(t_max, lo - pad, hi + pad)


def render_chart(
    series: dict[str, Any],
    expected: dict[str, Any],
    *,
    y_label: str,
    y_range: tuple[float, float] | None = None,
) -> Markup:
    """SVG for one series.

    Parameters
    ----------
    series
        ``{"points": [{"t", "value", "used"?}], "baseline": float | None, "fit": fit.to_dict() | None,
        "visible_line"?: float | None}``, t in days; points with ``used`` false (left out of the fit) are
        drawn hollow; ``visible_line`` (the index of just visible redness) is drawn dashed.
    expected
        ``expected_course(...).to_dict()``: the band spans day 0 to the typical high end; a dashed line marks
        the day after which redness is outside the expected course.
    y_label
        Axis title (unit).
    y_range
        Fixed (low, high) for the y axis; otherwise from the data.
    """
    outside = float(expected["outside_expected_after_days"])
    f = _frame(series, outside, y_range)
    bottom = HEIGHT - BOTTOM
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(y_label)}">',
        _el("title", f"{y_label} by day since treatment"),
        _el("rect", class_="band", x=f"{f.x(0):.1f}", y=TOP, height=bottom - TOP,
            width=f"{f.x(float(expected['typical_days'][1])) - f.x(0):.1f}"),
        _el("line", class_="axis", x1=f"{f.x(outside):.1f}", x2=f"{f.x(outside):.1f}", y1=TOP, y2=bottom,
            stroke_dasharray="4 4"),
        _el("text", f"outside expected after day {outside:g}", x=f"{f.x(outside):.1f}", y=TOP - 8,
            text_anchor="end"),
        _el("line", class_="axis", x1=LEFT, x2=WIDTH - RIGHT, y1=bottom, y2=bottom),
        _el("line", class_="axis", x1=LEFT, x2=LEFT, y1=TOP, y2=bottom),
        _el("text", "days since treatment", x=(LEFT + WIDTH) // 2, y=HEIGHT - 4, text_anchor="middle"),
    ]  # fmt: skip
    parts += [
        _el("text", f"{t:g}", x=f"{f.x(t):.1f}", y=bottom + 22, text_anchor="middle")
        for t in ticks(0, f.t_max)
    ]
    parts += [
        _el("text", f"{v:g}", x=LEFT - 6, y=f"{f.y(v) + 6:.1f}", text_anchor="end")
        for v in ticks(f.y_lo, f.y_hi, 4)
    ]
    if series.get("baseline") is not None:
        b = f"{f.y(float(series['baseline'])):.1f}"
        parts.append(
            _el("line", class_="axis", x1=LEFT, x2=WIDTH - RIGHT, y1=b, y2=b, stroke_dasharray="2 3")
        )
    if series.get("visible_line") is not None:
        v = f"{f.y(float(series['visible_line'])):.1f}"
        parts.append(
            _el("line", class_="visible", x1=LEFT, x2=WIDTH - RIGHT, y1=v, y2=v, stroke_dasharray="6 3")
        )
        parts.append(
            _el("text", "just visible", x=WIDTH - RIGHT - 4, y=f"{float(v) - 4:.1f}", text_anchor="end")
        )
    curve = [c for c in (series.get("fit") or {}).get("curve", []) if math.isfinite(c["value"])]
    if curve:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{f.x(c['t']):.1f},{f.y(c['value']):.1f}" for i, c in enumerate(curve)
        )
        parts.append(_el("path", class_="fit", d=path))
    for p in series["points"]:
        used = p.get("used", True)
        label = f"day {p['t']:g}: {p['value']:.3g}" + ("" if used else " (not used for the curve)")
        tip = _el("title", label)
        css = "point" if used else "point excluded"
        parts.append(
            f'<circle class="{css}" cx="{f.x(p["t"]):.1f}" cy="{f.y(p["value"]):.1f}" r="4">{tip}</circle>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
