"""Ingredient checker: is each ingredient on a label fine on day N after microneedling?

``check_ingredients(text, day)`` splits a pasted INCI list (:mod:`.inci_parser`), identifies each ingredient
(:mod:`.inventory`: a **curated** inventory with synonyms, not the CosIng inventory, supplemented with CosIng
Annex VI UV filters and Annex III labelled fragrance allergens), and gives a verdict for the day:

* ``avoid`` with ``avoid_until_day`` (the first day it may return), ``caution``, ``ok`` or ``soothing``, from
  the group's schedule in ``data/ingredients.yaml`` (waits and sources from evidence.md §3-4);
* ``unknown`` for a name that is not in the inventory and matches no pattern: never silently fine.

Each verdict carries a plain-language reason and its sources. Decision support, not a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from needlecare.knowledge.inci_parser import Token, split_inci
from needlecare.knowledge.ingredient_data import IngredientData
from needlecare.knowledge.inventory import Inventory, Match, default_inventory

_MAY_CONTAIN_NOTE = "Listed under 'may contain': present only in some shades or batches."

#: Worst-first order used for the product summary.
VERDICT_ORDER: tuple[str, ...] = ("avoid", "caution", "unknown", "ok", "soothing")


class IngredientInputError(ValueError):
    """The text or day given to the checker cannot be checked (no ingredients, negative day...)."""


@dataclass(frozen=True)
class IngredientResult:
    """The verdict for one ingredient on the label.

    ``day``-dependent fields: ``verdict`` and ``avoid_until_day`` (first day after treatment the ingredient
    may return; set only for ``avoid``), ``caution_until_day`` (set only for ``caution``).
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
        }


def _validate_day(day: object) -> int:
    if isinstance(day, bool) or not isinstance(day, int):
        raise IngredientInputError(f"day must be a whole number of days after treatment, got {day!r}")
    if day < 0:
        raise IngredientInputError(f"day must be 0 (treatment day) or later, got {day}")
    return day


def _reason(data: IngredientData, match: Match, token: Token, day: int) -> tuple[str, str, int | None]:
    """Headline, full plain-language reason, and the day the verdict turns milder, for one ingredient."""
    group = data.groups[match.group]
    verdict, milder_from = group.verdict_on(day)
    strictest = group.schedule[0].verdict
    explanation = group.reason
    if verdict == "avoid":
        headline = f"{group.label}: avoid until day {milder_from} (wait {group.wait})."
    elif verdict == "caution":
        headline = f"{group.label}: use with caution until day {milder_from} ({group.wait})."
    elif strictest in ("avoid", "caution"):
        headline = f"{group.label}: the usual wait ({group.wait}) is over by day {day}."
        explanation = "Reintroduce it gently if your skin is calm."
    elif verdict == "soothing":
        headline = f"{group.label}: no wait."
    else:
        headline = "No waiting rule."
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
    return short, full, milder_from


def _result(inventory: Inventory, token: Token, day: int) -> IngredientResult:
    data = inventory.data
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
            sources=data.unknown.sources,
            may_contain=token.may_contain,
            percent=token.percent,
            headline="Unknown: not in the curated list."
            + (f" {_MAY_CONTAIN_NOTE}" if token.may_contain else ""),
        )
    group = data.groups[match.group]
    verdict, _ = group.verdict_on(day)
    headline, reason, milder_from = _reason(data, match, token, day)
    extra = match.known.sources if match.known is not None else ()
    return IngredientResult(
        name=token.text,
        inci=match.known.inci if match.known is not None else None,
        group=match.group,
        verdict=verdict,
        avoid_until_day=milder_from if verdict == "avoid" else None,
        reason=reason,
        sources=tuple(dict.fromkeys((*group.sources, *extra))),
        may_contain=token.may_contain,
        matched_by=match.matched_by,
        percent=token.percent,
        caution_until_day=milder_from if verdict == "caution" else None,
        inventory=match.known.inventory if match.known is not None else None,
        headline=headline,
    )


def check_ingredients(text: str, day: int, inventory: Inventory | None = None) -> IngredientReport:
    """Verdict for every ingredient of an INCI list on ``day`` days after microneedling.

    Parameters
    ----------
    text : str
        Pasted label text: an INCI list, with or without an ``Ingredients:`` prefix.
    day : int
        Days since treatment, >= 0 (0 = the treatment day).
    inventory : Inventory, optional
        Name inventory to match against; the packaged one by default.

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
    """
    day = _validate_day(day)
    if not isinstance(text, str):
        raise IngredientInputError(f"text must be a string, got {type(text).__name__}")
    inventory = inventory or default_inventory()
    tokens = split_inci(text, is_known=inventory.is_known)
    if not tokens:
        raise IngredientInputError("no ingredients found in the text")
    data = inventory.data
    notes = tuple(
        {"id": note.id, "text": note.text, "sources": list(note.sources)}
        for note in data.notes
        if day <= note.through_day
    )
    return IngredientReport(
        day=day,
        ingredients=tuple(_result(inventory, token, day) for token in tokens),
        notes=notes,
        disclaimer=data.disclaimer,
        inventory_source=data.inventory_source,
    )
