"""The API tells the truth about itself: RFC 3339 times, declared error bodies and status codes, 405 with
the right ``Allow`` header, and a bounded schemathesis run with every response checked against the schema."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.testclient import TestClient

from .conftest import api_signup, api_treatment
from .live import live_server
from .test_fuzz import SESSION_ENDING, _login


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


#: Examples per operation in the conformance run (every operation is covered; the run takes seconds).
CONFORMANCE_EXAMPLES = 4


def test_every_answer_conforms_to_the_schema(tmp_path: Path) -> None:
    """Schemathesis with its response checks: no 5xx, documented status codes, content types, headers and
    bodies, and no schema-invalid request accepted.

    ``positive_data_acceptance`` is left out: some rules cannot be written in JSON Schema (a date from the
    treatment to today, a photo with a face, a token the server signed, the caller's own membership), so a
    request valid by the schema may still be refused with 422; every rule that can be written (e-mail,
    text without NUL, time-zone names, number ranges, finite numbers) is in the schema.
    """
    with live_server(tmp_path, cookie_secure=False) as base:
        session = _login(base, tmp_path)
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        operations.sort(key=lambda op: op.path in SESSION_ENDING)
        failures: list[str] = []
        start = time.monotonic()
        for operation in operations:

            @settings(
                max_examples=CONFORMANCE_EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def run(case: Case) -> None:
                try:
                    case.call_and_validate(
                        base_url=f"{base}/api/v1",
                        session=session,
                        excluded_checks=[positive_data_acceptance],
                    )
                except FailureGroup as group:
                    failures.extend(f"{case.method} {case.path}: {f.title}" for f in group.exceptions)
                fresh = session.get(f"{base}/api/v1/auth/session").json()["csrf_token"]
                session.headers["X-CSRF-Token"] = fresh

            run()
        elapsed = time.monotonic() - start
    assert sorted(set(failures)) == []
    assert elapsed < 60
