"""Day-by-day aftercare plan (day 0 to 14) and its iCalendar export, from ``aftercare.yaml``.

Each milestone (makeup, exercise, heat and swimming, actives, retinoids, ...) is avoided until its wait day,
used with caution until its caution day where it has one, and allowed from then on. The days come from
:mod:`needlecare.knowledge.waits`, the one table of waits that the ingredient checker reads too. Steps limited
to a condition (darker skin, cold-sore history, PRP, rosacea, sensitive skin) appear only for treatments with
it, and each day says what redness to expect, from the treatment's expected course
(:mod:`needlecare.knowledge.expect`), the same course triage reads its thresholds from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event

from needlecare.knowledge.common import DISCLAIMER, InvalidInputError, Reason
from needlecare.knowledge.evidence import Column, evidence
from needlecare.knowledge.expect import ExpectedCourse, expected_course
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import redness_band
from needlecare.knowledge.waits import Wait, conditions, wait_column, waits_for

__all__ = [
    "PLAN_DAYS",
    "AftercarePlan",
    "PlanDay",
    "PlanMilestone",
    "aftercare_plan",
    "to_ics",
    "wait_column",
]

#: The plan covers day 0 (treatment) to this day.
PLAN_DAYS = 14


@dataclass(frozen=True)
class PlanItem:
    """One line of a plan day with its kind (``do``, ``avoid``, ``caution``, ``expect``) and its sources."""

    kind: str
    text: str
    reason: Reason

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "text", "sources", "rule", "grade"}``."""
        return {"kind": self.kind, **self.reason.to_dict(), "text": self.text}


