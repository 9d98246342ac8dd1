"""Triage of symptoms after microneedling: reported symptoms, day since treatment, an optional 0-4 redness
self-report and the treatment -> urgency with reasons and sources.

Rules live in ``red_flags.yaml`` (warning signs from evidence.md section 2, expected findings, and redness
bands built on the CEA/PSA 0-4 anchors of ``grading.yaml``); the redness thresholds are not fixed days but the
treatment's expected course (:func:`~needlecare.knowledge.expect.expected_course`), the same course the
``expect`` command and the aftercare plan show:

* every rule whose symptoms (and ``also_any`` symptoms) are reported, whose day range contains the day and
  whose treatment condition (``when``) holds matches, and each adds a reason;
* a reported symptom that matches no rule on that day gets the ``unmatched`` verdict, which escalates
  (within 48 hours, "no rule covers this") and is never a sourceless "routine";
* the redness self-report adds one band: within the typical window any redness is expected; after it,
  moderate or severe redness is "not improving" (within 48 hours) until the outside-expected day; after that
  day redness of 2 or more is outside the expected course (within 48 hours) and 1 is routine;
* the highest urgency wins (emergency > same_day > within_48h > routine > expected); with nothing reported the
  result is ``expected``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from needlecare.knowledge.common import DISCLAIMER, InvalidInputError, Reason
from needlecare.knowledge.evidence import URGENCY_ORDER, FlagRule, RednessBand, Urgency, evidence
from needlecare.knowledge.expect import ExpectedCourse, expected_course
from needlecare.knowledge.treatment import TreatmentParams

#: Symptom vocabulary: id -> plain description (from ``red_flags.yaml``).
SYMPTOMS: dict[str, str] = dict(evidence().red_flags.symptoms)

#: Largest accepted day since treatment (input sanity limit: ten years).
MAX_DAY = 3650


@dataclass(frozen=True)
class TriageResult:
    """Urgency and the reasons behind it (all matching rules, most urgent first), and the course used."""

    urgency: Urgency
    reasons: tuple[Reason, ...]
    course: ExpectedCourse | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``triage --json`` contract, plus ``expected_course`` (the thresholds used), ``disclaimer``."""
        out: dict[str, Any] = {
            "urgency": self.urgency,
            "reasons": [r.to_dict() for r in self.reasons],
            "disclaimer": DISCLAIMER,
        }
        if self.course is not None:
            low, high = self.course.typical_days
            out["expected_course"] = {
                "typical_days": [low, high],
                "typical_window": self.course.window_text,
                "outside_expected_after_days": self.course.outside_expected_after_days,
            }
        return out


def _day_range(rule: FlagRule, outside: int) -> tuple[int, int | None]:
    low = outside + 1 if rule.min_day_after_outside else rule.min_day
    high = outside if rule.max_day_outside else rule.max_day
    return low, high


def _applies(rule: FlagRule, day: int, outside: int, params: TreatmentParams) -> bool:
    low, high = _day_range(rule, outside)
    if not (low <= day and (high is None or day <= high)):
        return False
    return not rule.when or any(getattr(params, condition) for condition in rule.when)


def _validate(day: int, symptoms: Iterable[str], redness: int | None) -> list[str]:
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= MAX_DAY:
        raise InvalidInputError(f"day must be a whole number from 0 to {MAX_DAY}, got {day!r}")
    if isinstance(symptoms, str):
        symptoms = [symptoms]
    chosen = list(dict.fromkeys(symptoms))
    unknown = [s for s in chosen if s not in SYMPTOMS]
    if unknown:
        raise InvalidInputError(
            f"unknown symptom {unknown[0]!r}; known symptoms: {', '.join(sorted(SYMPTOMS))}"
        )
    if redness is not None and (
        isinstance(redness, bool) or not isinstance(redness, int) or not 0 <= redness <= 4
    ):
        raise InvalidInputError(f"redness must be a whole number from 0 to 4, got {redness!r}")
    return chosen


def onset_phrase(onset: str) -> str:
    """A rule's ``onset`` (``red_flags.yaml``) as words that follow "Usually appears".

    >>> onset_phrase("days"), onset_phrase("day 0")
    ('within days of the treatment', 'on the day of the treatment')
    >>> onset_phrase("days 1-5"), onset_phrase("day 3 onwards"), onset_phrase("after day 7")
    ('on days 1-5 after the treatment', 'from day 3 onwards', 'after day 7')
    >>> onset_phrase("any time"), onset_phrase("24-48 hours"), onset_phrase("about 3 weeks")
    ('at any time', 'within 24-48 hours', 'after about 3 weeks')
    """
    if onset == "day 0":
        return "on the day of the treatment"
    if onset in {"days", "weeks"}:
        return f"within {onset} of the treatment"
    if onset.endswith("onwards"):
        return f"from {onset}"
    if onset.startswith(("day ", "days ")):
        return f"on {onset} after the treatment"
    if onset.startswith(("after ", "within ", "at ")):
        return onset
    if onset == "any time":
        return "at any time"
    if onset.startswith("about "):
        return f"after {onset}"
    return f"within {onset}"


