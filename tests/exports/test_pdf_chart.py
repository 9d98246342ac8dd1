"""The report chart's geometry: one dot per point in place, the band, the outside-expected line."""

from __future__ import annotations

from reportlab.graphics.shapes import Circle, Line, Rect, String

from needlecare.exports.pdf_chart import BOTTOM, LEFT, RIGHT, TOP, chart

EXPECTED = {"typical_days": [1, 3], "outside_expected_after_days": 7}


def _shapes(drawing: object, kind: type) -> list[object]:
    return [s for s in drawing.contents if isinstance(s, kind)]  # type: ignore[attr-defined]


def test_points_band_and_line_positions() -> None:
    width, height = 400.0, 200.0
    points = [(0.0, 1.0), (2.0, 3.0), (4.0, 2.0)]
    d = chart(points, EXPECTED, y_label="self-rating 0-4", y_range=(0.0, 4.0), size=(width, height))
    t_max = 8.0  # outside day + 1 exceeds the last point
    x = lambda t: LEFT + (width - LEFT - RIGHT) * t / t_max  # noqa: E731
    y = lambda v: BOTTOM + (height - TOP - BOTTOM) * v / 4.0  # noqa: E731
    dots = _shapes(d, Circle)
    assert [(c.cx, c.cy) for c in dots] == [(x(t), y(v)) for t, v in points]  # type: ignore[attr-defined]
    (band,) = _shapes(d, Rect)
    assert band.x == x(0)  # type: ignore[attr-defined]
    assert band.width == x(3) - x(0)  # type: ignore[attr-defined]
    dashed = [ln for ln in _shapes(d, Line) if ln.strokeDashArray == [3, 3]]  # type: ignore[attr-defined]
    assert [ln.x1 for ln in dashed] == [x(7)]  # type: ignore[attr-defined]
    labels = [s.text for s in _shapes(d, String)]  # type: ignore[attr-defined]
    assert "outside expected after day 7" in labels
    assert "self-rating 0-4" in labels
    y_ticks = [lb for lb in labels if lb in {"0", "1", "2", "3", "4"}][-5:]  # after the x ticks
    assert y_ticks == ["0", "1", "2", "3", "4"]


def test_axis_follows_the_data_and_baseline_is_drawn() -> None:
    d = chart([(1.0, 0.9), (12.0, 0.7)], EXPECTED, y_label="redness index (OD_hb)", baseline=0.6)
    dots = _shapes(d, Circle)
    assert dots[0].cy > dots[1].cy  # type: ignore[attr-defined]  # redder is higher
    assert dots[1].cx == d.width - RIGHT  # type: ignore[attr-defined]  # the last day sets the x range
    dotted = [ln for ln in _shapes(d, Line) if ln.strokeDashArray == [1, 2]]  # type: ignore[attr-defined]
    assert len(dotted) == 1
    assert dotted[0].y1 < min(c.cy for c in dots)  # type: ignore[attr-defined]  # baseline below both points
    assert "baseline" in [s.text for s in _shapes(d, String)]  # type: ignore[attr-defined]


def test_no_points_still_draws_the_window() -> None:
    d = chart([], EXPECTED, y_label="redness index (OD_hb)")
    assert _shapes(d, Circle) == []
    assert len(_shapes(d, Rect)) == 1


def test_excluded_photos_are_drawn_hollow_and_grey_never_like_valid_points() -> None:
    d = chart([(1.0, 0.8)], EXPECTED, y_label="redness index (OD_hb)", excluded=[(3.0, 1.4), (20.0, 0.2)])
    dots = _shapes(d, Circle)
    filled = [c for c in dots if c.fillColor is not None]  # type: ignore[attr-defined]
    hollow = [c for c in dots if c.fillColor is None]  # type: ignore[attr-defined]
    assert (len(filled), len(hollow)) == (1, 2)
    assert all(c.strokeColor is not None for c in hollow)  # type: ignore[attr-defined]
    assert max(c.cx for c in hollow) == d.width - RIGHT  # type: ignore[attr-defined]  # they set the range too
