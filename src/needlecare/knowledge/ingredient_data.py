"""Load and validate ``data/ingredients.yaml``: ingredient groups, their waits, and the INCI inventory.

The inventory is **curated** by hand for needlecare (common INCI names with synonyms); it is not the EU CosIng
inventory, which no usable package ships. Two groups are supplemented with CosIng annex names shipped offline
by the ``on-the-list`` package (see :mod:`needlecare.knowledge.cosing_annexes`). Every wait and source
lives in the data file; this module only checks that the file is coherent:

* exactly the ten groups of the ingredient checker are present;
* each group's schedule starts on day 0, its days strictly increase, and its verdict never gets stricter with
  time (``avoid`` > ``caution`` > ``ok`` / ``soothing``), so a verdict that is ``ok`` on day N stays ``ok``;
* every group, note and unknown verdict has at least one source;
* patterns compile, and no two entries claim the same normalised name.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from needlecare.knowledge.inci_parser import normalise_name

Verdict = Literal["avoid", "caution", "ok", "soothing", "unknown"]

#: Groups the checker must know, in the order their name patterns are tried (neutral last).
GROUP_NAMES: tuple[str, ...] = (
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

#: How strict a verdict is; a schedule may only move to an equal or lower rank.
SEVERITY: dict[str, int] = {"avoid": 3, "caution": 2, "ok": 1, "soothing": 1}

_Source = Field(min_length=1)


class IngredientDataError(ValueError):
    """The ingredient data file is missing, malformed or inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScheduleStep(_Strict):
    """From ``from_day`` (days after treatment, >= 0) on, the group's verdict is ``verdict``."""

    from_day: int = Field(ge=0, le=365)
    verdict: Literal["avoid", "caution", "ok", "soothing"]


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
    """An ingredient group with its wait after microneedling, the reason, and its sources."""

    label: str = Field(min_length=1)
    wait: str = Field(min_length=1)
    grade: Literal["A", "B", "C"]
    schedule: tuple[ScheduleStep, ...] = Field(min_length=1)
    reason: str = Field(min_length=1)
    sources: tuple[str, ...] = Field(min_length=1)
    patterns: tuple[str, ...] = ()
    ingredients: tuple[Entry, ...] = ()

    @field_validator("schedule")
    @classmethod
    def _monotonic(cls, steps: tuple[ScheduleStep, ...]) -> tuple[ScheduleStep, ...]:
        if steps[0].from_day != 0:
            raise ValueError(f"a schedule must start on day 0, not day {steps[0].from_day}")
        for before, after in itertools.pairwise(steps):
            if after.from_day <= before.from_day:
                raise ValueError(f"schedule days must increase: {before.from_day} then {after.from_day}")
            if SEVERITY[after.verdict] > SEVERITY[before.verdict]:
                raise ValueError(
                    f"a verdict may not get stricter with time: {before.verdict!r} then {after.verdict!r}"
                )
        return steps

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
        return patterns

    @field_validator("sources")
    @classmethod
    def _non_empty_sources(cls, sources: tuple[str, ...]) -> tuple[str, ...]:
        if any(not source.strip() for source in sources):
            raise ValueError("a source may not be empty")
        return sources

    def verdict_on(self, day: int) -> tuple[str, int | None]:
        """Verdict on ``day`` (days after treatment, >= 0) and the first later day with a milder verdict.

        Examples
        --------
        >>> group = Group(label="x", wait="5-7 days", grade="C", reason="r", sources=("s",),
        ...               schedule=({"from_day": 0, "verdict": "avoid"}, {"from_day": 7, "verdict": "ok"}))
        >>> group.verdict_on(2), group.verdict_on(7)
        (('avoid', 7), ('ok', None))
        """
        current = [step for step in self.schedule if step.from_day <= day][-1]
        milder = next(
            (
                step.from_day
                for step in self.schedule
                if step.from_day > day and SEVERITY[step.verdict] < SEVERITY[current.verdict]
            ),
            None,
        )
        return current.verdict, milder


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
