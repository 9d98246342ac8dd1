"""Ingredient check page and API: verdicts from needlecare.knowledge.ingredients for a day after treatment."""

from __future__ import annotations

from starlette.testclient import TestClient

from needlecare.knowledge.ingredients import check_ingredients

from .conftest import api_signup, page_csrf

LABEL = "Aqua, Glycerin, Retinol, Parfum"


def test_api_matches_the_checker(client: TestClient) -> None:
    headers = api_signup(client)
    r = client.post("/api/v1/ingredients/check", json={"text": LABEL, "day": 3}, headers=headers)
    assert r.status_code == 200
    assert r.json() == check_ingredients(LABEL, 3).to_dict()


def test_page_shows_verdicts_with_sources(client: TestClient) -> None:
    api_signup(client)
    token = page_csrf(client, "/ingredients")
    r = client.post("/ingredients", data={"csrf_token": token, "text": LABEL, "day": "3"})
    assert r.status_code == 200
    report = check_ingredients(LABEL, 3)
    retinol = next(i for i in report.ingredients if i.inci == "Retinol")
    assert retinol.verdict == "avoid"
    assert 'class="tag avoid"' in r.text
    assert f"until day {retinol.avoid_until_day}" in r.text
    assert retinol.sources[0].replace("&", "&amp;") in r.text
    assert "not a diagnosis" in r.text


def test_page_prefills_day_from_treatment(client: TestClient) -> None:
    import datetime as dt

    headers = api_signup(client)
    treated = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=4)).isoformat()
    r = client.post(
        "/api/v1/treatments",
        json={
            "treated_on": treated,
            "device": "pen",
            "depth_mm": 0.5,
            "passes": 1,
            "area": "face",
            "skin_type": 2,
        },
        headers=headers,
    )
    tid = r.json()["id"]
    assert (
        'name="day" type="number" min="0" max="3650" value="4"'
        in client.get(f"/ingredients?treatment={tid}").text
    )


def test_bad_input_is_422(client: TestClient) -> None:
    headers = api_signup(client)
    assert (
        client.post("/api/v1/ingredients/check", json={"text": "", "day": 1}, headers=headers).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/ingredients/check", json={"text": "Aqua", "day": -1}, headers=headers
        ).status_code
        == 422
    )
    r = client.post("/api/v1/ingredients/check", json={"text": ",,, ;", "day": 1}, headers=headers)
    assert r.status_code == 422
    token = page_csrf(client, "/ingredients")
    page = client.post("/ingredients", data={"csrf_token": token, "text": ",,,", "day": "1"})
    assert page.status_code == 422
    assert 'role="alert"' in page.text
