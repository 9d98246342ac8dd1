"""Staff dashboard: every active patient in recovery, with how their latest treatment is going.

A patient is *in recovery* when their latest treatment was on one of the last :data:`RECOVERY_WINDOW_DAYS`
days (in the treatment's time zone). For it the dashboard shows:

* ``day`` since treatment and the expected course (:func:`needlecare.knowledge.expect.expected_course`);
* ``redness``: the latest analysed photo's index and its excess over the baseline photo, with a ``status``:
  ``no_photo``, ``no_baseline``, ``resolved`` (excess within the curve module's tolerance, ``grading.yaml``),
  ``within_window`` (on or before the outside-expected day) or ``outside_window`` (still red after it);
* ``triage``: the latest check-in's verdict; urgencies above ``routine`` are red flags;
* ``recovery``: the timeline's fitted classification (photos first, else self-ratings).

Each row also carries the patient's *open* flags (:class:`~needlecare.storage.clinics.ClinicFlag`, raised by
:mod:`needlecare.web.clinics.alerts`) across all their treatments: a red flag on an older treatment stays on
the row until a staff member marks it handled, and a patient with an open flag is listed even when no
treatment is in recovery. Rows with an open flag, or outside the expected course (unless staff handled that
treatment's off-course flag), have ``status="attention"`` and come first (most urgent first, then the latest
day since treatment).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.knowledge.evidence import URGENCY_ORDER, evidence
from needlecare.storage.clinics import ClinicFlag
from needlecare.storage.models import Treatment, User
from needlecare.web.checkins import service as checkins
from needlecare.web.clinics import members
from needlecare.web.clinics.schemas import DashboardQuery, DashboardRow, FlagPublic
from needlecare.web.timeline import service as timeline
from needlecare.web.treatments import service as treatments

#: A treatment counts as "in recovery" for this many days (the dashboard's scope, not a clinical threshold).
RECOVERY_WINDOW_DAYS = 30

#: Urgencies that are red flags: everything more urgent than ``routine``.
RED_FLAGS: frozenset[str] = frozenset(URGENCY_ORDER[: URGENCY_ORDER.index("routine")])


def _redness(series: dict[str, Any], outside_after: float) -> dict[str, Any]:
    """Latest photo redness vs the baseline and the expected window (see module docstring)."""
    points = series["points"]
    if not points:
        return {"status": "no_photo", "day": None, "index": None, "baseline": None, "excess": None}
    latest = max(points, key=lambda p: p["t"])
    base = series["baseline"]
    out: dict[str, Any] = {"day": latest["t"], "index": latest["value"], "baseline": base, "excess": None}
    if base is None:
        return out | {"status": "no_baseline"}
    excess = latest["value"] - base
    tolerance = evidence().grading.index_relative_tolerance * max(abs(p["value"] - base) for p in points)
    out["excess"] = excess
    if excess <= tolerance:
        out["status"] = "resolved"
    elif latest["t"] <= outside_after:
        out["status"] = "within_window"
    else:
        out["status"] = "outside_window"
    return out


def _recovery(line: dict[str, Any]) -> dict[str, Any] | None:
    for source in ("photos", "self_report"):
        fit = line[source]["fit"]
        if fit is not None:
            return {"classification": fit["classification"], "source": source, "reasons": fit["reasons"]}
    return None


def row_for(db: Session, *, patient: User, name: str | None, treatment: Treatment) -> DashboardRow:
    """The dashboard row of one patient's treatment."""
    line = timeline.timeline(db, treatment=treatment)
    expected = line["expected"]
    redness = _redness(line["photos"], float(expected["outside_expected_after_days"]))
    latest = next(reversed(checkins.get_all(db, treatment=treatment)), None)
    triage = None
    if latest is not None:
        triage = {
            "checkin_id": latest.id,
            "urgency": latest.triage.get("urgency"),
            "day": latest.day,
            "checked_on": latest.checked_on,
        }
        triage["reasons"] = latest.triage.get("reasons", [])
    recovery = _recovery(line)
    outside = redness["status"] == "outside_window" or (
        recovery is not None and recovery["classification"] != "expected"
    )
    red_flag = triage is not None and triage["urgency"] in RED_FLAGS
    return DashboardRow(
        patient_id=patient.id,
        email=patient.email,
        name=name,
        treatment_id=treatment.id,
        treated_on=treatment.treated_on,
        day=treatments.day_number(treatment, treatments.today(treatment)),
        expected={k: expected[k] for k in ("typical_days", "outside_expected_after_days")},
        redness=redness,
        triage=triage,
        recovery=recovery,
        outside_expected=outside,
        red_flag=red_flag,
        status="attention" if outside or red_flag else "on_track",
    )


