"""Load and validate ``data/ingredients.yaml``: ingredient groups and the INCI inventory.

The inventory is **curated** by hand for needlecare (common INCI names with synonyms); it is not the EU CosIng
inventory, which no usable package ships. Two groups are supplemented with CosIng annex names shipped offline
by the ``on-the-list`` package (see :mod:`needlecare.knowledge.cosing_annexes`). The waits are not in this
file: they are the milestones of ``aftercare.yaml`` (:mod:`needlecare.knowledge.waits`). This module checks
that the file is coherent:

* exactly the groups of :data:`GROUP_NAMES` are present;
* every group, note and unknown verdict cites at least one source id of ``sources.yaml``;
* patterns compile, and no two entries claim the same normalised name.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.inci_parser import normalise_name

Verdict = Literal["avoid", "caution", "ok", "soothing", "unknown"]

#: Groups the checker must know, in the order their name patterns are tried (neutral last).
GROUP_NAMES: tuple[str, ...] = (
    "growth_factor",
    "copper_peptide",
    "peptide",
    "vitamin_e",
    "arnica",
    "bakuchiol",
    "azelaic_acid",
    "anti_inflammatory",
    "calming",
    "retinoid",
    "aha_bha_pha",
    "l_ascorbic_acid",
    "benzoyl_peroxide",
    "fragrance",
    "alcohol_denat",
    "physical_exfoliant",
    "chemical_uv_filter",
    "soothing",
    "neutral",
)

#: How strict a verdict is.
SEVERITY: dict[str, int] = {"avoid": 3, "caution": 2, "ok": 1, "soothing": 1}

_Source = Field(min_length=1)


class IngredientDataError(ValueError):
    """The ingredient data file is missing, malformed or inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Entry(_Strict):
    """One inventory entry: canonical INCI name, synonyms, an optional note and extra sources."""

    inci: str = Field(min_length=1)
    synonyms: tuple[str, ...] = ()
    note: str | None = None
    sources: tuple[str, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, value: Any) -> Any:
        """Accept ``"Name"`` and ``[Canonical, synonym, ...]`` as well as the full mapping."""
        if isinstance(value, str):
            return {"inci": value}
        if isinstance(value, list):
            if not value or not all(isinstance(item, str) for item in value):
                raise ValueError(f"an entry list must hold names (strings), got {value!r}")
            return {"inci": value[0], "synonyms": tuple(value[1:])}
        return value


class Group(_Strict):
    """An ingredient group: what it is, why it matters after needling, and its sources (ids).

    ``healed`` is the verdict once the group's wait (its milestone in ``aftercare.yaml``) is over, or always
    when it has none.
    """

    label: str = Field(min_length=1)
    healed: Literal["caution", "ok", "soothing"]
    reason: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    patterns: tuple[str, ...] = ()
    ingredients: tuple[Entry, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
        return patterns


class Note(_Strict):
    """A top-level note shown from day 0 through ``through_day``."""

    id: str = Field(min_length=1)
    through_day: int = Field(ge=0)
    text: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)


class UnknownRule(_Strict):
    """What is said about a name the inventory does not hold."""

    reason: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)


class IngredientData(_Strict):
    """The whole validated data file."""

    version: Literal[1]
    inventory_source: str = Field(min_length=1)
    disclaimer: str = Field(min_length=1)
    notes: tuple[Note, ...] = ()
    unknown: UnknownRule
    groups: dict[str, Group]

    @model_validator(mode="after")
    def _groups_and_names(self) -> IngredientData:
        if set(self.groups) != set(GROUP_NAMES):
            missing = sorted(set(GROUP_NAMES) - set(self.groups))
            extra = sorted(set(self.groups) - set(GROUP_NAMES))
            raise ValueError(
                f"groups must be exactly {list(GROUP_NAMES)}; missing {missing}, unexpected {extra}"
            )
        known = evidence().sources
        cited = [
            *(s for g in self.groups.values() for s in g.sources),
            *(s for g in self.groups.values() for e in g.ingredients for s in e.sources),
            *(s for n in self.notes for s in n.sources),
            *self.unknown.sources,
        ]
        unknown = sorted({s for s in cited if s not in known})
        if unknown:
            raise ValueError(f"unknown source id(s) {', '.join(map(repr, unknown))} (see sources.yaml)")
        seen: dict[str, str] = {}
        for group_name, group in self.groups.items():
            for entry in group.ingredients:
                for name in (entry.inci, *entry.synonyms):
                    key = normalise_name(name)
                    if not key:
                        raise ValueError(f"empty name in group {group_name!r}")
                    if key in seen and seen[key] != f"{group_name}:{entry.inci}":
                        raise ValueError(
                            f"name {name!r} is listed twice ({seen[key]} and {group_name}:{entry.inci})"
                        )
                    seen[key] = f"{group_name}:{entry.inci}"
        return self


def parse_ingredient_data(raw: Any) -> IngredientData:
    """Validate a parsed YAML document; raise :class:`IngredientDataError` naming the first problems."""
    try:
        return IngredientData.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:5]
        )
        raise IngredientDataError(f"invalid ingredient data: {problems}") from exc


def load_ingredient_text(text: str) -> IngredientData:
    """Parse and validate YAML text of the ingredient data format."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise IngredientDataError(f"ingredient data is not valid YAML: {exc}") from exc
    return parse_ingredient_data(raw)


@lru_cache(maxsize=1)
def load_ingredient_data() -> IngredientData:
    """The packaged ``data/ingredients.yaml``, validated (cached)."""
    text = resources.files("needlecare.knowledge").joinpath("data", "ingredients.yaml").read_text("utf-8")
    return load_ingredient_text(text)
