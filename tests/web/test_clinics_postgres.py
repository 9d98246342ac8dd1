"""Clinics on the real PostgreSQL server: invitations (single use, expiry, withdrawal), dashboard, leaving."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from needlecare.storage.clinics import ClinicInvitation
from needlecare.storage.models import MailDelivery, User
from needlecare.web.accounts.tokens import AccountTokens
from needlecare.web.context import WebContext

from .clinic_setup import checkin, create_clinic, invite, join, signup, staff_treatment
from .conftest import api_csrf
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


def test_invitation_withdrawal_on_postgres(pg_app: FastAPI) -> None:
    ctx: WebContext = pg_app.state.ctx
    admin = signup(pg_app, "admin@clinic.example")
    cid = create_clinic(admin)
    doc = join(pg_app, admin, cid, "doc@clinic.example", "clinician")
    wrong = signup(pg_app, "wrong@example.org")
    token = invite(doc, cid, wrong.email, "patient", "Wrong Address")
    invite(admin, cid, "late@example.org", "patient")
    with ctx.sessions() as db:
        ids = dict(db.execute(select(ClinicInvitation.email, ClinicInvitation.id)).all())
        db.execute(
            update(ClinicInvitation)
            .where(ClinicInvitation.email == "late@example.org")
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        db.commit()
    pending = admin.client.get(f"/api/v1/clinics/{cid}/invitations").json()
    assert [(i["email"], i["invited_by_email"]) for i in pending] == [(wrong.email, doc.email)]

    url = f"/api/v1/clinics/{cid}/invitations/{ids[wrong.email]}"
    assert doc.client.delete(url, headers=doc.headers).status_code == 403
    assert admin.client.delete(url, headers=admin.headers).status_code == 204
    assert admin.client.delete(url, headers=admin.headers).status_code == 409
    late = f"/api/v1/clinics/{cid}/invitations/{ids['late@example.org']}"
    assert admin.client.delete(late, headers=admin.headers).status_code == 409
    accepted = f"/api/v1/clinics/{cid}/invitations/{ids[doc.email]}"
    assert admin.client.delete(accepted, headers=admin.headers).status_code == 409
    assert admin.client.get(f"/api/v1/clinics/{cid}/invitations").json() == []
    with ctx.sessions() as db:
        row = db.get(ClinicInvitation, ids[wrong.email])
        assert row is not None
        assert (row.revoked_by_id, row.revoked_at is not None, row.used_at) == (admin.uid, True, None)

    body = {"token": token, "consent": True}
    r = wrong.client.post("/api/v1/clinics/invitations/accept", json=body, headers=wrong.headers)
    assert (r.status_code, r.json()["code"]) == (410, "gone")
    assert "withdrawn by the clinic" in r.json()["detail"]
    page = wrong.client.get(f"/clinics/join?token={token}")
    assert page.status_code == 410
    assert "This invitation was withdrawn by the clinic" in page.text
    assert wrong.client.get("/api/v1/clinics").json() == []


def test_flags_alerts_and_password_reset_on_postgres(pg_app: FastAPI) -> None:
    ctx: WebContext = pg_app.state.ctx
    admin = signup(pg_app, "admin@clinic.example")
    cid = create_clinic(admin)
    r = admin.client.patch(
        f"/api/v1/clinics/{cid}", json={"alert_email": "alerts@clinic.example"}, headers=admin.headers
    )
    assert r.status_code == 200
    pat = join(pg_app, admin, cid, "pat@example.org", "patient", "Pat")
    older = staff_treatment(admin, cid, pat, days_ago=3)
    assert checkin(pat, older, 2, 2, ["pus"]) == "same_day"
    staff_treatment(admin, cid, pat, days_ago=0)
    checkin(pat, older, 3, 1, [])  # a second look finds the same event
    (row,) = admin.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    (flag,) = row["flags"]
    assert (row["red_flag"], flag["treatment_id"]) == (True, older)
    with ctx.sessions() as db:
        alerts = db.scalars(
            select(MailDelivery).where(MailDelivery.to_address == "alerts@clinic.example")
        ).all()
    assert len(alerts) == 1
    r = admin.client.post(
        f"/api/v1/clinics/{cid}/flags/{flag['id']}/handled", json={"note": "Called."}, headers=admin.headers
    )
    assert r.status_code == 200
    assert admin.client.get(f"/api/v1/clinics/{cid}/dashboard").json()[0]["flags"] == []

    h = {"X-CSRF-Token": api_csrf(pat.client)}
    assert (
        pat.client.post("/api/v1/auth/password/forgot", json={"email": pat.email}, headers=h).status_code
        == 202
    )
    with ctx.sessions() as db:
        user = db.get(User, pat.uid)
        assert user is not None
        token = AccountTokens(ctx.settings.resolve_secret()).reset(user)
    body = {"token": token, "new_password": "a brand new pass phrase"}
    assert pat.client.post("/api/v1/auth/password/reset", json=body, headers=h).status_code == 204
    h = {"X-CSRF-Token": api_csrf(pat.client)}
    assert pat.client.post("/api/v1/auth/password/reset", json=body, headers=h).status_code == 410
