"""The web app reads every answer for the patient's recorded treatment: check-in triage, the ingredient check,
the plan (page, API, .ics) and the cold-sore history on the treatment form."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from needlecare.knowledge.plan import aftercare_plan
from needlecare.knowledge.treatment import TreatmentParams

from .conftest import api_signup, api_treatment, page_csrf

TREATED = dt.date(2026, 11, 1)


def _checkin(client: TestClient, headers: dict[str, str], tid: int, day: int, rating: int) -> str:
    on = (TREATED + dt.timedelta(days=day)).isoformat()
    r = client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": rating, "symptoms": [], "checked_on": on},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    urgency: str = r.json()["triage"]["urgency"]
    return urgency


def test_checkin_triage_follows_the_recorded_treatment(client: TestClient) -> None:
    headers = api_signup(client)
    rf = api_treatment(
        client,
        headers,
        treated_on=TREATED.isoformat(),
        device="rf",
        depth_mm=1.0,
        skin_type=2,
        bleeding=False,
    )
    pen = api_treatment(
        client,
        headers,
        treated_on=TREATED.isoformat(),
        device="pen",
        depth_mm=1.0,
        skin_type=2,
        bleeding=False,
    )
    short = api_treatment(
        client,
        headers,
        treated_on=TREATED.isoformat(),
        device="pen",
        depth_mm=0.25,
        skin_type=2,
        bleeding=False,
    )
    assert _checkin(client, headers, rf, 4, 3) == "expected"  # RF: up to 7 days is typical
    assert _checkin(client, headers, pen, 4, 3) == "within_48h"  # not improving after 1-3 days
    assert _checkin(client, headers, short, 5, 2) == "within_48h"  # 0.25 mm: outside after day 3


def test_ingredient_check_uses_the_chosen_treatments_waits(client: TestClient) -> None:
    headers = api_signup(client)
    rf = api_treatment(
        client,
        headers,
        treated_on=TREATED.isoformat(),
        device="rf",
        depth_mm=1.0,
        skin_type=2,
        bleeding=False,
    )
    pen = api_treatment(
        client,
        headers,
        treated_on=TREATED.isoformat(),
        device="pen",
        depth_mm=0.5,
        skin_type=2,
        bleeding=False,
    )
    found = {}
    for tid in (rf, pen, None):
        r = client.post(
            "/api/v1/ingredients/check",
            json={"text": "Parfum, Retinol", "day": 1, "treatment_id": tid},
            headers=headers,
        )
        assert r.status_code == 200, r.text
        found[tid] = [i["avoid_until_day"] for i in r.json()["ingredients"]]
        plan = client.get(f"/api/v1/treatments/{tid}/plan", headers=headers).json() if tid else None
        if plan is not None:  # the plan announces the same return days
            days = {m["id"]: m["day"] for m in plan["milestones"]}
            assert found[tid] == [days["fragrance"], days["retinoids"]]
    assert found == {rf: [7, 14], pen: [3, 7], None: [3, 14]}


def test_someone_elses_treatment_cannot_set_the_waits(client: TestClient) -> None:
    owner = api_signup(client)
    tid = api_treatment(client, owner, treated_on=TREATED.isoformat())
    other = api_signup(client, "bob@example.org")
    r = client.post(
        "/api/v1/ingredients/check", json={"text": "Parfum", "day": 1, "treatment_id": tid}, headers=other
    )
    assert r.status_code == 404
    assert "detail" in r.json()


def test_cold_sore_history_is_recorded_and_changes_the_plan(client: TestClient) -> None:
    headers = api_signup(client)
    page = client.get("/treatments/new")
    assert 'name="cold_sore"' in page.text
    token = page_csrf(client, "/treatments/new")
    form = {"treated_on": TREATED.isoformat(), "device": "pen", "depth_mm": "1.0", "passes": "1",
            "area": "face", "skin_type": "2", "cold_sore": "true", "timezone": "UTC",
            "csrf_token": token}  # fmt: skip
    r = client.post("/treatments", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text
    tid = int(r.headers["location"].rsplit("/", 1)[-1])
    stored = client.get(f"/api/v1/treatments/{tid}", headers=headers).json()
    assert stored["cold_sore"] is True
    plan = client.get(f"/api/v1/treatments/{tid}/plan", headers=headers).json()
    expected = aftercare_plan(TREATED, TreatmentParams(depth_mm=1.0, skin_type=2, cold_sore=True))
    assert plan["days"] == expected.to_dict()["days"]
    assert any("antiviral prophylaxis" in line for line in plan["days"][0]["do"])
