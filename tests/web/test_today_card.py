"""Today's card: home and treatment page lead with the status the rules gave, red after a same-day verdict
until a newer check-in no longer reports the signs."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from .conftest import api_signup, api_treatment


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
