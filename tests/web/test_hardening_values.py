"""Values that cannot poison a record: extreme dates, non-finite numbers, NUL and lone surrogates get 422
and store nothing; rows already out of range are still read without a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from needlecare.storage.models import CheckIn, Photo, Treatment, User
from needlecare.web.context import WebContext

from .clinic_setup import create_clinic, join, signup, staff_treatment, today
from .conftest import PASSWORD, TREATMENT, api_csrf, api_signup, api_treatment


def _count(ctx: WebContext, model: type) -> int:
    with ctx.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _json(client: TestClient, method: str, url: str, body: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.request(
        method, url, content=body.encode(), headers={**headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize("treated_on", ["9999-12-31", "0001-01-01", "1999-12-31", "2999-01-01"])
def test_treatment_dates_outside_2000_to_today_are_refused(
    client: TestClient, ctx: WebContext, treated_on: str
) -> None:
    headers = api_signup(client)
    r = client.post("/api/v1/treatments", json={**TREATMENT, "treated_on": treated_on}, headers=headers)
    assert r.status_code == 422, r.text
    assert _count(ctx, Treatment) == 0
    tid = api_treatment(client, headers)
    r = client.patch(f"/api/v1/treatments/{tid}", json={"treated_on": treated_on}, headers=headers)
    assert r.status_code == 422
    assert client.get(f"/api/v1/treatments/{tid}").json()["treated_on"] == TREATMENT["treated_on"]


def test_treatment_form_refuses_the_same_dates(client: TestClient, ctx: WebContext) -> None:
    api_signup(client)
    token = client.get("/treatments/new").text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in TREATMENT.items()}
    r = client.post("/treatments", data={**form, "treated_on": "9999-12-31", "csrf_token": token})
    assert r.status_code == 422
    assert _count(ctx, Treatment) == 0


@pytest.mark.parametrize("taken_on", ["0001-01-01", "9999-12-31", "2026-10-01"])
def test_photo_dates_outside_treatment_to_today_are_refused(
    client: TestClient, ctx: WebContext, taken_on: str
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    files = {"file": ("face.jpg", b"not looked at", "image/jpeg")}
    r = client.post(
        f"/api/v1/treatments/{tid}/photos",
        files=files,
        data={"consent": "private", "taken_on": taken_on},
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert _count(ctx, Photo) == 0


@pytest.mark.parametrize("checked_on", ["0001-01-01", "9999-12-31", "2026-11-19"])
def test_checkin_dates_outside_treatment_to_today_are_refused(
    client: TestClient, ctx: WebContext, checked_on: str
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    r = client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": 1, "symptoms": [], "checked_on": checked_on},
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert _count(ctx, CheckIn) == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_json_numbers_get_422_everywhere(client: TestClient, number: str) -> None:
    anonymous = {"X-CSRF-Token": api_csrf(client)}
    r = _json(client, "POST", "/api/v1/auth/login", f'{{"email": {number}, "password": "x"}}', anonymous)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/json"
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    cases = [
        ("POST", "/api/v1/treatments", f'{{"treated_on": "2026-11-20", "depth_mm": {number}}}'),
        ("PATCH", f"/api/v1/treatments/{tid}", f'{{"depth_mm": {number}}}'),
        ("POST", "/api/v1/clinics", f'{{"name": "A", "emergency_contact": {number}}}'),
        ("POST", "/api/v1/ingredients/check", f'{{"text": "Aqua", "day": {number}}}'),
        ("PUT", "/api/v1/reminders", f'{{"timezone": "UTC", "reminders_enabled": {number}}}'),
    ]
    for method, url, body in cases:
        r = _json(client, method, url, body, headers)
        assert r.status_code == 422, (url, r.text)
        assert r.json()["detail"][0]["msg"].endswith("is not a finite number")


@pytest.mark.parametrize("text", ["\\ud800", "a\\u0000b", "\\udfff tail"])
def test_nul_and_lone_surrogates_in_text_get_422(client: TestClient, ctx: WebContext, text: str) -> None:
    anonymous = {"X-CSRF-Token": api_csrf(client)}
    r = _json(
        client,
        "POST",
        "/api/v1/auth/signup",
        f'{{"email": "a{text}@example.org", "password": "{PASSWORD}"}}',
        anonymous,
    )
    assert r.status_code == 422
    assert _count(ctx, User) == 0
    headers = api_signup(client)
    body = '{"treated_on": "2026-11-20", "device": "pen", "depth_mm": 1, "passes": 1, "area": "face", '
    body += f'"skin_type": 2, "notes": "{text}"}}'
    r = _json(client, "POST", "/api/v1/treatments", body, headers)
    assert r.status_code == 422, r.text
    assert _count(ctx, Treatment) == 0


def test_nul_in_a_form_or_query_gets_422(client: TestClient, ctx: WebContext) -> None:
    token = client.get("/signup").text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/signup", data={"csrf_token": token, "email": "a\x00@example.org", "password": PASSWORD})
    assert r.status_code == 422
    assert _count(ctx, User) == 0
    assert client.get("/api/v1/clinics/1/dashboard?q=a%00b").status_code == 422


def test_rows_already_out_of_range_are_read_without_500(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    with ctx.sessions() as db:
        treatment = db.get(Treatment, tid)
        assert treatment is not None
        treatment.treated_on = dt.date(9999, 12, 31)
        other = Treatment(**{**TREATMENT, "treated_on": dt.date(1, 1, 1)}, user_id=treatment.user_id)
        db.add(other)
        db.commit()
        other_id = other.id
    feed = "/calendar/" + client.get("/api/v1/reminders").json()["calendar_url"].split("/calendar/", 1)[1]
    urls = [
        "/api/v1/treatments",
        *(
            url
            for t in (tid, other_id)
            for url in (f"/api/v1/treatments/{t}", f"/treatments/{t}", f"/treatments/{t}/plan.ics")
        ),
        "/",
        "/export/report.pdf",
        "/export/fhir.json",
        "/export/checkins.csv",
        feed,
    ]
    statuses = {url: client.get(url).status_code for url in urls}
    # no aftercare plan runs past the end of the calendar: its .ics says so, every other view shows the rest
    assert statuses.pop(f"/treatments/{tid}/plan.ics") == 422
    assert statuses.pop(feed) == 422  # the feed holds every treatment's plan
    assert set(statuses.values()) == {200}, statuses


def test_staff_cannot_store_extreme_dates_through_the_clinic(app: FastAPI, ctx: WebContext) -> None:
    admin = signup(app, "admin@example.org")
    cid = create_clinic(admin)
    patient = join(app, admin, cid, "pat@example.org", "patient")
    tid = staff_treatment(admin, cid, patient, days_ago=3)
    url = f"/api/v1/clinics/{cid}/patients/{patient.uid}/treatments"
    for treated_on in ("9999-12-31", "0001-01-01"):
        r = admin.client.post(url, json={**TREATMENT, "treated_on": treated_on}, headers=admin.headers)
        assert r.status_code == 422, r.text
        r = admin.client.patch(f"{url}/{tid}", json={"treated_on": treated_on}, headers=admin.headers)
        assert r.status_code == 422, r.text
    assert _count(ctx, Treatment) == 1
    with ctx.sessions() as db:
        stored = db.get(Treatment, tid)
        assert stored is not None
        assert stored.treated_on == today() - dt.timedelta(days=3)


def test_a_500_while_answering_commits_nothing(
    app: FastAPI, ctx: WebContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    from needlecare.knowledge import treatment_course as course

    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        headers = api_signup(client)
        tid = api_treatment(client, headers)

        def broken(_treatment: object) -> dict[str, object]:
            raise RuntimeError("the answer cannot be computed")

        monkeypatch.setattr(course, "expected", broken)
        r = client.post("/api/v1/treatments", json={**TREATMENT, "treated_on": "2026-11-01"}, headers=headers)
        assert r.status_code == 500
        r = client.patch(f"/api/v1/treatments/{tid}", json={"passes": 5}, headers=headers)
        assert r.status_code == 500
    assert _count(ctx, Treatment) == 1
    with ctx.sessions() as db:
        stored = db.get(Treatment, tid)
        assert stored is not None
        assert stored.passes == TREATMENT["passes"]


def test_json_and_form_bodies_over_the_text_limit_get_413(client: TestClient) -> None:
    headers = api_signup(client)
    big = '{"text": "' + "a" * (1024 * 1024) + '", "day": 1}'
    r = _json(client, "POST", "/api/v1/ingredients/check", big, headers)
    assert r.status_code == 413
    assert r.json()["code"] == "too_large"
    listed = '{"text": "Aqua, Glycerin", "day": 1, "padding": [' + ", ".join(["1.5"] * 50_000) + "]}"
    assert _json(client, "POST", "/api/v1/ingredients/check", listed, headers).status_code == 200
