"""Invitations are rate limited per inviting account and per client address, like sign-up and login."""

from __future__ import annotations

from pathlib import Path

from needlecare.web.app import create_app

from .clinic_setup import create_clinic, invite, signup
from .conftest import make_settings


def test_invitations_per_account_are_limited(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, invitations_max_per_hour=2), migrate=True)
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    for i in range(2):
        invite(admin, cid, f"p{i}@example.org", "patient")
    body = {"email": "p9@example.org", "role": "patient"}
    r = admin.client.post(f"/api/v1/clinics/{cid}/invitations", json=body, headers=admin.headers)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    listed = admin.client.get(f"/api/v1/clinics/{cid}/invitations", headers=admin.headers)
    assert listed.status_code == 200
    assert "p1@example.org" in listed.text
    assert "p9@example.org" not in listed.text  # nothing was created or mailed
