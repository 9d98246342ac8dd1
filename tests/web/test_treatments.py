"""Treatments: record through page and API, expected course and today's plan, the .ics download."""

from __future__ import annotations

import datetime as dt

from icalendar import Calendar
from sqlalchemy import select
from starlette.testclient import TestClient

from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.visibility import visibility
from needlecare.storage.models import Photo
from needlecare.web.context import WebContext

from .clinic_setup import Member, add_photo
from .conftest import TREATMENT, api_signup, api_treatment, page_csrf


def _days_ago(n: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=n)).isoformat()


def test_api_create_returns_expected_course_and_todays_plan(client: TestClient) -> None:
    headers = api_signup(client)
    r = client.post(
        "/api/v1/treatments",
        json={**TREATMENT, "treated_on": _days_ago(2), "timezone": "UTC"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["day"] == 2
    params = TreatmentParams(
        depth_mm=1.0, passes=3, device="pen", area="face", skin_type=2, bleeding=True, serum=True
    )
    assert body["expected"]["typical_days"] == expected_course(params).to_dict()["typical_days"]
    assert body["today_plan"]["day"] == 2
    assert body["today_plan"]["do"]
    listed = client.get("/api/v1/treatments").json()
    assert [t["id"] for t in listed] == [body["id"]]


def test_api_patch_changes_only_sent_fields(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    r = client.patch(f"/api/v1/treatments/{tid}", json={"depth_mm": 2.0}, headers=headers)
    assert r.status_code == 200
    assert r.json()["depth_mm"] == 2.0
    assert r.json()["passes"] == TREATMENT["passes"]


def test_api_rejects_out_of_range_values_with_422(client: TestClient) -> None:
    headers = api_signup(client)
    for bad in ({"depth_mm": 5}, {"skin_type": 7}, {"device": "laser"}, {"timezone": "Mars/Base"}):
        r = client.post("/api/v1/treatments", json={**TREATMENT, **bad}, headers=headers)
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["loc"][-1] == next(iter(bad))


def test_plan_ics_is_a_calendar(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    r = client.get(f"/api/v1/treatments/{tid}/plan.ics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/calendar")
    cal = Calendar.from_ical(r.content)
    assert cal.walk("VEVENT")
    page = client.get(f"/treatments/{tid}/plan.ics")

    def events(content: bytes) -> list[tuple[str, str, object]]:  # DTSTAMP is the download time: left out
        return [
            (str(e["UID"]), str(e["SUMMARY"]), e.decoded("DTSTART"))
            for e in Calendar.from_ical(content).walk("VEVENT")
        ]

    assert events(page.content) == events(r.content)


def test_page_form_records_treatment_and_shows_window_with_sources(client: TestClient) -> None:
    api_signup(client)
    token = page_csrf(client, "/treatments/new")
    form = {
        "csrf_token": token, "treated_on": _days_ago(1), "device": "rf", "depth_mm": "1.5", "passes": "2",
        "area": "face", "skin_type": "4", "sensitive": "true", "timezone": "Europe/Berlin", "notes": "",
    }  # fmt: skip
    r = client.post("/treatments", data=form)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    params = TreatmentParams(depth_mm=1.5, passes=2, device="rf", area="face", skin_type=4, sensitive=True)
    course = expected_course(params).to_dict()
    assert f"{course['typical_days'][0]}–{course['typical_days'][1]} days" in page.text
    first_source = next(r["sources"][0] for r in course["reasons"] if r["sources"])
    assert first_source.replace("&", "&amp;") in page.text
    assert "not a diagnosis" in page.text
    assert "plan.ics" in page.text


def test_page_form_with_bad_input_shows_friendly_422(client: TestClient) -> None:
    api_signup(client)
    token = page_csrf(client, "/treatments/new")
    r = client.post("/treatments", data={"csrf_token": token, "treated_on": "yesterday", "depth_mm": "abc"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "Please correct these" in r.text
    assert "Please enter a date" in r.text
    assert "Please enter a number." in r.text
    assert client.get("/").status_code == 200  # still serving


def test_delete_treatment(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    assert client.delete(f"/api/v1/treatments/{tid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/treatments/{tid}").status_code == 404


def test_short_needles_show_the_window_in_hours(client: TestClient) -> None:
    headers = api_signup(client)
    params = TreatmentParams(depth_mm=0.25, passes=1, device="roller", area="face", skin_type=2)
    course = expected_course(params).to_dict()
    tid = api_treatment(
        client, headers, depth_mm=0.25, passes=1, device="roller", bleeding=False, serum=False, skin_type=2
    )
    page = client.get(f"/treatments/{tid}").text
    assert course["typical_days"][1] <= 1  # the data file's short-needle rule gives a window within a day
    assert f"{course['typical_hours'][0]}–{course['typical_hours'][1]} hours" in page


def test_an_old_link_never_opens_a_newer_record(client: TestClient) -> None:
    headers = api_signup(client)
    old = api_treatment(client, headers)
    assert client.delete(f"/api/v1/treatments/{old}", headers=headers).status_code == 204
    new = api_treatment(client, headers)
    assert new != old
    assert client.get(f"/treatments/{old}").status_code == 404
    assert client.get(f"/api/v1/treatments/{old}").status_code == 404


def test_the_treatment_page_lists_photos_in_plain_words(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on="2026-11-20", cold_sore=True)
    me = client.get("/api/v1/auth/me").json()
    patient = Member(client, headers, me["id"], me["email"])
    add_photo(ctx, patient, tid, day=-1, index=0.30, baseline=True)
    add_photo(ctx, patient, tid, day=2, index=0.40)
    with ctx.sessions() as db:
        photo = db.scalars(select(Photo).where(Photo.day == 2)).one()
        stored = photo.analysis.model_dump(mode="json")
        photo.analysis = {**stored, "baseline": {"delta_a_star": 4.0, "comparable": True}}
        photo.analysis_status = "done"
        db.commit()
    page = client.get(f"/treatments/{tid}").text
    assert "Before treatment · 19 Nov" in page
    assert f"Day 2 · 22 Nov</a> · {visibility(4.0).headline}" in page
    assert "OD_hb" not in page.split("<h2>Photos</h2>")[1]  # numbers stay on the photo page, under Details
    assert "History of cold sores" in page
    assert "cold_sore" not in page
