"""Daily check-in: the triage verdict from needlecare.knowledge, shown prominently with reason and source."""

from __future__ import annotations

import datetime as dt

import pytest
from starlette.testclient import TestClient

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import SYMPTOMS, triage

from .conftest import api_signup, api_treatment, page_csrf

TREATED = dt.date(2026, 11, 1)


def _rule_cases() -> list[tuple[str, int, str]]:
    """(symptom, day, urgency) for the first symptom of every red-flag rule without extra conditions."""
    cases = []
    for rule in evidence().red_flags.rules:
        if rule.also_any:
            continue
        day = rule.min_day
        cases.append((rule.symptoms[0], day, triage(day, [rule.symptoms[0]]).urgency))
    return cases


@pytest.mark.parametrize(("symptom", "day", "urgency"), _rule_cases())
def test_api_checkin_stores_the_triage_verdict(
    client: TestClient, symptom: str, day: int, urgency: str
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    on = (TREATED + dt.timedelta(days=day)).isoformat()
    r = client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": 2, "symptoms": [symptom], "checked_on": on},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["day"] == day
    stored = client.get(f"/api/v1/treatments/{tid}", headers=headers).json()
    params = TreatmentParams(**{k: stored[k] for k in TreatmentParams.model_fields if k in stored})
    assert body["triage"] == triage(day, [symptom], redness=2, treatment=params).to_dict()
    assert body["triage"]["urgency"] in (urgency, triage(day, [symptom], redness=2, treatment=params).urgency)


def test_emergency_page_is_unmistakable_with_reason_and_source(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    token = page_csrf(client, f"/treatments/{tid}/checkins/new")
    form = {
        "csrf_token": token,
        "self_rating": "3",
        "symptoms": ["breathing_difficulty", "hives"],
        "checked_on": "2026-11-02",
    }
    r = client.post(f"/treatments/{tid}/checkins", data=form)
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    expected = triage(1, ["breathing_difficulty", "hives"], redness=3)
    assert expected.urgency == "emergency"
    assert 'class="verdict emergency" role="alert"' in page.text
    assert "EMERGENCY" in page.text
    assert expected.reasons[0].sources[0].replace("&", "&amp;") in page.text
    assert "not a diagnosis" in page.text
    treatment_page = client.get(f"/treatments/{tid}").text
    assert f'href="{r.headers["location"]}"' in treatment_page
    assert '<span class="tag avoid">emergency</span>' in treatment_page


def test_checkin_form_lists_every_symptom(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    page = client.get(f"/treatments/{tid}/checkins/new").text
    for symptom_id in SYMPTOMS:
        assert f'value="{symptom_id}"' in page
    assert "almost clear" in page  # PSA anchor wording from grading.yaml


def test_bad_checkins_are_422(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=TREATED.isoformat())
    for body in (
        {"self_rating": 5},
        {"self_rating": 1, "symptoms": ["zombie_bite"]},
        {"self_rating": 1, "checked_on": "2026-10-01"},
    ):
        r = client.post(f"/api/v1/treatments/{tid}/checkins", json=body, headers=headers)
        assert r.status_code == 422, body
    token = page_csrf(client, f"/treatments/{tid}/checkins/new")
    r = client.post(
        f"/treatments/{tid}/checkins", data={"csrf_token": token, "self_rating": "1", "symptoms": "nope"}
    )
    assert r.status_code == 422
    assert "unknown symptom" in r.text


def test_symptom_vocabulary_endpoint(client: TestClient) -> None:
    assert client.get("/api/v1/symptoms").json() == SYMPTOMS
