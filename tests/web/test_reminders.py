"""Reminder settings (page and API) and the per-patient calendar feed, subscribed to without a cookie."""

from __future__ import annotations

import datetime as dt
import re

from fastapi import FastAPI
from icalendar import Calendar
from starlette.testclient import TestClient

from needlecare.knowledge.plan import aftercare_plan
from needlecare.knowledge.treatment import TreatmentParams

from .conftest import TREATMENT, api_signup, api_treatment, new_client, page_csrf

FEED = re.compile(r"/calendar/([A-Za-z0-9_-]{43})\.ics")


def _feed_path(client: TestClient) -> str:
    match = FEED.search(client.get("/api/v1/reminders").json()["calendar_url"])
    assert match is not None
    return match.group(0)


def test_calendar_feed_lists_every_treatments_milestones_without_a_cookie(app: FastAPI) -> None:
    with new_client(app) as client:
        headers = api_signup(client)
        first = api_treatment(client, headers)
        second = api_treatment(client, headers, treated_on="2026-12-01", device="rf", bleeding=False)
        path = _feed_path(client)
    with new_client(app) as calendar_app:  # a calendar app: no session at all
        r = calendar_app.get(path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    events = list(Calendar.from_ical(r.content).walk("VEVENT"))
    params = TreatmentParams(depth_mm=1.0, passes=3, skin_type=2, bleeding=True)
    rf = TreatmentParams(depth_mm=1.0, passes=3, skin_type=2, device="rf")
    expected = [(f"t{first}", m.date) for m in aftercare_plan(dt.date(2026, 11, 20), params).milestones]
    expected += [(f"t{second}", m.date) for m in aftercare_plan(dt.date(2026, 12, 1), rf).milestones]
    got = [(str(e["UID"]).split("-")[0], e.decoded("DTSTART").date()) for e in events]
    assert sorted(got) == sorted(expected)
    assert len({str(e["UID"]) for e in events}) == len(events)
    starts = {e.decoded("DTSTART") for e in events}
    assert {(s.hour, str(s.tzinfo)) for s in starts} == {(8, TREATMENT["timezone"])}


def test_settings_change_zone_validate_it_and_rotating_the_link_revokes_the_old(app: FastAPI) -> None:
    with new_client(app) as client:
        headers = api_signup(client)
        api_treatment(client, headers)
        old = _feed_path(client)
        for bad in ("Mars/Olympus", "America", "../etc/passwd"):  # "America" is a directory of zones
            r = client.put("/api/v1/reminders", json={"timezone": bad}, headers=headers)
            assert r.status_code == 422
            assert "time zone" in r.json()["detail"]
        r = client.post("/api/v1/treatments", json={**TREATMENT, "timezone": "America"}, headers=headers)
        assert r.status_code == 422
        r = client.put(
            "/api/v1/reminders",
            json={"timezone": "America/New_York", "reminders_enabled": False},
            headers=headers,
        )
        assert r.status_code == 200
        assert (r.json()["timezone"], r.json()["reminders_enabled"]) == ("America/New_York", False)
        feed = Calendar.from_ical(client.get(old).content)
        assert {str(e.decoded("DTSTART").tzinfo) for e in feed.walk("VEVENT")} == {"America/New_York"}
        page = client.get("/reminders")
        assert old in page.text
        assert 'value="America/New_York"' in page.text
        r = client.post("/reminders/calendar/reset", data={"csrf_token": page_csrf(client, "/reminders")})
        assert r.status_code == 303
        new = _feed_path(client)
        assert new != old
    with new_client(app) as other:
        assert other.get(old).status_code == 404
        assert other.get(new).status_code == 200
        assert other.get("/calendar/not-a-token.ics").status_code in (404, 422)


def test_reminder_form_saves_and_refuses_unknown_zone(app: FastAPI) -> None:
    with new_client(app) as client:
        api_signup(client)
        token = page_csrf(client, "/reminders")
        r = client.post("/reminders", data={"csrf_token": token, "timezone": "Nowhere/Land"})
        assert r.status_code == 422
        r = client.post(
            "/reminders", data={"csrf_token": token, "timezone": "Europe/Paris", "reminders_enabled": "true"}
        )
        assert (r.status_code, r.headers["location"]) == (303, "/reminders?saved=1")
        body = client.get("/api/v1/reminders").json()
        assert (body["timezone"], body["reminders_enabled"]) == ("Europe/Paris", True)
    with new_client(app) as anonymous:
        assert anonymous.get("/api/v1/reminders").status_code == 401
        assert anonymous.get("/reminders").headers.get("location") == "/login"
