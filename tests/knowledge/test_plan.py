"""Aftercare plan (days 0-14, waits from aftercare.yaml) and its iCalendar export, parsed with icalendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.plan import aftercare_plan, to_ics, wait_column
from needlecare.knowledge.treatment import TreatmentParams

CARE = evidence().aftercare
TREATED = date(2026, 3, 25)  # Europe/Berlin switches to summer time on 2026-03-29
STAMP = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)


def params(**kw: Any) -> TreatmentParams:
    return TreatmentParams(**{"depth_mm": 0.5, "device": "pen", **kw})


@pytest.mark.parametrize(
    ("kw", "column"),
    [
        ({}, "standard"),
        ({"depth_mm": 1.49}, "standard"),
        ({"depth_mm": CARE.deep_min_depth_mm}, "deep"),
        ({"bleeding": True}, "deep"),
        ({"device": "rf"}, "rf"),
        ({"device": "rf", "depth_mm": 2.0}, "rf"),
    ],
)
def test_wait_column(kw: dict[str, Any], column: str) -> None:
    assert wait_column(params(**kw)) == column


def test_days_cover_0_to_14_with_consecutive_dates() -> None:
    plan = aftercare_plan(TREATED, params())
    assert [d.day for d in plan.days] == list(range(15))
    assert [d.date for d in plan.days] == [TREATED + timedelta(days=i) for i in range(15)]


@pytest.mark.parametrize("column", ["standard", "deep", "rf"])
def test_milestones_follow_the_data(column: str) -> None:
    kw = {"standard": {}, "deep": {"depth_mm": 2.0}, "rf": {"device": "rf"}}[column]
    plan = aftercare_plan(TREATED, params(skin_type=2, **kw))
    assert plan.column == column
    for m in CARE.milestones:
        wait = getattr(m.wait_days, column)
        ok = getattr(m.caution_days, column) if m.caution_days is not None else wait
        announced = wait if wait > 0 else ok
        got = next(x for x in plan.milestones if x.id == m.id)
        assert (got.day, got.date) == (announced, TREATED + timedelta(days=announced))
        for d in plan.days:
            assert (m.avoid in d.avoid) == (d.day < wait), (m.id, d.day)
            assert (m.allowed in d.do) == (d.day == announced), (m.id, d.day)
            assert any(c.startswith(m.avoid) for c in d.caution) == (wait <= d.day < ok), (m.id, d.day)


def test_steps_follow_the_data() -> None:
    plan = aftercare_plan(TREATED, params(skin_type=2))
    for step in CARE.steps:
        for d in plan.days:
            listed = d.do if step.kind == "do" else d.avoid
            shown = step.from_day <= d.day <= step.to_day and not step.when
            assert (step.text in listed) == shown, (step.id, d.day)


def test_known_clinic_waits_standard() -> None:
    days = {m.id: m.day for m in aftercare_plan(TREATED, params()).milestones}
    assert days["makeup"] == 1
    assert days["exercise"] == 2
    assert days["acids_vitamin_c"] == 5
    assert days["retinoids"] == 7


def test_rf_and_deep_never_shorten_waits() -> None:
    standard = {m.id: m.day for m in aftercare_plan(TREATED, params()).milestones}
    for kw in ({"depth_mm": 2.0}, {"bleeding": True}, {"device": "rf"}):
        other = {m.id: m.day for m in aftercare_plan(TREATED, params(**kw)).milestones}
        assert all(other[k] >= standard[k] for k in standard)
        assert any(other[k] > standard[k] for k in standard)
    rf = {m.id: m.day for m in aftercare_plan(TREATED, params(device="rf")).milestones}
    assert rf["heat_swimming"] == 7


def test_day0_contents() -> None:
    day0 = aftercare_plan(TREATED, params()).days[0]
    assert any("4 hours" in s for s in day0.do)
    assert any(s.startswith("Makeup") for s in day0.avoid)
    assert any(s.startswith("Sun exposure") for s in day0.avoid)


def test_to_dict_contract() -> None:
    d = aftercare_plan(TREATED, params(), tz="Europe/Berlin").to_dict()
    assert (d["days"][3]["day"], d["days"][3]["date"]) == (3, "2026-03-28")
    assert all({"day", "date", "do", "avoid"} <= set(x) for x in d["days"])
    assert all(set(x) - {"day", "date", "do", "avoid"} == {"caution", "expect", "items"} for x in d["days"])
    assert all(isinstance(s, str) for x in d["days"] for s in x["do"] + x["avoid"])
    assert "not a diagnosis" in d["disclaimer"]
    assert all(r["sources"] for r in d["reasons"])


def test_datetime_is_reduced_to_date() -> None:
    plan = aftercare_plan(datetime(2026, 3, 25, 18, 30), params())  # type: ignore[arg-type]
    assert plan.treated == TREATED


def test_unknown_time_zone_rejected() -> None:
    with pytest.raises(InvalidInputError, match="Mars/Olympus"):
        aftercare_plan(TREATED, params(), tz="Mars/Olympus")


def _calendar(tz: str = "Europe/Berlin", **kw: Any) -> tuple[Calendar, Any]:
    plan = aftercare_plan(TREATED, params(**kw), tz=tz)
    return Calendar.from_ical(to_ics(plan, stamp=STAMP)), plan


def test_ics_has_one_event_with_alarm_per_milestone() -> None:
    cal, plan = _calendar()
    events = cal.walk("VEVENT")
    assert len(events) == len(plan.milestones) == len(CARE.milestones)
    titles = {str(e["SUMMARY"]) for e in events}
    assert {"Mineral makeup allowed", "Exercise allowed", "Retinoids and bakuchiol may return"} <= titles
    assert "AHA/BHA, azelaic acid, vitamin C and benzoyl peroxide may return" in titles
    for event in events:
        alarms = event.walk("VALARM")
        assert len(alarms) == 1
        assert str(alarms[0]["ACTION"]) == "DISPLAY"
        assert alarms[0].decoded("TRIGGER") == timedelta(0)
        assert "not a diagnosis" in str(event["DESCRIPTION"])


def test_ics_dates_and_time_zone() -> None:
    cal, plan = _calendar()
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    berlin = ZoneInfo("Europe/Berlin")
    by_title = {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}
    for m in plan.milestones:
        event = by_title[m.title]
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        start = event.decoded("DTSTART")
        assert start.date() == m.date
        assert start.replace(tzinfo=None).time() == time(9, 0)
        assert start.utcoffset() == berlin.utcoffset(datetime.combine(m.date, time(9, 0)))
    # makeup (day 1, before the DST switch) is 08:00 UTC; retinoids (day 7, after it) 07:00 UTC
    assert by_title["Mineral makeup allowed"].decoded("DTSTART").astimezone(UTC).hour == 8
    assert by_title["Retinoids and bakuchiol may return"].decoded("DTSTART").astimezone(UTC).hour == 7


def test_ics_uids_unique_and_stable() -> None:
    cal1, plan = _calendar()
    again = Calendar.from_ical(to_ics(plan, stamp=STAMP + timedelta(days=1)))
    uids = [str(e["UID"]) for e in cal1.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["UID"]) for e in again.walk("VEVENT")]
    other, _ = _calendar(device="rf")
    assert set(uids).isdisjoint(str(e["UID"]) for e in other.walk("VEVENT"))


def test_ics_is_crlf_rfc5545() -> None:
    _, plan = _calendar()
    data = to_ics(plan, stamp=STAMP)
    assert data.startswith(b"BEGIN:VCALENDAR\r\n")
    assert b"VERSION:2.0" in data
    assert b"PRODID:" in data
    assert data.rstrip().endswith(b"END:VCALENDAR")


def test_ics_other_zone_and_reminder_time() -> None:
    plan = aftercare_plan(TREATED, params(), tz="America/New_York")
    cal = Calendar.from_ical(to_ics(plan, reminder_time=time(18, 30), stamp=STAMP))
    start = cal.walk("VEVENT")[0].decoded("DTSTART")
    assert (start.hour, start.minute) == (18, 30)
    assert start.utcoffset() == timedelta(hours=-4)
