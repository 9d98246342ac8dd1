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
