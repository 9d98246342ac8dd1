"""Timeline: redness over days since treatment from photos and check-ins, fitted and classified.

The photo series is fitted against the baseline photo's index (without a baseline photo it is only plotted);
the self-rating series against 0 on the 0-4 scale. Fitting needs at least three points on or after day 0.

A photo whose analysis found it not comparable with its baseline (taken under different light, with no colour
card and no match of the light on the eyes) is plotted but left out of the fit, with the reason: its index
moved with the camera's white balance, not only with the skin.

The photo series also carries ``visible_line``: the index at which redness is just visible on this person's
skin (COLIPA's minimal visible erythema, Δa* 2.5, converted on the baseline photo's skin colour).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from needlecare.analysis.left_out import left_out
from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.curve import fit_recovery
from needlecare.storage.models import Photo, Treatment
from needlecare.storage.photo_analysis import PhotoAnalysis
from needlecare.web.checkins import service as checkins
from needlecare.web.photos import service as photos

#: Measurements needed before a curve is fitted (the knowledge layer's minimum).
MIN_POINTS = 3


def _series(
    points: list[tuple[float, float]],
    *,
    baseline: float | None,
    scale: str,
    expected_day: float,
    left_out: dict[int, str] | None = None,
) -> dict[str, Any]:
    """One plotted series: points, and the fit (or the reason there is none).

    Parameters
    ----------
    points
        (day, value) pairs.
    left_out
        Reasons, by position in *points*, for points that are plotted but not fitted.
    """
    left_out = left_out or {}
    out: dict[str, Any] = {
        "points": [
            {"t": t, "value": v, "used": i not in left_out, "note": left_out.get(i)}
            for i, (t, v) in enumerate(points)
        ],
        "baseline": baseline,
    }
    points = [point for i, point in enumerate(points) if i not in left_out]
    if baseline is None:
        out["fit"] = None
        out["note"] = "Add a before-treatment (baseline) photo to compare the photos with your usual skin."
        return out
    if len(points) < MIN_POINTS:
        out["fit"] = None
        out["note"] = f"A recovery curve needs at least {MIN_POINTS} measurements from day 0 on."
        return out
    try:
        fit = fit_recovery(
            [t for t, _ in points],
            [v for _, v in points],
            baseline=baseline,
            expected_resolution_day=expected_day,
            scale=scale,  # type: ignore[arg-type]
        )
    except InvalidInputError as exc:
        out["fit"] = None
        out["note"] = str(exc)
        return out
    out["fit"] = fit.to_dict()
    out["note"] = None
    return out


def _visible_line(base_index: float | None, analyses: list[PhotoAnalysis]) -> float | None:
    """Index at which redness becomes just visible on this skin: the baseline's index plus the rise that
    makes COLIPA's minimal visible erythema on the baseline's skin colour (stored with each comparison)."""
    stored = [a.baseline.visible_delta for a in analyses if a.baseline is not None]
    rises = [float(r) for r in stored if r is not None]
    if base_index is None or not rises:
        return None
    return base_index + rises[-1]


def not_comparable_reason(analysis: PhotoAnalysis | None) -> str | None:
    """Why a photo's change from its baseline cannot be trusted, with the advice for the next photo (the
    photo page and the timeline say the same; :mod:`needlecare.analysis.left_out`), or None."""
    verdict = left_out(analysis)
    return None if verdict is None else str(verdict)


def _index(photo: Photo | None) -> float | None:
    """The whole-face redness index of *photo*, None when there is no photo or it was not measured."""
    index = None if photo is None or photo.analysis is None else photo.analysis.index
    return None if index is None else float(index)


def timeline(db: Session, *, treatment: Treatment) -> dict[str, Any]:
    """``{"expected": {...}, "photos": series, "self_report": series}`` for one treatment."""
    expected = course.expected(treatment)
    expected_day = float(expected["outside_expected_after_days"])
    base_index = _index(photos.baseline_of(db, treatment=treatment))
    measured = [
        (float(p.day), index, p.analysis)
        for p in photos.get_all(db, treatment=treatment)
        if not p.is_baseline and p.day >= 0 and p.analysis is not None and (index := _index(p)) is not None
    ]
    photo_points = [(day, index) for day, index, _ in measured]
    analyses = [analysis for _, _, analysis in measured]
    left_out = {
        i: reason for i, analysis in enumerate(analyses) if (reason := not_comparable_reason(analysis))
    }
    rating_points = [(float(c.day), float(c.self_rating)) for c in checkins.get_all(db, treatment=treatment)]
    photo_series = _series(
        photo_points, baseline=base_index, scale="index", expected_day=expected_day, left_out=left_out
    )
    photo_series["visible_line"] = _visible_line(base_index, analyses)
    return {
        "expected": expected,
        "photos": photo_series,
        "self_report": _series(rating_points, baseline=0.0, scale="self_report", expected_day=expected_day),
    }
