"""Expected course of redness after a microneedling treatment, from the working rule in ``durations.yaml``.

Rules (every number comes from the data file; the working rule is needlecare's derivation, not published):

* the typical window is ``working_rule.typical_days`` (1-3 days) and redness is outside the expected course
  after ``outside_expected_after_days`` (7);
* any ``extend_when`` factor (depth >= 1.5 mm, bleeding endpoint, skin types IV-VI, RF, body) widens the
  high end to ``extended_high_days`` (7);
* very short needles (<= 0.25 mm) without any such factor: a window in hours (as fractional days) and outside
  the expected course after 3 days (the 72 h barrier study);
* rollers widen the high end to at least 4 days; neck and chest add a day; the high end never passes the
  outside-expected day;
* passes, sensitive skin, rosacea, PRP, serum, cold-sore history, stamps and the scalp have no duration data:
  they add a reason saying so and never shorten the window;
* an unknown depth or skin type takes the general rule (no short-needle window, no lengthening), so that
  triage, which reads its thresholds from this course, escalates soonest; a reason says so.

Hence deeper needles, more passes, RF, darker skin and body sites never shorten the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from needlecare.knowledge.common import DISCLAIMER, Reason
from needlecare.knowledge.evidence import Note, evidence
from needlecare.knowledge.treatment import TreatmentParams

HOURS_PER_DAY = 24.0


@dataclass(frozen=True)
class ExpectedCourse:
    """The expected redness course for one treatment.

    Attributes
    ----------
    typical_days : (float, float)
        Typical duration of redness, low and high, in days (fractions of a day for hours).
    outside_expected_after_days : float
        Redness lasting longer than this many days is outside the expected course.
    reasons : tuple of Reason
        Plain-language reasons, each with its short citations.
    """

    typical_days: tuple[float, float]
    outside_expected_after_days: float
    reasons: tuple[Reason, ...]

    @property
    def window_text(self) -> str:
        """The typical window in plain words: ``"1-3 days"``, ``"0.5-24 hours"``."""
        low, high = self.typical_days
        if high <= 1:
            return f"{_num(low * HOURS_PER_DAY)}-{_num(high * HOURS_PER_DAY)} hours"
        return f"{_num(low)}-{_num(high)} days"

    def to_dict(self) -> dict[str, Any]:
        """The ``expect --json`` contract (plus ``typical_hours`` and ``disclaimer``)."""
        low, high = self.typical_days
        return {
            "typical_days": [_num(low), _num(high)],
            "outside_expected_after_days": _num(self.outside_expected_after_days),
            "reasons": [r.to_dict() for r in self.reasons],
            "typical_hours": [_num(low * HOURS_PER_DAY), _num(high * HOURS_PER_DAY)],
            "disclaimer": DISCLAIMER,
        }


def _num(value: float) -> float | int:
    """Whole numbers as int, others rounded to 4 decimals (JSON-friendly)."""
    return int(value) if float(value).is_integer() else round(value, 4)


def extending_factors(params: TreatmentParams) -> list[str]:
    """Names of the working rule's ``extend_when`` factors present in *params* (``deep``, ``rf``, ...)."""
    ext = evidence().durations.working_rule.extend_when
    present = {
        "deep": params.depth_mm is not None and params.depth_mm >= ext.min_depth_mm,
        "bleeding": params.bleeding and ext.bleeding,
        "dark_skin": params.skin_type is not None and params.skin_type in ext.skin_types,
        "rf": params.device in ext.devices,
        "body": params.area in ext.areas,
    }
    return [name for name, hit in present.items() if hit]


def expected_course(params: TreatmentParams) -> ExpectedCourse:
    """Typical redness window and the day after which redness is outside the expected course.

    Parameters
    ----------
    params : TreatmentParams
        The validated treatment.

    Returns
    -------
    ExpectedCourse
        Window in days (``low <= high <= outside_expected_after_days``) and the reasons with sources.

    Examples
    --------
    >>> course = expected_course(TreatmentParams(depth_mm=0.5, device="pen", skin_type=2))
    >>> course.typical_days, course.outside_expected_after_days, course.window_text
    ((1.0, 3.0), 7.0, '1-3 days')
    """
    ev = evidence()
    rule = ev.durations.working_rule
    adj = ev.durations.adjustments
    reasons = [ev.reason(rule.statement, rule)]
    factors = extending_factors(params)
    low, high = rule.typical_days
    outside = rule.outside_expected_after_days

    def note(item: Note) -> None:
        reasons.append(ev.reason(item.text, item))

    short = params.depth_mm is not None and params.depth_mm <= adj.short_needles.max_depth_mm
    if short and not factors:
        low, high = (h / HOURS_PER_DAY for h in adj.short_needles.typical_hours)
        outside = adj.short_needles.outside_expected_after_days
        note(adj.short_needles)
    else:
        if params.device == "roller":
            high = max(high, adj.roller.min_high_days)
        device_note = {"roller": adj.roller, "pen": adj.pen, "stamp": adj.stamp}.get(params.device)
        if device_note is not None:
            note(device_note)
        if params.area in adj.neck_chest.areas:
            high += adj.neck_chest.extra_high_days
            note(adj.neck_chest)
        if factors:
            high = max(high, rule.extended_high_days)
            for name in factors:
                note(getattr(adj, name))
    if params.area == "scalp":
        note(adj.scalp)
    note(adj.passes)
    for flag in ("sensitive", "rosacea", "prp", "serum", "cold_sore"):
        if getattr(params, flag):
            note(getattr(adj, flag))
    if params.depth_mm is None:
        note(adj.unknown_depth)
    if params.skin_type is None:
        note(adj.unknown_skin_type)
    high = min(high, outside)
    return ExpectedCourse((low, high), outside, tuple(reasons))
