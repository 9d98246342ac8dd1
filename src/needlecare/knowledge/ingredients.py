"""Ingredient checker: is each ingredient on a label fine on day N after microneedling?

``check_ingredients(text, day)`` splits a pasted INCI list (:mod:`.inci_parser`), identifies each ingredient
(:mod:`.inventory`: a **curated** inventory with synonyms, not the CosIng inventory, supplemented with CosIng
Annex VI UV filters and Annex III labelled fragrance allergens), and gives a verdict for the day:

* ``avoid`` with ``avoid_until_day`` (the first day it may return), ``caution`` with ``caution_until_day``,
  ``ok`` or ``soothing``: the days come from the group's milestone in the one table of waits
  (:mod:`needlecare.knowledge.waits`), for the treatment given (unknown values: the cautious side), so they
  are the days the aftercare plan gives;
* ``unknown`` for a name that is not in the inventory and matches no pattern: never silently fine.

Each verdict carries a plain-language reason and its sources. Decision support, not a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.inci_parser import Token, split_inci
from needlecare.knowledge.ingredient_data import IngredientData
from needlecare.knowledge.inventory import Inventory, Match, default_inventory
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.waits import Wait, group_wait, wait_column

_MAY_CONTAIN_NOTE = "Listed under 'may contain': present only in some shades or batches."

#: Largest accepted day since treatment (input sanity limit: ten years, as for triage).
MAX_DAY = 3650

#: Worst-first order used for the product summary.
VERDICT_ORDER: tuple[str, ...] = ("avoid", "caution", "unknown", "ok", "soothing")


class IngredientInputError(ValueError):
    """The text or day given to the checker cannot be checked (no ingredients, negative day...)."""


@dataclass(frozen=True)
class IngredientResult:
    """The verdict for one ingredient on the label.

    ``day``-dependent fields: ``verdict`` and ``avoid_until_day`` (first day after treatment the ingredient
    may return; set only for ``avoid``), ``caution_until_day`` (the first day it is fully allowed: set for
    ``caution``, and for ``avoid`` when a caution period follows).
    """

    name: str
    inci: str | None
    group: str
    verdict: str
    avoid_until_day: int | None
    reason: str
    sources: tuple[str, ...]
    may_contain: bool = False
    matched_by: str | None = None
    percent: float | None = None
    caution_until_day: int | None = None
    inventory: str | None = None
    headline: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with the contract keys first."""
        return {
            "name": self.name,
            "inci": self.inci,
            "group": self.group,
            "verdict": self.verdict,
            "avoid_until_day": self.avoid_until_day,
            "reason": self.reason,
            "sources": list(self.sources),
            "may_contain": self.may_contain,
            "matched_by": self.matched_by,
            "percent": self.percent,
            "caution_until_day": self.caution_until_day,
            "inventory": self.inventory,
            "headline": self.headline,
        }


@dataclass(frozen=True)
class IngredientReport:
    """All verdicts for one label on one day, in label order, with notes and a disclaimer."""

    day: int
    ingredients: tuple[IngredientResult, ...]
    notes: tuple[dict[str, Any], ...] = ()
    disclaimer: str = ""
    inventory_source: str = ""
    treatment: TreatmentParams | None = None

    @property
    def worst(self) -> str:
        """The strictest verdict on the label (``avoid`` before ``caution`` before ``unknown`` ...)."""
        present = {item.verdict for item in self.ingredients}
        return next(verdict for verdict in VERDICT_ORDER if verdict in present)

    @property
    def avoid_until_day(self) -> int | None:
        """First day on which no ingredient is ``avoid`` any more (None when nothing is avoided)."""
        days = [item.avoid_until_day for item in self.ingredients if item.avoid_until_day is not None]
        return max(days) if days else None

    def summary(self) -> dict[str, Any]:
        """Counts per verdict, the strictest verdict, and the day the last ``avoid`` ends."""
        counts = dict.fromkeys(VERDICT_ORDER, 0)
        for item in self.ingredients:
            counts[item.verdict] += 1
        return {"verdict": self.worst, "counts": counts, "avoid_until_day": self.avoid_until_day}

    def to_dict(self) -> dict[str, Any]:
        """The ``needlecare ingredients --json`` document (contract keys plus summary, notes, disclaimer)."""
        return {
            "day": self.day,
            "ingredients": [item.to_dict() for item in self.ingredients],
            "summary": self.summary(),
            "notes": [dict(note) for note in self.notes],
            "disclaimer": self.disclaimer,
            "inventory": self.inventory_source,
            "treatment": _treatment_dict(self.treatment or TreatmentParams()),
        }


