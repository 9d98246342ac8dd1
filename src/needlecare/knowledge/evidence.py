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
    pmid: int | None = None
    pmc: str | None = None
    url: str | None = None
    note: str | None = None

    def __str__(self) -> str:
        return f"{self.short} ({self.grade})"


def check_known_sources(value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    """Pydantic field check: every source id is in the validation context's ``sources`` (when given)."""
    known = (info.context or {}).get("sources")
    if known is not None:
        unknown = [s for s in value if s not in known]
        if unknown:
            raise ValueError(f"unknown source id(s) {', '.join(map(repr, unknown))}")
    return value


class Cited(_Strict):
    """A fact with its source ids and grade. No sources means no published data: the grade must be null."""

    sources: tuple[str, ...]
    grade: Grade | None

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
    """A warning sign: any of ``symptoms`` (and, if given, any of ``also_any``) within the day range."""

    id: str
    sign: str
    symptoms: tuple[str, ...]
    also_any: tuple[str, ...] = ()
    onset: str
    min_day: int = 0
    max_day: int | None = None
    urgency: Urgency
    urgency_note: str | None = None
    action: str


class Unmatched(Cited):
    """What a symptom matching no rule on that day gets."""

    urgency: Urgency
    text: str


class RednessRule(Cited):
    """A band of self-reported redness (0-4) and days since treatment mapped to an urgency."""

    id: str
    min_redness: int
    max_redness: int
    min_day: int = 0
    max_day: int | None = None
    urgency: Urgency
    text: str
    action: str | None = None


class RedFlags(_Strict):
    """Contents of ``red_flags.yaml``."""

    symptoms: dict[str, str]
    rules: tuple[FlagRule, ...]
    unmatched: Unmatched
    redness_rules: tuple[RednessRule, ...]

    @model_validator(mode="after")
    def _consistent(self) -> RedFlags:
        for rule in self.rules:
            unknown = [s for s in (*rule.symptoms, *rule.also_any) if s not in self.symptoms]
            if unknown:
                raise ValueError(f"rule {rule.id!r} uses unknown symptom(s) {', '.join(map(repr, unknown))}")
            if not rule.symptoms:
                raise ValueError(f"rule {rule.id!r} has no symptoms")
        for rr in self.redness_rules:
            if not 0 <= rr.min_redness <= rr.max_redness <= 4:
                raise ValueError(f"redness rule {rr.id!r}: need 0 <= min_redness <= max_redness <= 4")
        return self


# --- aftercare.yaml -----------------------------------------------------------------------------------------


class HealingFact(Cited):
    """A measured fact on how fast needled skin heals."""

    id: str
    text: str


class ColumnBasis(Cited):
    """Why waits differ between standard, deep and RF treatments."""

    text: str


class Step(Cited):
    """A do/avoid item shown on each day from ``from_day`` to ``to_day`` (inclusive)."""

    id: str
    kind: Literal["do", "avoid"]
    text: str
    from_day: int
    to_day: int


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
    """Something avoided until a day, then allowed again: one calendar event."""

    id: str
    title: str
    avoid: str
    allowed: str
    wait_days: WaitDays
    basis: str


class Aftercare(_Strict):
    """Contents of ``aftercare.yaml``."""

    healing_facts: tuple[HealingFact, ...]
    deep_min_depth_mm: float
    column_basis: ColumnBasis
    steps: tuple[Step, ...]
    milestones: tuple[Milestone, ...]


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


# --- the whole set ------------------------------------------------------------------------------------------


class Evidence(_Strict):
    """All evidence files, validated together (source ids are checked against ``sources.yaml``)."""

    sources: dict[str, Source]
    durations: Durations
    red_flags: RedFlags
    aftercare: Aftercare
    grading: Grading

    def cite(self, ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """Short citations (``"Chu et al., Dermatol Surg 2021 (A)"``) for source ids, in order, no repeats."""
        return tuple(dict.fromkeys(str(self.sources[i]) for i in ids))

    def reason(self, text: str, cited: Cited) -> Reason:
        """A :class:`Reason` with *text* and the short citations of *cited*'s sources."""
        return Reason(text, self.cite(cited.sources))


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
    return Evidence(sources=sources, **parsed)  # type: ignore[arg-type]


@cache
def evidence() -> Evidence:
    """The packaged evidence (``needlecare/knowledge/data``), validated once and cached."""
    return load_evidence(resources.files("needlecare.knowledge").joinpath("data"))
