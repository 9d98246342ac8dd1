"""Load and validate the cited evidence files in ``knowledge/data`` (sources, durations, red flags, aftercare,
grading).

Every clinical fact the knowledge modules use lives in those YAML files with its source ids and grade; this
module checks them with pydantic when they are loaded and caches the result. A file with an unknown source id,
a grade other than A/B/C, a missing field, an unknown key or an inconsistent rule raises
:class:`EvidenceError` naming the file and the problem.

Use :func:`evidence` (cached, packaged files) or :func:`load_evidence` (any directory, uncached; for tests).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from needlecare.knowledge.common import Reason

Grade = Literal["A", "B", "C"]
Design = Literal[
    "systematic_review",
    "rct",
    "clinical_study",
    "case_series",
    "single_case",
    "review",
    "labelling",
    "consensus",
    "animal",
    "product_rule",
]

#: How each study design is named to users, and its Oxford CEBM 2011 level (1 best .. 5; None for needlecare's
#: own rules, which are derivations from the rows they cite).
DESIGNS: dict[str, tuple[str, int | None]] = {
    "systematic_review": ("systematic review", 1),
    "rct": ("randomised trial", 2),
    "clinical_study": ("clinical study", 3),
    "case_series": ("case series", 4),
    "single_case": ("one case report", 5),
    "review": ("narrative review", 5),
    "labelling": ("device or product labelling", 5),
    "consensus": ("consensus", 5),
    "animal": ("animal study", 5),
    "product_rule": ("needlecare's own rule", None),
}

#: Grades from strongest to weakest.
GRADE_ORDER: tuple[Grade, ...] = ("A", "B", "C")
Urgency = Literal["emergency", "same_day", "within_48h", "routine", "expected"]
Device = Literal["roller", "pen", "rf", "stamp"]
Area = Literal["face", "neck", "chest", "body", "scalp"]

#: Urgencies from highest to lowest; triage reports the highest that matches.
URGENCY_ORDER: tuple[Urgency, ...] = ("emergency", "same_day", "within_48h", "routine", "expected")

FILES: tuple[str, ...] = ("sources", "durations", "red_flags", "aftercare", "grading")


class EvidenceError(ValueError):
    """An evidence data file is missing, malformed, cites an unknown source or is inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """One citable source. ``str(source)`` is the short form used in JSON ``sources`` lists."""

    id: str
    citation: str
    short: str
    grade: Grade
    design: Design
    covers: tuple[str, ...]
    pmid: int | None = None
    pmc: str | None = None
    url: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        return f"{self.short} ({self.grade}, {self.design_label})"

    @property
    def design_label(self) -> str:
        """The design in plain words (``"one case report"``, ``"systematic review"``)."""
        return DESIGNS[self.design][0]

    @property
    def level(self) -> int | None:
        """Oxford CEBM 2011 level of the design (1..5), ``None`` for needlecare's own rules."""
        return DESIGNS[self.design][1]


