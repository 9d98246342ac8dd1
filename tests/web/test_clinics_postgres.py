"""Clinics on the real PostgreSQL server: invitations (single use, expiry), dashboard ordering, leaving."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import update

from needlecare.storage.clinics import ClinicInvitation
from needlecare.web.context import WebContext

from .clinic_setup import checkin, create_clinic, invite, join, signup, staff_treatment
from .test_postgres import pg_app

pytestmark = pytest.mark.postgres

__all__ = ["pg_app"]


def test_clinic_flow_on_postgres(pg_app: FastAPI) -> None:
    ctx: WebContext = pg_app.state.ctx
    admin = signup(pg_app, "admin@clinic.example")
    cid = create_clinic(admin)
    calm = join(pg_app, admin, cid, "calm@example.org", "patient", "Calm")
    flag = join(pg_app, admin, cid, "flag@example.org", "patient", "Flag")
    t_calm = staff_treatment(admin, cid, calm, days_ago=3)
    t_flag = staff_treatment(admin, cid, flag, days_ago=1)
    assert checkin(calm, t_calm, 3, 0, []) == "expected"
    assert checkin(flag, t_flag, 1, 2, ["fever"]) == "same_day"
    rows = admin.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert [(r["name"], r["status"]) for r in rows] == [("Flag", "attention"), ("Calm", "on_track")]
    assert [m["treatment_id"] for m in flag.client.get("/api/v1/clinics/aftercare").json()] == [t_flag]

    late = signup(pg_app, "late@example.org")
    token = invite(admin, cid, late.email, "clinician")
    with ctx.sessions() as db:
        db.execute(
            update(ClinicInvitation)
            .where(ClinicInvitation.email == late.email)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        db.commit()
    body = {"token": token, "consent": False}
    r = late.client.post("/api/v1/clinics/invitations/accept", json=body, headers=late.headers)
    assert r.status_code == 410
    token = invite(admin, cid, late.email, "clinician")
    body = {"token": token, "consent": False}
    assert (
        late.client.post("/api/v1/clinics/invitations/accept", json=body, headers=late.headers).status_code
        == 200
    )
    assert (
        late.client.post("/api/v1/clinics/invitations/accept", json=body, headers=late.headers).status_code
        == 410
    )

    assert flag.client.post(f"/api/v1/clinics/{cid}/leave", headers=flag.headers).status_code == 204
    rows = late.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert [r["name"] for r in rows] == ["Calm"]
    assert late.client.get(f"/api/v1/clinics/{cid}/patients/{flag.uid}").status_code == 404
