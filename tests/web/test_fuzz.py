"""Property-based fuzzing of /api/v1 from its OpenAPI schema (schemathesis): no input may cause a 5xx.

Runs against a live server with an authenticated session (cookie + CSRF header), so the generated requests
reach the handlers instead of stopping at authentication. Operations that would end the session (logout,
password change, account deletion) are fuzzed last.
"""

from __future__ import annotations

from pathlib import Path

import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.case import Case

from .conftest import PASSWORD, TREATMENT
from .live import live_server, mailed_link

#: Examples per operation (the suite must stay fast; every operation is still covered).
EXAMPLES = 25
#: Operations that end or change the session: run after all others.
SESSION_ENDING = ("/auth/logout", "/auth/logout-everywhere", "/auth/password", "/auth/delete-account")


def _login(base: str, tmp_path: Path) -> requests.Session:
    """Sign up, open the mailed verification link (which logs in) and record a treatment."""
    session = requests.Session()
    token = session.get(f"{base}/api/v1/auth/session").json()["csrf_token"]
    r = session.post(
        f"{base}/api/v1/auth/signup",
        json={"email": "fuzz@example.org", "password": PASSWORD},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 202, r.text
    link = mailed_link(tmp_path, "fuzz@example.org", "/account/verify")
    r = session.post(
        f"{base}/api/v1/auth/verify",
        json={"token": link.split("token=", 1)[1]},
        headers={"X-CSRF-Token": token},
    )
    assert r.status_code == 200, r.text
    session.headers["X-CSRF-Token"] = r.json()["csrf_token"]
    r = session.post(f"{base}/api/v1/treatments", json=TREATMENT)
    assert r.status_code == 201, r.text
    return session


def test_api_never_answers_5xx(tmp_path: Path) -> None:
    # requests (like any non-browser client) does not send Secure cookies over plain http to localhost
    with live_server(tmp_path, cookie_secure=False) as base:
        session = _login(base, tmp_path)
        schema = schemathesis.openapi.from_url(f"{base}/api/v1/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]
        operations.sort(key=lambda op: op.path in SESSION_ENDING)
        assert len(operations) >= 15
        failures: list[str] = []
        for operation in operations:

            @settings(
                max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
            )
            @given(case=operation.as_strategy())
            def run(case: Case) -> None:
                response = case.call(base_url=f"{base}/api/v1", session=session)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
                # login or sign-up with generated data rotates the session's CSRF token: keep up with it
                fresh = session.get(f"{base}/api/v1/auth/session").json()["csrf_token"]
                session.headers["X-CSRF-Token"] = fresh

            run()
        assert failures == []
        assert session.get(f"{base}/api/v1/symptoms").status_code == 200  # still serving
