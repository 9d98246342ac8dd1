"""Day-by-day aftercare plan (day 0 to 14) and its iCalendar export, from ``aftercare.yaml``.

Each milestone (makeup, exercise, heat and swimming, actives, retinoids, ...) is avoided until its wait day
and allowed from then on. The wait column depends on the treatment: ``rf`` for RF devices, ``deep`` for depth
of at least ``deep_min_depth_mm`` or a bleeding endpoint, ``standard`` otherwise (see ``column_basis``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event

from needlecare.knowledge.common import DISCLAIMER, InvalidInputError, Reason
from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.treatment import TreatmentParams

#: The plan covers day 0 (treatment) to this day.
PLAN_DAYS = 14

Column = Literal["standard", "deep", "rf"]


@dataclass(frozen=True)
class PlanDay:
    """One day of the plan: what to do and what to avoid."""

    day: int
    date: date
    do: tuple[str, ...]
    avoid: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"day": int, "date": "YYYY-MM-DD", "do": [str], "avoid": [str]}``."""
        return {
            "day": self.day,
            "date": self.date.isoformat(),
            "do": list(self.do),
            "avoid": list(self.avoid),
        }


@dataclass(frozen=True)
class PlanMilestone:
    """The first day something is allowed again (one calendar event)."""

    id: str
    title: str
    day: int
    date: date
    basis: str
    reason: Reason


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
    """

    treated: date
    tz: str
    column: Column
    days: tuple[PlanDay, ...]
    milestones: tuple[PlanMilestone, ...]
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        """The ``plan --json`` contract (``days``), plus milestones, reasons and the disclaimer."""
        return {
            "days": [d.to_dict() for d in self.days],
            "treated": self.treated.isoformat(),
            "tz": self.tz,
            "column": self.column,
            "milestones": [
                {"id": m.id, "title": m.title, "day": m.day, "date": m.date.isoformat(), **m.reason.to_dict()}
                for m in self.milestones
            ],
            "reasons": [r.to_dict() for r in self.reasons],
            "disclaimer": DISCLAIMER,
        }


def wait_column(params: TreatmentParams) -> Column:
    """``"rf"`` for RF devices, ``"deep"`` for deep needling or a bleeding endpoint, else ``"standard"``."""
    if params.device == "rf":
        return "rf"
    if params.depth_mm >= evidence().aftercare.deep_min_depth_mm or params.bleeding:
        return "deep"
    return "standard"


def zone(tz: str) -> ZoneInfo:
    """The IANA zone *tz*; :class:`InvalidInputError` if unknown."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a zone directory such as "America"
        raise InvalidInputError(
            f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)"
        ) from None


def aftercare_plan(treated: date, params: TreatmentParams, tz: str = "UTC") -> AftercarePlan:
    """Day-by-day do/avoid list from day 0 to day 14 and the milestones, adjusted to the treatment.

    Parameters
    ----------
    treated : datetime.date
        Treatment day (a ``datetime`` is reduced to its date).
    params : TreatmentParams
        The treatment; RF or deep needling lengthens the waits (from the data).
    tz : str
        IANA time zone for calendar reminders, default ``"UTC"``.

    Examples
    --------
    >>> plan = aftercare_plan(date(2026, 3, 2), TreatmentParams(depth_mm=0.5))
    >>> plan.days[0].date.isoformat(), len(plan.days)
    ('2026-03-02', 15)
    """
    zone(tz)
    if isinstance(treated, datetime):
        treated = treated.date()
    if not isinstance(treated, date):
        raise InvalidInputError(f"treatment date must be a date, got {treated!r}")
    ev = evidence()
    care = ev.aftercare
    column = wait_column(params)
    milestones = sorted(
        (
            PlanMilestone(
                id=m.id,
                title=m.title,
                day=getattr(m.wait_days, column),
                date=treated + timedelta(days=getattr(m.wait_days, column)),
                basis=m.basis,
                reason=ev.reason(f"{m.allowed} from day {getattr(m.wait_days, column)} ({m.basis}).", m),
            )
            for m in care.milestones
        ),
        key=lambda m: (m.day, m.id),
    )
    by_id = {m.id: m for m in care.milestones}
    days = []
    for day in range(PLAN_DAYS + 1):
        do = [s.text for s in care.steps if s.kind == "do" and s.from_day <= day <= s.to_day]
        avoid = [s.text for s in care.steps if s.kind == "avoid" and s.from_day <= day <= s.to_day]
        do += [by_id[m.id].allowed for m in milestones if m.day == day]
        avoid += [by_id[m.id].avoid for m in milestones if day < m.day]
        days.append(PlanDay(day, treated + timedelta(days=day), tuple(do), tuple(avoid)))
    reasons = [ev.reason(f.text, f) for f in care.healing_facts]
    reasons.append(ev.reason(care.column_basis.text, care.column_basis))
    return AftercarePlan(treated, tz, column, tuple(days), tuple(milestones), tuple(reasons))


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