def _with_flags(
    row: DashboardRow, flags: list[ClinicFlag], *, known_checkins: set[int], handled_off_course: set[int]
) -> DashboardRow:
    """*row* with the patient's open *flags*; ``red_flag`` and ``status`` follow them (module docstring).

    The latest check-in's verdict still counts as a red flag when it has no flag in this clinic yet
    (*known_checkins*: check-ins flagged here, open or handled).
    """
    row.flags = [FlagPublic.model_validate(f) for f in flags]
    unflagged = row.triage is not None and row.triage["checkin_id"] not in known_checkins
    row.red_flag = any(f.kind == "red_flag" for f in flags) or (row.red_flag and unflagged)
    outside = row.outside_expected and row.treatment_id not in handled_off_course
    row.status = "attention" if flags or outside or row.red_flag else "on_track"
    return row


def _urgency(row: DashboardRow) -> str | None:
    """The most urgent of the row's open red flags, else its latest check-in's verdict."""
    flagged = [f.urgency for f in row.flags if f.urgency in URGENCY_ORDER]
    if flagged:
        return min(flagged, key=URGENCY_ORDER.index)
    return row.triage["urgency"] if row.triage else None


def _sort_key(row: DashboardRow) -> tuple[int, int, int, str]:
    urgency = _urgency(row)
    rank = URGENCY_ORDER.index(urgency) if urgency in URGENCY_ORDER else len(URGENCY_ORDER)
    return (row.status != "attention", rank, -row.day, row.email)


def _matches(row: DashboardRow, query: DashboardQuery) -> bool:
    """*row* passes the filters: ``urgency`` matches the latest check-in's verdict or an open flag's."""
    if query.status is not None and row.status != query.status:
        return False
    urgencies = {f.urgency for f in row.flags} | ({row.triage["urgency"]} if row.triage else set())
    if query.urgency is not None and query.urgency not in urgencies:
        return False
    needle = (query.q or "").strip().lower()
    return not needle or needle in row.email.lower() or needle in (row.name or "").lower()


def dashboard(db: Session, *, user: User, clinic_id: int, query: DashboardQuery) -> list[DashboardRow]:
    """Rows for every active patient in recovery, filtered by *query*, attention first (staff only)."""
    members.staff_membership(db, user=user, clinic_id=clinic_id)
    flags = db.scalars(
        select(ClinicFlag).where(ClinicFlag.clinic_id == clinic_id).order_by(ClinicFlag.id)
    ).all()
    open_by_patient: dict[int, list[ClinicFlag]] = {}
    handled_off_course: set[int] = set()
    known_checkins = {f.checkin_id for f in flags if f.checkin_id is not None}
    for flag in flags:
        if flag.handled_at is None:
            open_by_patient.setdefault(flag.patient_id, []).append(flag)
        elif flag.kind == "off_course":
            handled_off_course.add(flag.treatment_id)
    rows = []
    for member in members.patients(db, clinic_id=clinic_id):
        mine = open_by_patient.get(member.user_id, [])
        chosen: Treatment | None = None
        for treatment in treatments.get_all(db, user=member.user):  # newest first
            day = treatments.day_number(treatment, treatments.today(treatment))
            if day > RECOVERY_WINDOW_DAYS:
                break
            if day >= 0:  # a treatment booked for a later date is not a recovery yet
                chosen = treatment
                break
        if chosen is None and mine:  # no recovery now, but an open flag: show its treatment
            chosen = db.get(Treatment, mine[-1].treatment_id)
        if chosen is not None:
            row = row_for(db, patient=member.user, name=member.display_name, treatment=chosen)
            rows.append(
                _with_flags(row, mine, known_checkins=known_checkins, handled_off_course=handled_off_course)
            )
    return sorted((r for r in rows if _matches(r, query)), key=_sort_key)
