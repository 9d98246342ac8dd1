"""Bad input: 422 JSON on the API, a friendly HTML page on pages, and the server keeps serving."""

from __future__ import annotations

from starlette.testclient import TestClient

from .conftest import api_csrf, api_signup


def test_malformed_json_is_422_json(client: TestClient) -> None:
    headers = {"X-CSRF-Token": api_csrf(client), "Content-Type": "application/json"}
    r = client.post(
        "/api/v1/auth/signup", content=b'{"email": "a@example.org", "password": ', headers=headers
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/json"
    assert r.json()["detail"][0]["type"] == "json_invalid"
    headers = api_signup(client)
    r = client.post(
        "/api/v1/treatments",
        content=b"\xff\xfe not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    r = client.post("/api/v1/treatments", json=["not", "an", "object"], headers=headers)
    assert r.status_code == 422
    assert client.get("/api/v1/treatments").status_code == 200  # still serving


def test_bad_path_and_unknown_routes(client: TestClient) -> None:
    api_signup(client)
    r = client.get("/api/v1/treatments/abc")
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/json"
    page = client.get("/treatments/abc")
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert "Please check your input" in page.text
    assert client.get("/api/v1/nothing-here").json()["detail"] == "Not Found"
    missing = client.get("/nothing-here")
    assert missing.status_code == 404
    assert "does not exist" in missing.text


def test_malformed_form_is_friendly_page(client: TestClient) -> None:
    token = client.get("/signup").text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/signup", data={"csrf_token": token, "email": "not-an-email", "password": "x"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    assert "not an e-mail address" in r.text
    assert "Traceback" not in r.text
    r = client.post(
        "/signup", content=b"%%%&&&===", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert r.status_code == 403  # no CSRF token in garbage
    assert client.get("/login").status_code == 200


def test_out_of_range_ids_are_422_not_500(client: TestClient) -> None:
    # found by the schemathesis fuzzing: ids beyond 64-bit integers used to crash the SQLite driver
    api_signup(client)
    huge = 2**70
    for url in (
        f"/api/v1/treatments/{huge}",
        f"/api/v1/photos/{huge}",
        f"/api/v1/checkins/{huge}",
        "/api/v1/treatments/0",
    ):
        assert client.get(url).status_code == 422, url
    assert client.get(f"/treatments/{huge}").status_code == 422
    assert client.get(f"/ingredients?treatment={huge}").status_code == 422