def check_known_sources(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    """Pydantic field check: every source id is in the validation context's ``sources`` (when given)."""
    known = (info.context or {}).get("sources")
    if known is not None:
        unknown = [s for s in value if s not in known]
        if unknown:
            raise ValueError(f"unknown source id(s) {', '.join(map(repr, unknown))}")
    return value


class Cited(_Strict):
    """A fact with its source ids and grade. No sources means no published data: the grade must be null.

    ``topics`` names what the fact speaks to (empty: the default topics of its file, see
    :meth:`Evidence.cited_items`); every cited source must cover one of them, and the grade may not be higher
    than any cited source's.
    """

    sources: tuple[str, ...]
    grade: Grade | None
    topics: tuple[str, ...] = ()

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return check_known_sources(value, info)

    @model_validator(mode="after")
    def _grade_matches_sources(self) -> Cited:
        if bool(self.sources) != (self.grade is not None):
            raise ValueError("a fact needs both sources and a grade, or neither (no published data)")
        return self


# --- durations.yaml -----------------------------------------------------------------------------------------


class Finding(Cited):
    """One published finding on how long redness lasts."""

    id: str
    situation: str
    finding: str


class ExtendWhen(_Strict):
    """Treatment features for which the working rule allows the extended (up to 7 days) window."""

    min_depth_mm: float
    bleeding: bool
    skin_types: tuple[int, ...]
    devices: tuple[Device, ...]
    areas: tuple[Area, ...]


class WorkingRule(Cited):
    """needlecare's working rule (a derivation, not published). Days count from treatment."""

    derivation: Literal[True]
    statement: str
    typical_days: tuple[float, float]
    extended_high_days: float
    outside_expected_after_days: float
    based_on: tuple[str, ...]
    extend_when: ExtendWhen

    @model_validator(mode="after")
    def _ordered(self) -> WorkingRule:
        low, high = self.typical_days
        if not 0 < low <= high <= self.extended_high_days <= self.outside_expected_after_days:
            raise ValueError("need 0 < typical low <= typical high <= extended high <= outside-expected day")
        return self


class Note(Cited):
    """An adjustment that only adds a reason (no data to change the window)."""

    text: str
    based_on: tuple[str, ...] = ()


class ShortNeedles(Note):
    """Window for very short needles (hours, converted to fractional days by the caller)."""

    max_depth_mm: float
    typical_hours: tuple[float, float]
    outside_expected_after_days: float


class Roller(Note):
    """Rollers widen the typical window to at least ``min_high_days``."""

    min_high_days: float


class NeckChest(Note):
    """Areas where redness may last slightly longer: ``extra_high_days`` added to the typical high."""

    areas: tuple[Area, ...]
    extra_high_days: float


class Adjustments(_Strict):
    """All adjustments of ``durations.yaml``, one per treatment feature."""

    short_needles: ShortNeedles
    roller: Roller
    pen: Note
    stamp: Note
    neck_chest: NeckChest
    scalp: Note
    prp: Note
    serum: Note
    passes: Note
    sensitive: Note
    rosacea: Note
    dark_skin: Note
    deep: Note
    bleeding: Note
    rf: Note
    body: Note
    cold_sore: Note
    unknown_depth: Note
    unknown_skin_type: Note


class Durations(_Strict):
    """Contents of ``durations.yaml``."""

    findings: tuple[Finding, ...]
    working_rule: WorkingRule
    adjustments: Adjustments

    @model_validator(mode="after")
    def _based_on_known(self) -> Durations:
        ids = {f.id for f in self.findings}
        notes: list[Note | WorkingRule] = [
            self.working_rule,
            *(getattr(self.adjustments, n) for n in Adjustments.model_fields),
        ]
        for note in notes:
            unknown = [b for b in note.based_on if b not in ids]
            if unknown:
                raise ValueError(f"based_on names unknown finding(s) {', '.join(map(repr, unknown))}")
        return self


# --- red_flags.yaml -----------------------------------------------------------------------------------------


class FlagRule(Cited):
    """A warning sign: any of ``symptoms`` (and, if given, any of ``also_any``) within the day range.

    ``max_day_outside`` ends the range on the treatment's outside-expected day, ``min_day_after_outside``
    starts it the day after; ``when`` limits the rule to treatments with one of those conditions.
    """

    id: str
    sign: str
    symptoms: tuple[str, ...]
    also_any: tuple[str, ...] = ()
    when: tuple[Literal["cold_sore", "prp"], ...] = ()
    onset: str
    min_day: int = 0
    max_day: int | None = None
    max_day_outside: bool = False
    min_day_after_outside: bool = False
    urgency: Urgency
    urgency_note: str | None = None
    action: str


class Unmatched(Cited):
    """What a symptom matching no rule on that day gets (a safety net: never below ``within_48h``)."""

    urgency: Urgency
    text: str

    @field_validator("urgency")
    @classmethod
    def _escalates(cls, value: Urgency) -> Urgency:
        if URGENCY_ORDER.index(value) > URGENCY_ORDER.index("within_48h"):
            raise ValueError("an unmatched symptom must escalate (within_48h or more urgent)")
        return value


class RednessBand(Cited):
    """One band of self-reported redness against the treatment's expected course (see ``red_flags.yaml``)."""

    urgency: Urgency
    text: str
    action: str | None = None


class RednessBands(_Strict):
    """The six redness bands, named by where the day and the redness fall in the expected course."""

    clear: RednessBand
    typical: RednessBand
    fading: RednessBand
    not_improving: RednessBand
    beyond: RednessBand
    almost_clear_late: RednessBand


class SymptomGroup(_Strict):
    """A group of symptoms as the check-in form shows them."""

    id: Literal["common", "warning", "emergency", "later"]
    title: str
    hint: str
    symptoms: tuple[str, ...]


class RedFlags(_Strict):
    """Contents of ``red_flags.yaml``."""

    symptoms: dict[str, str]
    symptom_groups: tuple[SymptomGroup, ...]
    rules: tuple[FlagRule, ...]
    unmatched: Unmatched
    redness_bands: RednessBands

    @model_validator(mode="after")
    def _consistent(self) -> RedFlags:
        for rule in self.rules:
            unknown = [s for s in (*rule.symptoms, *rule.also_any) if s not in self.symptoms]
            if unknown:
                raise ValueError(f"rule {rule.id!r} uses unknown symptom(s) {', '.join(map(repr, unknown))}")
            if not rule.symptoms:
                raise ValueError(f"rule {rule.id!r} has no symptoms")
        grouped = [s for group in self.symptom_groups for s in group.symptoms]
        if sorted(grouped) != sorted(self.symptoms):
            raise ValueError("symptom_groups must hold every symptom exactly once")
        return self


# --- aftercare.yaml -----------------------------------------------------------------------------------------


Column = Literal["standard", "deep", "rf"]
#: Conditions a plan step can be limited to (see ``aftercare.yaml``).
Condition = Literal["dark_skin", "cold_sore", "prp", "rosacea", "sensitive"]


class HealingFact(Cited):
    """A measured fact on how fast needled skin heals; ``columns`` limits it to the treatments it is about."""

    id: str
    text: str
    columns: tuple[Column, ...] = ("standard", "deep", "rf")


class ColumnBasis(Cited):
    """Why the waits of one column are what they are."""

    text: str


class Step(Cited):
    """A do/avoid item shown on each day from ``from_day`` to ``to_day`` (inclusive).

    ``when`` limits the step to treatments with any of those conditions (empty: every treatment).
    """

    id: str
    kind: Literal["do", "avoid"]
    text: str
    from_day: int
    to_day: int
    when: tuple[Condition, ...] = ()


class WaitDays(_Strict):
    """First day (0 = treatment day) on which an item is allowed, per treatment class."""

    standard: int
    deep: int
    rf: int

    @model_validator(mode="after")
    def _not_shorter(self) -> WaitDays:
        if not (0 <= self.standard <= self.deep and self.standard <= self.rf):
            raise ValueError("deep and RF waits may not be shorter than the standard wait")
        return self


class Milestone(Cited):
    """Something avoided until a day, then (optionally) used with caution until a later day, then allowed.

    Attributes
    ----------
    wait_days : WaitDays
        First day it is no longer avoided, per column.
    caution_days : WaitDays, optional
        First day it is fully allowed, per column (>= ``wait_days``); in between: "use with caution".
    at_least : dict
        Condition -> minimum wait day (``{"dark_skin": 14}``).
    groups : tuple of str
        Ingredient-checker groups whose verdicts this milestone sets.
    """

    id: str
    title: str
    avoid: str
    allowed: str
    range: str
    wait_days: WaitDays
    caution_days: WaitDays | None = None
    at_least: dict[Condition, int] = {}
    groups: tuple[str, ...] = ()
    basis: str
    rf_sources: tuple[str, ...] = ()

    @field_validator("rf_sources")
    @classmethod
    def _known_rf_sources(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return check_known_sources(value, info)

    def for_column(self, column: Column) -> Milestone:
        """This milestone citing what applies to *column* (``rf_sources`` only after RF)."""
        if column != "rf" or not self.rf_sources:
            return self
        return self.model_copy(update={"sources": (*self.sources, *self.rf_sources), "rf_sources": ()})

    @model_validator(mode="after")
    def _caution_after_wait(self) -> Milestone:
        if self.caution_days is not None:
            for column in ("standard", "deep", "rf"):
                if getattr(self.caution_days, column) < getattr(self.wait_days, column):
                    raise ValueError(f"{self.id}: caution_days may not end before wait_days ({column})")
        elif self.wait_days.standard == 0:
            raise ValueError(f"{self.id}: a milestone needs a wait or a caution period")
        return self


class Aftercare(_Strict):
    """Contents of ``aftercare.yaml``: healing facts, the wait columns, day steps and the table of waits."""

    healing_facts: tuple[HealingFact, ...]
    deep_min_depth_mm: float
    column_basis: dict[Column, ColumnBasis]
    dark_skin_types: tuple[int, ...]
    dark_skin_basis: ColumnBasis
    steps: tuple[Step, ...]
    milestones: tuple[Milestone, ...]

    @model_validator(mode="after")
    def _one_milestone_per_group(self) -> Aftercare:
        if set(self.column_basis) != {"standard", "deep", "rf"}:
            raise ValueError("column_basis needs exactly standard, deep and rf")
        seen: dict[str, str] = {}
        for milestone in self.milestones:
            for group in milestone.groups:
                if group in seen:
                    raise ValueError(f"group {group!r} is in milestones {seen[group]!r} and {milestone.id!r}")
                seen[group] = milestone.id
        return self

    def milestone_of(self, group: str) -> Milestone | None:
        """The milestone that sets the waits of ingredient group *group* (None: the group has no wait)."""
        return next((m for m in self.milestones if group in m.groups), None)


# --- grading.yaml -------------------------------------------------------------------------------------------


class Scale(Cited):
    """A 0-4 erythema scale with its anchors."""

    name: str
    anchors: dict[int, str]
    reliability: str | None = None
    validated_for: str

    @field_validator("anchors")
    @classmethod
    def _zero_to_four(cls, value: dict[int, str]) -> dict[int, str]:
        if sorted(value) != [0, 1, 2, 3, 4]:
            raise ValueError("anchors must be given for exactly 0, 1, 2, 3, 4")
        return value


class Colipa(Cited):
    """COLIPA threshold for minimal visible erythema."""

    minimal_visible_delta_a_star: float
    text: str


class Grading(_Strict):
    """Contents of ``grading.yaml``."""

    scales: dict[Literal["cea", "psa"], Scale]
    colipa: Colipa
    self_report_tolerance: float
    index_relative_tolerance: float


def citation_problems(
    sources: dict[str, Source], items: list[tuple[str, Cited, tuple[str, ...]]]
) -> list[str]:
    """What is wrong with the citations of *items* (``(where, fact, topics)``); empty when all hold.

    Each fact needs topics when it cites sources; every cited source must cover one of the fact's topics
    (a source is cited only for what it speaks to), and the fact's grade may not be higher than the grade of
    any source it cites.
    """
    problems = []
    for where, item, topics in items:
        cited = [sources[i] for i in item.sources if i in sources]
        if not cited:
            continue
        if not topics:
            problems.append(f"{where}: cites sources but names no topic")
            continue
        for source in cited:
            if not set(source.covers) & set(topics):
                problems.append(f"{where}: {source.id} does not cover {', '.join(topics)}")
        weakest = max(GRADE_ORDER.index(source.grade) for source in cited)
        if item.grade is not None and GRADE_ORDER.index(item.grade) < weakest:
            problems.append(
                f"{where}: grade {item.grade} is higher than its weakest source ({GRADE_ORDER[weakest]})"
            )
    return problems


# --- the whole set ------------------------------------------------------------------------------------------


class Evidence(_Strict):
    """All evidence files, validated together (source ids are checked against ``sources.yaml``)."""

    sources: dict[str, Source]
    durations: Durations
    red_flags: RedFlags
    aftercare: Aftercare
    grading: Grading

    @model_validator(mode="after")
    def _citations_hold(self) -> Evidence:
        problems = citation_problems(self.sources, self.cited_items())
        if problems:
            raise ValueError("; ".join(problems[:5]))
        return self

    def cited_items(self) -> list[tuple[str, Cited, tuple[str, ...]]]:
        """Every cited fact as ``(where, fact, topics)``; *topics*: the fact's own, or its file's default."""
        items: list[tuple[str, Cited, tuple[str, ...]]] = []

        def add(where: str, item: Cited, default: tuple[str, ...]) -> None:
            items.append((where, item, item.topics or default))

        durations = self.durations
        for finding in durations.findings:
            add(f"durations.findings.{finding.id}", finding, ("duration",))
        add("durations.working_rule", durations.working_rule, ("duration",))
        for name in Adjustments.model_fields:
            add(f"durations.adjustments.{name}", getattr(durations.adjustments, name), ("duration",))
        for rule in self.red_flags.rules:
            add(f"red_flags.rules.{rule.id}", rule, ())
        add("red_flags.unmatched", self.red_flags.unmatched, ())
        for name in RednessBands.model_fields:
            add(f"red_flags.redness_bands.{name}", getattr(self.red_flags.redness_bands, name), ())
        care = self.aftercare
        for fact in care.healing_facts:
            add(f"aftercare.healing_facts.{fact.id}", fact, ("barrier",))
        for column, basis in care.column_basis.items():
            add(f"aftercare.column_basis.{column}", basis, ("aftercare", "barrier"))
        add("aftercare.dark_skin_basis", care.dark_skin_basis, ("aftercare",))
        for step in care.steps:
            add(f"aftercare.steps.{step.id}", step, ("aftercare",))
        for milestone in care.milestones:
            add(f"aftercare.milestones.{milestone.id}", milestone, ("aftercare",))
            if milestone.rf_sources:
                add(f"aftercare.milestones.{milestone.id} (rf)", milestone.for_column("rf"), ("aftercare",))
        for key, scale in self.grading.scales.items():
            add(f"grading.scales.{key}", scale, ("grading",))
        add("grading.colipa", self.grading.colipa, ("grading",))
        return items

    def cite(self, ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Short citations (``"Chu et al., Dermatol Surg 2021 (A)"``) for source ids, in order, no repeats."""
        return tuple(dict.fromkeys(str(self.sources[i]) for i in ids))

    def reason(self, text: str, cited: Cited, rule: str | None = None) -> Reason:
        """A :class:`Reason` with *text*, the short citations of *cited*'s sources, its grade and *rule*."""
        return Reason(text, self.cite(cited.sources), rule=rule, grade=cited.grade)


def _read(directory: Path | Any, name: str) -> Any:
    path = directory / f"{name}.yaml"
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EvidenceError(f"{name}.yaml: file not found") from exc
    except yaml.YAMLError as exc:
        raise EvidenceError(f"{name}.yaml: not valid YAML ({exc})") from exc


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 5
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def load_evidence(directory: Path | Any) -> Evidence:
    """Read and validate the five evidence files in *directory* (a path or an importlib resource).

    Raises
    ------
    EvidenceError
        One line naming the file and the problems (unknown source ids, bad grades, missing or unknown fields).
    """
    raw = {name: _read(directory, name) for name in FILES}
    sources_raw = raw["sources"]
    if not isinstance(sources_raw, dict) or not isinstance(sources_raw.get("sources"), dict):
        raise EvidenceError("sources.yaml: expected a top-level 'sources' mapping")
    try:
        sources = {
            k: Source.model_validate({"id": k, **(v or {})}) for k, v in sources_raw["sources"].items()
        }
    except (ValidationError, TypeError) as exc:
        detail = _errors(exc) if isinstance(exc, ValidationError) else str(exc)
        raise EvidenceError(f"sources.yaml: {detail}") from exc
    context = {"sources": set(sources)}
    models: dict[str, type[BaseModel]] = {
        "durations": Durations,
        "red_flags": RedFlags,
        "aftercare": Aftercare,
        "grading": Grading,
    }
    parsed: dict[str, BaseModel] = {}
    for name, model in models.items():
        try:
            parsed[name] = model.model_validate(raw[name], context=context)
        except ValidationError as exc:
            raise EvidenceError(f"{name}.yaml: {_errors(exc)}") from exc
    try:
        return Evidence(sources=sources, **parsed)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise EvidenceError(f"citations: {_errors(exc)}") from exc


@cache
def evidence() -> Evidence:
    """The packaged evidence (``needlecare/knowledge/data``), validated once and cached."""
    return load_evidence(resources.files("needlecare.knowledge").joinpath("data"))
