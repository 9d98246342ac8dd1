"""Triage of symptoms after microneedling: reported symptoms, day since treatment and an optional 0-4 redness
self-report -> urgency with reasons and sources.

Rules live in ``red_flags.yaml`` (warning signs from evidence.md section 2, expected findings, and redness
bands built on the CEA/PSA 0-4 anchors of ``grading.yaml``):

* every rule whose symptoms (and ``also_any`` symptoms) are reported and whose day range contains the day
  matches, and each adds a reason;
* a reported symptom that matches no rule on that day gets the ``unmatched`` verdict (routine), never silence;
* the redness self-report adds the first matching redness band;
* the highest urgency wins (emergency > same_day > within_48h > routine > expected); with nothing reported the
  result is ``expected``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from needlecare.knowledge.common import DISCLAIMER, InvalidInputError, Reason
from needlecare.knowledge.evidence import URGENCY_ORDER, FlagRule, RednessRule, Urgency, evidence

#: Symptom vocabulary: id -> plain description (from ``red_flags.yaml``).
SYMPTOMS: dict[str, str] = dict(evidence().red_flags.symptoms)

#: Largest accepted day since treatment (input sanity limit: ten years).
MAX_DAY = 3650


@dataclass(frozen=True)
class TriageResult:
    """Urgency and the reasons behind it (all matching rules, most urgent first)."""

    urgency: Urgency
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``triage --json`` contract, plus ``disclaimer``."""
        return {
            "urgency": self.urgency,
            "reasons": [r.to_dict() for r in self.reasons],
            "disclaimer": DISCLAIMER,
        }


def _in_days(rule: FlagRule | RednessRule, day: int) -> bool:
    return rule.min_day <= day and (rule.max_day is None or day <= rule.max_day)


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


def _rule_text(rule: FlagRule) -> str:
    return f"{rule.sign} {rule.action} (typical onset: {rule.onset})"


def triage(day: int, symptoms: Iterable[str] = (), redness: int | None = None) -> TriageResult:
    """Urgency for *symptoms* reported *day* days after treatment.

    Parameters
    ----------
    day : int
        Days since treatment, 0 (treatment day) to 3650.
    symptoms : iterable of str
        Ids from :data:`SYMPTOMS`; repeats are ignored.
    redness : int, optional
        Self-reported redness on the 0-4 CEA/PSA scale (0 clear ... 4 severe).

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
    """
    chosen = _validate(day, symptoms, redness)
    ev = evidence()
    flags = ev.red_flags
    found: list[tuple[Urgency, Reason]] = []
    covered: set[str] = set()
    for rule in flags.rules:
        hits = [s for s in rule.symptoms if s in chosen]
        if not hits or not _in_days(rule, day):
            continue
        if rule.also_any and not any(s in chosen for s in rule.also_any):
            continue
        covered.update(hits)
        covered.update(s for s in rule.also_any if s in chosen)
        found.append((rule.urgency, ev.reason(_rule_text(rule), rule)))
    for symptom in chosen:
        if symptom not in covered:
            text = flags.unmatched.text.format(symptom=SYMPTOMS[symptom], day=day)
            found.append((flags.unmatched.urgency, ev.reason(text, flags.unmatched)))
    if redness is not None:
        anchor = ev.grading.scales["psa"].anchors[redness]
        band = next(
            (
                r
                for r in flags.redness_rules
                if r.min_redness <= redness <= r.max_redness and _in_days(r, day)
            ),
            None,
        )
        if band is None:  # the data file must cover every band; guarded by tests
            raise InvalidInputError(f"no redness rule covers redness {redness} on day {day}")
        text = band.text.format(redness=redness, anchor=anchor, day=day)
        found.append((band.urgency, ev.reason(f"{text} {band.action}" if band.action else text, band)))
    if not found:
        found.append(("expected", Reason(f"Nothing unusual reported for day {day}.")))
    found.sort(key=lambda item: URGENCY_ORDER.index(item[0]))
    return TriageResult(urgency=found[0][0], reasons=tuple(reason for _, reason in found))