def _treatment_dict(params: TreatmentParams) -> dict[str, Any]:
    """The treatment the waits were read for, with the wait column and what was assumed."""
    return {
        "description": params.describe(),
        "column": wait_column(params),
        **params.model_dump(),
    }


def _validate_day(day: object) -> int:
    if isinstance(day, bool) or not isinstance(day, int):
        raise IngredientInputError(f"day must be a whole number of days after treatment, got {day!r}")
    if not 0 <= day <= MAX_DAY:
        raise IngredientInputError(f"day must be a whole number from 0 to {MAX_DAY}, got {day}")
    return day


@dataclass(frozen=True)
class GroupVerdict:
    """A group's verdict on one day for one treatment, and the days it changes."""

    verdict: str
    avoid_until_day: int | None
    caution_until_day: int | None
    wait: Wait | None


def group_verdict(data: IngredientData, group: str, day: int, params: TreatmentParams) -> GroupVerdict:
    """Verdict of ingredient group *group* on *day* after the treatment *params*, from the table of waits.

    Examples
    --------
    >>> from needlecare.knowledge.ingredient_data import load_ingredient_data
    >>> v = group_verdict(load_ingredient_data(), "retinoid", 3, TreatmentParams(depth_mm=0.5))
    >>> v.verdict, v.avoid_until_day
    ('avoid', 7)
    """
    healed = data.groups[group].healed
    wait = group_wait(group, params)
    if wait is None:
        return GroupVerdict(healed, None, None, None)
    phase = wait.phase(day)
    caution_end = wait.ok_from if wait.ok_from > wait.avoid_until else None
    if phase == "avoid":
        return GroupVerdict("avoid", wait.avoid_until, caution_end, wait)
    if phase == "caution":
        return GroupVerdict("caution", None, wait.ok_from, wait)
    return GroupVerdict(healed, None, None, wait)


#: Why a wait is longer than the standard one, by wait column.
_LONGER = {
    "standard": "",
    "deep": "; the long end for this treatment",
    "rf": "; longer after RF, while the barrier recovers",
}


def _reason(
    data: IngredientData, match: Match, token: Token, day: int, found: GroupVerdict, params: TreatmentParams
) -> tuple[str, str]:
    """Headline and full plain-language reason for one ingredient."""
    group = data.groups[match.group]
    explanation = group.reason
    wait = found.wait
    usual = f"usual wait: {wait.milestone.range}" if wait is not None else ""
    if wait is not None and wait.avoid_until > wait.milestone.wait_days.standard:
        usual += _LONGER[wait_column(params)]
    if found.verdict == "avoid":
        headline = f"{group.label}: avoid until day {found.avoid_until_day} ({usual})."
        if found.caution_until_day is not None:
            headline += f" Then use it with caution until day {found.caution_until_day}."
    elif found.verdict == "caution" and wait is not None:
        until = found.caution_until_day
        headline = f"{group.label}: use with caution until day {until} ({wait.milestone.range})."
    elif found.verdict == "caution":
        headline = f"{group.label}: use it only on your dermatologist's advice."
    elif wait is not None:
        headline = f"{group.label}: the usual wait ({wait.milestone.range}) is over by day {day}."
        explanation = f"Reintroduce it gently if your skin is calm. {group.reason}"
    elif found.verdict == "soothing":
        headline = f"{group.label}: no wait."
    else:
        headline = "No waiting rule."
    if wait is not None:
        explanation += f" Clinic basis: {wait.milestone.basis}."
    extras: list[str] = []
    if match.known is not None and match.known.note:
        extras.append(match.known.note)
    if match.matched_by == "fuzzy" and match.known is not None:
        extras.append(f"(Read as {match.known.inci}, a close spelling.)")
    elif match.matched_by == "pattern":
        extras.append("(Recognised from the form of its name; not in the curated list.)")
    if token.may_contain:
        extras.append(_MAY_CONTAIN_NOTE)
    short = " ".join((headline, *extras))
    full = " ".join((headline, explanation, *extras))
    return short, full