@dataclass(frozen=True)
class PlanDay:
    """One day of the plan: what to do, what to avoid, what to use with caution, what redness to expect."""

    day: int
    date: date
    do: tuple[str, ...]
    avoid: tuple[str, ...]
    caution: tuple[str, ...] = ()
    expect: str = ""
    items: tuple[PlanItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """``{"day", "date", "do", "avoid"}`` (the contract), plus ``caution``, ``expect`` and ``items``
        (every line with its sources)."""
        return {
            "day": self.day,
            "date": self.date.isoformat(),
            "do": list(self.do),
            "avoid": list(self.avoid),
            "caution": list(self.caution),
            "expect": self.expect,
            "items": [item.to_dict() for item in self.items],
        }


@dataclass(frozen=True)
class PlanMilestone:
    """The first day something may return (one calendar event); ``caution_until_day`` ends its caution."""

    id: str
    title: str
    day: int
    date: date
    basis: str
    reason: Reason
    groups: tuple[str, ...] = ()
    caution_until_day: int | None = None


@dataclass(frozen=True)
class AftercarePlan:
    """The aftercare plan for one treatment.

    Attributes
    ----------
    treated : date
        Treatment day (day 0), in the patient's local calendar.
    tz : str
        IANA time zone of the patient (used for calendar reminders).
    column : {"standard", "deep", "rf"}
        Which wait column of ``aftercare.yaml`` applied.
    days : tuple of PlanDay
        Days 0..14.
    milestones : tuple of PlanMilestone
        Ordered by day; some may fall after day 14.
    reasons : tuple of Reason
        Why the waits are as they are (healing facts and the column choice), with sources.
    conditions : tuple of str
        The conditions that added steps or waits (``dark_skin``, ``cold_sore``, ...).
    """

    treated: date
    tz: str
    column: Column
    days: tuple[PlanDay, ...]
    milestones: tuple[PlanMilestone, ...]
    reasons: tuple[Reason, ...]
    conditions: tuple[str, ...] = ()

    def return_day(self, group: str) -> int | None:
        """The day ingredient group *group* may return in this plan (None: the plan has no wait for it)."""
        return next((m.day for m in self.milestones if group in m.groups), None)

    def to_dict(self) -> dict[str, Any]:
        """The ``plan --json`` contract (``days``), plus milestones, reasons and the disclaimer."""
        return {
            "days": [d.to_dict() for d in self.days],
            "treated": self.treated.isoformat(),
            "tz": self.tz,
            "column": self.column,
            "conditions": list(self.conditions),
            "milestones": [
                {
                    "id": m.id,
                    "title": m.title,
                    "day": m.day,
                    "date": m.date.isoformat(),
                    "groups": list(m.groups),
                    "caution_until_day": m.caution_until_day,
                    **m.reason.to_dict(),
                }
                for m in self.milestones
            ],
            "reasons": [r.to_dict() for r in self.reasons],
            "disclaimer": DISCLAIMER,
        }


def zone(tz: str) -> ZoneInfo:
    """The IANA zone *tz*; :class:`InvalidInputError` if unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a zone directory such as "America"
        raise InvalidInputError(
            f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def local_today(tz: str, now: datetime | None = None) -> date:
    """Today's date in time zone *tz* (*now*, timezone-aware, defaults to the current time)."""
    return (now or datetime.now(UTC)).astimezone(zone(tz)).date()


def _milestone(treated: date, wait: Wait) -> PlanMilestone:
    m = wait.milestone
    text = f"{m.allowed} from day {wait.day} ({m.basis})."
    if wait.ok_from > wait.day:
        text = f"{m.allowed} from day {wait.day}, with caution until day {wait.ok_from} ({m.basis})."
    return PlanMilestone(
        id=m.id,
        title=m.title,
        day=wait.day,
        date=treated + timedelta(days=wait.day),
        basis=m.basis,
        reason=evidence().reason(text, m, rule=f"aftercare.milestones.{m.id}"),
        groups=m.groups,
        caution_until_day=wait.ok_from if wait.ok_from > wait.avoid_until else None,
    )


def expect_line(course: ExpectedCourse, day: int) -> str:
    """What redness to expect on *day* for a treatment with *course*, in plain words.

    The wording follows triage's redness bands (:func:`~needlecare.knowledge.triage.redness_band`) and cites
    the same rows: expected within the typical window, fading until the outside-expected day, then a reason
    to contact the provider.
    """
    high = course.typical_days[1]
    outside = course.outside_expected_after_days
    if day <= high:
        return f"Redness like a moderate sunburn is expected: it usually lasts {course.window_text}."
    if day <= outside:
        return (
            f"Redness should be fading; still red after day {outside:g} is outside the expected course "
            "(contact your provider within 24-48 hours)."
        )
    return (
        f"Redness should have cleared by day {outside:g}; if it has not, or it came back, contact your "
        "provider within 24-48 hours."
    )


def _day(treated: date, day: int, params: TreatmentParams, waits: dict[str, Wait]) -> PlanDay:
    ev = evidence()
    present = conditions(params)
    course = expected_course(params)
    items: list[PlanItem] = []
    for step in ev.aftercare.steps:
        if step.from_day <= day <= step.to_day and (not step.when or set(step.when) & present):
            reason = ev.reason(step.text, step, f"aftercare.steps.{step.id}")
            items.append(PlanItem(step.kind, step.text, reason))
    for wait in waits.values():
        m = wait.milestone
        rule = f"aftercare.milestones.{m.id}"
        phase = wait.phase(day)
        if phase == "avoid":
            reason = ev.reason(f"{m.avoid} until day {wait.avoid_until}.", m, rule)
            items.append(PlanItem("avoid", m.avoid, reason))
        elif phase == "caution":
            text = f"{m.avoid} (use with caution until day {wait.ok_from})"
            items.append(PlanItem("caution", text, ev.reason(text, m, rule)))
        if day == wait.day:
            items.append(PlanItem("do", m.allowed, ev.reason(m.allowed, m, rule)))
    expect = expect_line(course, day)
    name, band = redness_band(2, day, course)
    items.append(PlanItem("expect", expect, ev.reason(expect, band, f"red_flags.redness_bands.{name}")))
    return PlanDay(
        day=day,
        date=treated + timedelta(days=day),
        do=tuple(i.text for i in items if i.kind == "do"),
        avoid=tuple(i.text for i in items if i.kind == "avoid"),
        caution=tuple(i.text for i in items if i.kind == "caution"),
        expect=expect,
        items=tuple(items),
    )


def _reasons(params: TreatmentParams, column: Column) -> list[Reason]:
    ev = evidence()
    care = ev.aftercare
    reasons = [
        ev.reason(f.text, f, f"aftercare.healing_facts.{f.id}")
        for f in care.healing_facts
        if column in f.columns
    ]
    basis = care.column_basis[column]
    reasons.append(ev.reason(basis.text, basis, f"aftercare.column_basis.{column}"))
    if "dark_skin" in conditions(params):
        text = care.dark_skin_basis.text
        if params.skin_type is None:
            text += " The skin type was not given, so this applies."
        reasons.append(ev.reason(text, care.dark_skin_basis, "aftercare.dark_skin_basis"))
    return reasons


def aftercare_plan(treated: date, params: TreatmentParams, tz: str = "UTC") -> AftercarePlan:
    """Day-by-day do/avoid list from day 0 to day 14 and the milestones, adjusted to the treatment.

    Parameters
    ----------
    treated : datetime.date
        Treatment day (a ``datetime`` is reduced to its date).
    params : TreatmentParams
        The treatment; RF, deep needling, darker skin and the other conditions change waits and steps.
    tz : str
        IANA time zone for calendar reminders, default ``"UTC"``.

    Examples
    --------
    >>> plan = aftercare_plan(date(2026, 3, 2), TreatmentParams(depth_mm=0.5))
    >>> plan.days[0].date.isoformat(), len(plan.days), plan.return_day("retinoid")
    ('2026-03-02', 15, 7)
    """
    zone(tz)
    if isinstance(treated, datetime):
        treated = treated.date()
    if not isinstance(treated, date):
        raise InvalidInputError(f"treatment date must be a date, got {treated!r}")
    try:
        treated + timedelta(days=PLAN_DAYS + 30)
    except OverflowError:
        raise InvalidInputError(f"treatment date {treated.isoformat()} is too far in the future") from None
    column = wait_column(params)
    waits = waits_for(params)
    milestones = sorted((_milestone(treated, w) for w in waits.values()), key=lambda m: (m.day, m.id))
    days = tuple(_day(treated, day, params, waits) for day in range(PLAN_DAYS + 1))
    present = tuple(sorted(conditions(params)))
    return AftercarePlan(
        treated, tz, column, days, tuple(milestones), tuple(_reasons(params, column)), present
    )


def _uid(plan: AftercarePlan, milestone: PlanMilestone) -> str:
    key = f"{plan.treated.isoformat()}|{plan.column}|{milestone.id}|{milestone.day}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:24]}-{milestone.id}@needlecare"


def to_ics(
    plan: AftercarePlan,
    *,
    reminder_time: time = time(9, 0),
    duration: timedelta = timedelta(minutes=15),
    stamp: datetime | None = None,
) -> bytes:
    """RFC 5545 calendar for *plan*: one event per milestone, each with a display reminder (VALARM).

    Events start at *reminder_time* local time in ``plan.tz`` (TZID parameter plus a VTIMEZONE component) on
    the milestone day; the alarm fires at the start. UIDs depend only on the treatment date, wait column and
    milestone, so re-exporting the same plan updates rather than duplicates events. *stamp* (DTSTAMP, UTC)
    defaults to now.

    Returns
    -------
    bytes
        The ``text/calendar`` body (CRLF line endings, UTF-8).
    """
    tzinfo = zone(plan.tz)
    stamp = (stamp or datetime.now(UTC)).astimezone(UTC)
    cal = Calendar()
    cal.add("prodid", "-//needlecare//aftercare plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Microneedling aftercare")
    for m in plan.milestones:
        start = datetime.combine(m.date, reminder_time, tzinfo=tzinfo)
        event = Event()
        event.add("uid", _uid(plan, m))
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + duration)
        event.add("summary", m.title)
        description = f"Day {m.day} after treatment on {plan.treated.isoformat()}. {m.reason.text}"
        if m.reason.sources:
            description += " Sources: " + "; ".join(m.reason.sources) + "."
        event.add("description", f"{description} {DISCLAIMER}")
        event.add("categories", ["needlecare", "aftercare"])
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", m.title)
        alarm.add("trigger", timedelta(0))
        event.add_component(alarm)
        cal.add_component(event)
    cal.add_missing_timezones()
    data: bytes = cal.to_ical()
    return data
