"""A treatment seen through the recovery knowledge: expected course, today's aftercare, the calendar file."""

from __future__ import annotations

import datetime as dt
from typing import Any

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.storage.models import Treatment


def params_of(treatment: Treatment) -> TreatmentParams:
    """The knowledge layer's validated parameters for a stored treatment."""
    return TreatmentParams.of(treatment)


def expected(treatment: Treatment) -> dict[str, Any]:
    """``expected_course(...).to_dict()``: typical window in days, outside-expected day, cited reasons."""
    return expected_course(params_of(treatment)).to_dict()


def plan(treatment: Treatment) -> dict[str, Any]:
    """The day-by-day aftercare plan, ``{"days": [{"day", "date", "do", "avoid"}, ...]}``.

    A row stored with a date the plan cannot be computed for (near the end of the calendar) has an empty plan
    (``{"days": [], "reasons": []}``) rather than failing every page that shows it.
    """
    from needlecare.knowledge.plan import aftercare_plan

    try:
        return aftercare_plan(treatment.treated_on, params_of(treatment), tz=treatment.timezone).to_dict()
    except InvalidInputError:
        return {"days": [], "reasons": []}


def plan_for(treatment: Treatment, on: dt.date) -> dict[str, Any] | None:
    """The plan's entry for date *on*, or ``None`` outside the plan."""
    iso = on.isoformat()
    return next((d for d in plan(treatment)["days"] if str(d.get("date")) == iso), None)


def ics(treatment: Treatment) -> bytes:
    """The aftercare plan as an iCalendar (RFC 5545) file."""
    from needlecare.knowledge.plan import aftercare_plan, to_ics

    return to_ics(aftercare_plan(treatment.treated_on, params_of(treatment), tz=treatment.timezone))
