"""The one table of waits: for a treatment, the day each milestone of ``aftercare.yaml`` may return.

The aftercare plan (its "may return" days, avoid lists and calendar) and the ingredient checker (its
``avoid_until_day`` and ``caution_until_day``) both read their days from :func:`waits_for`, so they cannot
disagree. A milestone is avoided before its wait day, used with caution from then until its caution day (if it
has one), and allowed from then on.

Which column of the table applies (:func:`wait_column`):

* ``rf`` for RF microneedling;
* ``deep`` for depth >= ``deep_min_depth_mm``, a bleeding endpoint, sensitive skin, rosacea, or an unknown
  depth (the long end of each range is the cautious side);
* ``standard`` otherwise.

Conditions (:func:`conditions`) add waits (``at_least``) and plan steps: ``dark_skin`` for skin types IV-VI
and an unknown skin type, ``cold_sore``, ``prp``, ``rosacea`` and ``sensitive``.
"""

from __future__ import annotations

from dataclasses import dataclass

from needlecare.knowledge.evidence import Column, Condition, Milestone, evidence
from needlecare.knowledge.treatment import TreatmentParams


@dataclass(frozen=True)
class Wait:
    """When one milestone returns for one treatment.

    Attributes
    ----------
    milestone : Milestone
        The row of the table of waits.
    avoid_until : int
        First day (0 = treatment day) on which it is no longer avoided.
    ok_from : int
        First day on which it is fully allowed (``== avoid_until`` without a caution period).
    """

    milestone: Milestone
    avoid_until: int
    ok_from: int

    @property
    def day(self) -> int:
        """The day the plan announces it may return: the end of the avoid period, or of the caution period
        when there is no avoid period."""
        return self.avoid_until if self.avoid_until > 0 else self.ok_from

    def phase(self, day: int) -> str:
        """``"avoid"``, ``"caution"`` or ``"ok"`` on *day* (days since treatment)."""
        if day < self.avoid_until:
            return "avoid"
        return "caution" if day < self.ok_from else "ok"


def wait_column(params: TreatmentParams) -> Column:
    """``"rf"``, ``"deep"`` or ``"standard"`` for *params* (see the module docstring).

    Examples
    --------
    >>> wait_column(TreatmentParams(depth_mm=0.5)), wait_column(TreatmentParams())
    ('standard', 'deep')
    """
    if params.device == "rf":
        return "rf"
    deep = params.depth_mm is None or params.depth_mm >= evidence().aftercare.deep_min_depth_mm
    if deep or params.bleeding or params.sensitive or params.rosacea:
        return "deep"
    return "standard"


def conditions(params: TreatmentParams) -> frozenset[Condition]:
    """The plan conditions of *params*: ``dark_skin`` (types IV-VI or unknown), ``cold_sore``, ``prp``, ..."""
    dark = params.skin_type is None or params.skin_type in evidence().aftercare.dark_skin_types
    found: list[Condition] = ["dark_skin"] if dark else []
    found += [name for name in ("cold_sore", "prp", "rosacea", "sensitive") if getattr(params, name)]
    return frozenset(found)


def _wait(milestone: Milestone, column: Column, present: frozenset[Condition]) -> Wait:
    avoid = getattr(milestone.wait_days, column)
    avoid = max([avoid, *(day for cond, day in milestone.at_least.items() if cond in present)])
    caution = getattr(milestone.caution_days, column) if milestone.caution_days is not None else avoid
    return Wait(milestone.for_column(column), avoid, max(avoid, caution))


def waits_for(params: TreatmentParams) -> dict[str, Wait]:
    """Every milestone's :class:`Wait` for *params*, by milestone id, in the table's order.

    Examples
    --------
    >>> waits_for(TreatmentParams(depth_mm=0.5, skin_type=2))["retinoids"].avoid_until
    7
    >>> waits_for(TreatmentParams(depth_mm=0.5, skin_type=5))["tanning"].avoid_until
    14
    """
    column = wait_column(params)
    present = conditions(params)
    return {m.id: _wait(m, column, present) for m in evidence().aftercare.milestones}


def group_wait(group: str, params: TreatmentParams) -> Wait | None:
    """The :class:`Wait` that governs ingredient group *group* for *params* (None: the group has no wait)."""
    milestone = evidence().aftercare.milestone_of(group)
    return None if milestone is None else waits_for(params)[milestone.id]
