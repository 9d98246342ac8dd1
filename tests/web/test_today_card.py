"""Today's card: home and treatment page lead with the status the rules gave, red after a same-day verdict
until a newer check-in no longer reports the signs."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from needlecare.storage.models import AuditEvent, Treatment
from needlecare.web.context import WebContext
from needlecare.web.treatments.today import card

from .clinic_setup import Member, add_photo
from .conftest import api_signup, api_treatment, new_client, page_csrf


def _checkin(client: TestClient, headers: dict[str, str], tid: int, on: dt.date, symptoms: list[str]) -> None:
    r = client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": 1, "symptoms": symptoms, "checked_on": on.isoformat()},
        headers=headers,
    )
    assert r.status_code == 201, r.text


def test_a_same_day_verdict_turns_home_and_treatment_page_red_until_a_newer_checkin(
    client: TestClient,
) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    tid = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=3)).isoformat(), timezone="UTC"
    )
    home = client.get("/").text
    assert "How is your skin today?" in home
    assert 'class="card today on_track"' in home
    assert f'href="/treatments/{tid}/checkins/new"' in home
    assert "Take today&#39;s photo" in home or "Take today's photo" in home

    _checkin(client, headers, tid, today - dt.timedelta(days=1), ["pus"])
    home = client.get("/").text
    assert 'class="card today alert"' in home
    assert "Contact your provider today" in home
    assert "Pus, yellow crusts" in home  # the deciding rule, in its own words
    assert "call your local emergency number first" in home
    page = client.get(f"/treatments/{tid}").text
    assert page.index("Contact your provider today") < page.index("Expected redness")

    _checkin(client, headers, tid, today, [])
    home = client.get("/").text
    assert 'class="card today alert"' not in home
    assert "On track: nothing worrying reported today" in home
    assert "Contact your provider today" not in client.get(f"/treatments/{tid}").text


def test_only_active_treatments_get_a_card(client: TestClient) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    old = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=40)).isoformat(), timezone="UTC"
    )
    recent = api_treatment(client, headers, treated_on=today.isoformat(), timezone="UTC")
    home = client.get("/").text
    assert f'aria-labelledby="today-{recent}"' in home
    assert f'aria-labelledby="today-{old}"' not in home
    assert f'href="/treatments/{old}"' in home  # still listed below


def test_deletes_ask_first_and_say_afterwards(client: TestClient) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    tid = api_treatment(client, headers, treated_on=today.isoformat(), timezone="UTC")
    _checkin(client, headers, tid, today, [])
    page = client.get(f"/treatments/{tid}").text
    assert f'href="/treatments/{tid}/delete"' in page
    assert f'<form method="post" action="/treatments/{tid}/delete"' not in page  # no one-click delete
    confirm = client.get(f"/treatments/{tid}/delete")
    assert confirm.status_code == 200
    assert "cannot be undone" in confirm.text
    assert "1 check-in" in confirm.text
    assert "0 photos" in confirm.text
    assert (
        client.get(f"/api/v1/treatments/{tid}", headers=headers).status_code == 200
    )  # asking deletes nothing
    token = confirm.text.split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post(f"/treatments/{tid}/delete", data={"csrf_token": token}, follow_redirects=False)
    assert done.headers["location"] == "/?deleted=treatment"
    assert "The treatment was deleted" in client.get(done.headers["location"]).text
    assert client.get(f"/api/v1/treatments/{tid}", headers=headers).status_code == 404


def _member(client: TestClient, headers: dict[str, str]) -> Member:
    me = client.get("/api/v1/auth/me").json()
    return Member(client, headers, me["id"], me["email"])


def _latest_checkin_id(client: TestClient, tid: int) -> int:
    return int(client.get(f"/api/v1/treatments/{tid}/checkins").json()[-1]["id"])


def test_the_patient_records_that_a_red_verdict_was_handled(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    tid = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=2)).isoformat(), timezone="UTC"
    )
    _checkin(client, headers, tid, today, ["pus"])
    red = _latest_checkin_id(client, tid)
    home = client.get("/").text
    assert f'action="/checkins/{red}/handled"' in home
    token = page_csrf(client, "/")
    r = client.post(
        f"/checkins/{red}/handled", data={"csrf_token": token, "note": "Seen by Dr Lee, cream given"}
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/treatments/{tid}")
    home = client.get("/").text
    assert 'class="card today alert"' not in home
    assert 'class="card today handled"' in home
    assert "You recorded that you contacted your provider" in home
    assert 'class="card today handled"' in client.get(f"/treatments/{tid}").text
    client.post(f"/checkins/{red}/handled", data={"csrf_token": token})  # twice: still one record
    with ctx.sessions() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "red_flag_handled")).all()
        assert [(e.detail["checkin_id"], e.detail["note"]) for e in events] == [
            (red, "Seen by Dr Lee, cream given")
        ]
    # A new red check-in is red again, whatever was handled before.
    _checkin(client, headers, tid, today, ["pus", "fever"])
    assert 'class="card today alert"' in client.get("/").text


def test_only_ones_own_red_checkin_can_be_marked_handled(client: TestClient, app: FastAPI) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    tid = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=2)).isoformat(), timezone="UTC"
    )
    _checkin(client, headers, tid, today, [])
    calm = _latest_checkin_id(client, tid)
    token = page_csrf(client, "/")
    assert client.post(f"/checkins/{calm}/handled", data={"csrf_token": token}).status_code == 422
    _checkin(client, headers, tid, today, ["pus"])
    red = _latest_checkin_id(client, tid)
    other = new_client(app)
    api_signup(other, "bob@example.org")
    r = other.post(f"/checkins/{red}/handled", data={"csrf_token": page_csrf(other, "/")})
    assert r.status_code == 404
    assert 'class="card today alert"' in client.get("/").text


def test_an_off_course_recovery_curve_turns_the_card_amber(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    tid = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=6)).isoformat(), timezone="UTC", device="pen",
        depth_mm=0.5, bleeding=False,
    )  # fmt: skip
    patient = _member(client, headers)
    add_photo(ctx, patient, tid, day=-1, index=0.10, baseline=True)
    for day, index in enumerate([0.40, 0.39, 0.39, 0.38, 0.38, 0.37]):  # hardly fading
        add_photo(ctx, patient, tid, day=day, index=index)
    home = client.get("/").text
    assert 'class="card today slower"' in home
    assert "Healing more slowly than expected" in home
    assert "later than the expected day" in home
    assert f'href="/treatments/{tid}/timeline"' in home


def test_the_card_names_the_next_reminder(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    tid = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=1)).isoformat(), timezone="UTC"
    )
    with ctx.sessions() as db:
        treatment = db.get(Treatment, tid)
        assert treatment is not None
        before = dt.datetime.combine(today, dt.time(6), dt.UTC)
        after = dt.datetime.combine(today, dt.time(9), dt.UTC)
        assert card(db, treatment, before, reminder_hour=8).next_reminder == "Next reminder: today at 08:00."
        assert card(db, treatment, after, reminder_hour=8).next_reminder == (
            "Next reminder: tomorrow at 08:00 (day 2)."
        )
        late = card(db, treatment, after + dt.timedelta(days=13), reminder_hour=8)
        assert late.next_reminder == ""  # the plan's last day has passed
    r = client.put("/api/v1/reminders", json={"reminders_enabled": False}, headers=headers)
    assert r.status_code == 200, r.text
    assert "Daily reminders are off" in client.get("/").text


def test_red_cards_come_first_on_the_home_page(client: TestClient) -> None:
    headers = api_signup(client)
    today = dt.datetime.now(dt.UTC).date()
    calm = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=1)).isoformat(), timezone="UTC"
    )
    red = api_treatment(
        client, headers, treated_on=(today - dt.timedelta(days=3)).isoformat(), timezone="UTC"
    )
    _checkin(client, headers, red, today, ["pus"])
    home = client.get("/").text
    assert home.index(f'aria-labelledby="today-{red}"') < home.index(f'aria-labelledby="today-{calm}"')