def _rule_text(rule: FlagRule) -> str:
    return f"{rule.sign} {rule.action} Usually appears {onset_phrase(rule.onset)}."


def redness_band(redness: int, day: int, course: ExpectedCourse) -> tuple[str, RednessBand]:
    """The band (name, rule) of self-reported *redness* (0-4) on *day* for a treatment with *course*.

    Examples
    --------
    >>> course = expected_course(TreatmentParams(depth_mm=0.25))
    >>> redness_band(2, 2, course)[0], redness_band(2, 4, course)[0]
    ('fading', 'beyond')
    """
    bands = evidence().red_flags.redness_bands
    high = course.typical_days[1]
    outside = course.outside_expected_after_days
    if redness == 0:
        name = "clear"
    elif day <= high:
        name = "typical"
    elif day <= outside:
        name = "fading" if redness <= 2 else "not_improving"
    else:
        name = "beyond" if redness >= 2 else "almost_clear_late"
    band: RednessBand = getattr(bands, name)
    return name, band


def triage(
    day: int,
    symptoms: Iterable[str] = (),
    redness: int | None = None,
    treatment: TreatmentParams | None = None,
) -> TriageResult:
    """Urgency for *symptoms* reported *day* days after *treatment*.

    Parameters
    ----------
    day : int
        Days since treatment, 0 (treatment day) to 3650.
    symptoms : iterable of str
        Ids from :data:`SYMPTOMS`; repeats are ignored.
    redness : int, optional
        Self-reported redness on the 0-4 CEA/PSA scale (0 clear ... 4 severe).
    treatment : TreatmentParams, optional
        The treatment; its expected course sets the redness thresholds. By default nothing is known and the
        general working rule applies (typical 1-3 days, outside the expected course after day 7), the
        window that escalates soonest among standard treatments.

    Raises
    ------
    InvalidInputError
        Negative or non-integer day, unknown symptom, redness outside 0-4.

    Examples
    --------
    >>> triage(1, ["breathing_difficulty"]).urgency
    'emergency'
    >>> triage(4, ["flaking"]).urgency
    'expected'
    >>> triage(4, redness=3).urgency, triage(4, redness=3, treatment=TreatmentParams(device="rf")).urgency
    ('within_48h', 'expected')
    """
    chosen = _validate(day, symptoms, redness)
    params = treatment or TreatmentParams()
    course = expected_course(params)
    outside = math.floor(course.outside_expected_after_days)
    ev = evidence()
    flags = ev.red_flags
    found: list[tuple[Urgency, Reason]] = []
    covered: set[str] = set()
    for rule in flags.rules:
        hits = [s for s in rule.symptoms if s in chosen]
        if not hits or not _applies(rule, day, outside, params):
            continue
        if rule.also_any and not any(s in chosen for s in rule.also_any):
            continue
        covered.update(hits)
        covered.update(s for s in rule.also_any if s in chosen)
        found.append((rule.urgency, ev.reason(_rule_text(rule), rule, f"red_flags.rules.{rule.id}")))
    for symptom in chosen:
        if symptom not in covered:
            text = flags.unmatched.text.format(symptom=SYMPTOMS[symptom], day=day)
            found.append((flags.unmatched.urgency, ev.reason(text, flags.unmatched, "red_flags.unmatched")))
    if redness is not None:
        anchor = ev.grading.scales["psa"].anchors[redness]
        name, band = redness_band(redness, day, course)
        text = band.text.format(
            redness=redness,
            anchor=anchor,
            day=day,
            window=course.window_text,
            outside=f"{course.outside_expected_after_days:g}",
        )
        full = f"{text} {band.action}" if band.action else text
        found.append((band.urgency, ev.reason(full, band, f"red_flags.redness_bands.{name}")))
    if not found:
        found.append(("expected", Reason(f"Nothing unusual reported for day {day}.")))
    found.sort(key=lambda item: URGENCY_ORDER.index(item[0]))
    return TriageResult(urgency=found[0][0], reasons=tuple(reason for _, reason in found), course=course)