def _cite(ids: list[str]) -> tuple[str, ...]:
    """Short citations for source ids; a CosIng annex name's own source text is kept as it is."""
    known = evidence().sources
    return tuple(dict.fromkeys(str(known[i]) if i in known else i for i in ids))


def _result(inventory: Inventory, token: Token, day: int, params: TreatmentParams) -> IngredientResult:
    data = inventory.data
    ev = evidence()
    match = inventory.match(token.text)
    if match is None:
        reason = data.unknown.reason + (f" {_MAY_CONTAIN_NOTE}" if token.may_contain else "")
        return IngredientResult(
            name=token.text,
            inci=None,
            group="unknown",
            verdict="unknown",
            avoid_until_day=None,
            reason=reason,
            sources=ev.cite(data.unknown.sources),
            may_contain=token.may_contain,
            percent=token.percent,
            headline="Unknown: not in the curated list."
            + (f" {_MAY_CONTAIN_NOTE}" if token.may_contain else ""),
        )
    group = data.groups[match.group]
    found = group_verdict(data, match.group, day, params)
    headline, reason = _reason(data, match, token, day, found, params)
    extra = match.known.sources if match.known is not None else ()
    waited = found.wait.milestone.sources if found.wait is not None else ()
    return IngredientResult(
        name=token.text,
        inci=match.known.inci if match.known is not None else None,
        group=match.group,
        verdict=found.verdict,
        avoid_until_day=found.avoid_until_day,
        reason=reason,
        sources=_cite([*group.sources, *waited, *extra]),
        may_contain=token.may_contain,
        matched_by=match.matched_by,
        percent=token.percent,
        caution_until_day=found.caution_until_day,
        inventory=match.known.inventory if match.known is not None else None,
        headline=headline,
    )


def check_ingredients(
    text: str, day: int, inventory: Inventory | None = None, treatment: TreatmentParams | None = None
) -> IngredientReport:
    """Verdict for every ingredient of an INCI list on ``day`` days after microneedling.

    Parameters
    ----------
    text : str
        Pasted label text: an INCI list, with or without an ``Ingredients:`` prefix.
    day : int
        Days since treatment, 0 (the treatment day) to 3650.
    inventory : Inventory, optional
        Name inventory to match against; the packaged one by default.
    treatment : TreatmentParams, optional
        The treatment the waits are read for; by default nothing is known and the cautious side of every
        wait applies (the long end of each range, as after deep needling).

    Returns
    -------
    IngredientReport
        One :class:`IngredientResult` per ingredient, in label order.

    Raises
    ------
    IngredientInputError
        When ``day`` is negative or not an integer, or the text holds no ingredient.

    Examples
    --------
    >>> report = check_ingredients("Aqua, Retinol, Cetearyl Alcohol", day=3)
    >>> [(i.inci, i.verdict, i.avoid_until_day) for i in report.ingredients]
    [('Aqua', 'ok', None), ('Retinol', 'avoid', 14), ('Cetearyl Alcohol', 'ok', None)]
    >>> shallow = TreatmentParams(depth_mm=0.5)
    >>> check_ingredients("Retinol", day=3, treatment=shallow).ingredients[0].avoid_until_day
    7
    """
    day = _validate_day(day)
    if not isinstance(text, str):
        raise IngredientInputError(f"text must be a string, got {type(text).__name__}")
    inventory = inventory or default_inventory()
    tokens = split_inci(text, is_known=inventory.is_known)
    if not tokens:
        raise IngredientInputError("no ingredients found in the text")
    data = inventory.data
    params = treatment or TreatmentParams()
    ev = evidence()
    notes = tuple(
        {"id": note.id, "text": note.text, "sources": list(ev.cite(note.sources))}
        for note in data.notes
        if day <= note.through_day
    )
    return IngredientReport(
        day=day,
        ingredients=tuple(_result(inventory, token, day, params) for token in tokens),
        notes=notes,
        disclaimer=data.disclaimer,
        inventory_source=data.inventory_source,
        treatment=treatment,
    )
