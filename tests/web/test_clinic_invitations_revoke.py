"""Withdrawing clinic invitations: staff see pending ones, admins withdraw them, the link stops working."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from needlecare.storage.clinics import ClinicInvitation, ClinicMembership
from needlecare.storage.models import AuditEvent
from needlecare.web.context import WebContext

from .clinic_setup import Member, create_clinic, invite, join, signup
from .conftest import PASSWORD, new_client, page_csrf

WITHDRAWN = "This invitation was withdrawn by the clinic"


@dataclass
class Clinic:
    """A clinic with its admin, a clinician and a patient (all joined through invitations)."""

    cid: int
    admin: Member
    doc: Member
    pat: Member


def _clinic(app: FastAPI, key: str) -> Clinic:
    admin = signup(app, f"admin@{key}.example")
    cid = create_clinic(admin, f"Clinic {key.upper()}")
    doc = join(app, admin, cid, f"doc@{key}.example", "clinician")
    pat = join(app, doc, cid, f"pat@{key}.example", "patient")
    return Clinic(cid, admin, doc, pat)


@pytest.fixture
def a(app: FastAPI) -> Clinic:
    """Clinic A."""
    return _clinic(app, "a")


@pytest.fixture
def b(app: FastAPI) -> Clinic:
    """Clinic B."""
    return _clinic(app, "b")


def _invitation(ctx: WebContext, email: str) -> ClinicInvitation:
    with ctx.sessions() as db:
        stmt = select(ClinicInvitation).where(ClinicInvitation.email == email)
        found = db.scalars(stmt.order_by(ClinicInvitation.id.desc())).first()
    assert found is not None, email
    return found


def _pending_ids(member: Member, cid: int) -> list[int]:
    r = member.client.get(f"/api/v1/clinics/{cid}/invitations", headers=member.headers)
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()]


def _revoke(member: Member, cid: int, invitation_id: int) -> tuple[int, str]:
    r = member.client.delete(f"/api/v1/clinics/{cid}/invitations/{invitation_id}", headers=member.headers)
    return r.status_code, "" if r.status_code == 204 else r.json()["code"]


def _expire(ctx: WebContext, invitation_id: int) -> None:
    with ctx.sessions() as db:
        db.execute(
            update(ClinicInvitation)
            .where(ClinicInvitation.id == invitation_id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        db.commit()


def test_staff_see_pending_invitations_with_inviter_and_expiry(a: Clinic, ctx: WebContext) -> None:
    invite(a.doc, a.cid, "new@example.org", "patient", "New Patient")
    invite(a.admin, a.cid, "nurse@example.org", "clinician")
    invite(a.admin, a.cid, "old@example.org", "patient")
    old = _invitation(ctx, "old@example.org")
    _expire(ctx, old.id)
    new, nurse = _invitation(ctx, "new@example.org"), _invitation(ctx, "nurse@example.org")

    # accepted (doc's, pat's) and expired invitations are not pending; newest first
    rows = a.doc.client.get(f"/api/v1/clinics/{a.cid}/invitations").json()
    assert [(r["id"], r["email"], r["role"]) for r in rows] == [
        (nurse.id, "nurse@example.org", "clinician"),
        (new.id, "new@example.org", "patient"),
    ]
    assert [(r["invited_by_id"], r["invited_by_email"]) for r in rows] == [
        (a.admin.uid, a.admin.email),
        (a.doc.uid, a.doc.email),
    ]
    sent = dt.datetime.fromisoformat(rows[1]["created_at"])
    expires = dt.datetime.fromisoformat(rows[1]["expires_at"])
    assert expires - sent == dt.timedelta(days=7)
    assert abs(dt.datetime.now(dt.UTC) - sent.replace(tzinfo=sent.tzinfo or dt.UTC)) < dt.timedelta(minutes=5)
    assert all(r["link"] is None and r["used_at"] is None for r in rows)

    for staff in (a.admin, a.doc):
        page = staff.client.get(f"/clinics/{a.cid}").text
        items = dict(re.findall(r'<li data-invitation="(\d+)">(.*?)</li>', page, flags=re.S))
        assert sorted(items) == sorted([str(new.id), str(nurse.id)])
        item = items[str(new.id)]
        assert "new@example.org" in item
        assert "New Patient" in item
        assert f"by {a.doc.email}" in item
        assert f"sent {sent:%d %b %Y %H:%M} UTC" in item
        assert f"expires {expires:%d %b %Y %H:%M} UTC" in item
        assert "old@example.org" not in page
        # only admins get the withdraw form
        has_form = f'action="/clinics/{a.cid}/invitations/{new.id}/revoke"' in item
        assert has_form == (staff is a.admin)
    assert "Pending invitations" not in a.pat.client.get(f"/clinics/{a.cid}").text


def test_inviter_not_shown_once_their_account_is_gone(app: FastAPI, a: Clinic) -> None:
    temp = join(app, a.admin, a.cid, "temp@a.example", "clinician")
    invite(temp, a.cid, "later@example.org", "patient")
    r = temp.client.post("/api/v1/auth/delete-account", json={"password": PASSWORD}, headers=temp.headers)
    assert r.status_code == 204, r.text
    [row] = a.admin.client.get(f"/api/v1/clinics/{a.cid}/invitations").json()
    assert (row["email"], row["invited_by_id"], row["invited_by_email"]) == ("later@example.org", None, None)
    page = a.admin.client.get(f"/clinics/{a.cid}").text
    item = re.search(rf'<li data-invitation="{row["id"]}">(.*?)</li>', page, flags=re.S)
    assert item is not None
    assert " by " not in item.group(1)


def test_admin_withdraws_through_the_page_and_the_link_stops_working(
    app: FastAPI, a: Clinic, ctx: WebContext
) -> None:
    token = invite(a.admin, a.cid, "wrong@example.org", "patient")
    inv = _invitation(ctx, "wrong@example.org")
    wrong = signup(app, "wrong@example.org")
    assert wrong.client.get(f"/clinics/join?token={token}").status_code == 200  # works before

    url = f"/clinics/{a.cid}/invitations/{inv.id}/revoke"
    for bad in ({}, {"csrf_token": "wrong"}):  # CSRF like every other form
        r = a.admin.client.post(url, data=bad)
        assert r.status_code == 403
        assert "expired" in r.text
    assert _pending_ids(a.admin, a.cid) == [inv.id]

    r = a.admin.client.post(url, data={"csrf_token": page_csrf(a.admin.client, f"/clinics/{a.cid}")})
    assert r.status_code == 303
    assert r.headers["location"] == f"/clinics/{a.cid}"
    assert _pending_ids(a.admin, a.cid) == []
    page = a.admin.client.get(f"/clinics/{a.cid}").text
    assert "wrong@example.org" not in page
    assert "No pending invitations." in page

    # recorded, not deleted: who and when, plus an audit event on the admin's trail
    row = _invitation(ctx, "wrong@example.org")
    assert row.revoked_by_id == a.admin.uid
    assert row.revoked_at is not None
    assert row.used_at is None
    with ctx.sessions() as db:
        event = db.scalars(
            select(AuditEvent).where(
                AuditEvent.user_id == a.admin.uid, AuditEvent.action == "clinic_invitation_revoked"
            )
        ).one()
    assert event.detail == {"clinic_id": a.cid, "invitation_id": inv.id, "role": "patient"}

    # the invited person is told it was withdrawn: on the join page, the form and the API
    join_page = wrong.client.get(f"/clinics/join?token={token}")
    assert join_page.status_code == 410
    assert WITHDRAWN in join_page.text
    assert 'action="/clinics/join"' not in join_page.text
    with new_client(app) as anon:
        visitor = anon.get(f"/clinics/join?token={token}")
        assert visitor.status_code == 410
        assert WITHDRAWN in visitor.text
    form = {"csrf_token": page_csrf(wrong.client, "/clinics"), "token": token, "consent": "true"}
    r = wrong.client.post("/clinics/join", data=form)
    assert r.status_code == 410
    assert WITHDRAWN in r.text
    r = wrong.client.post(
        "/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=wrong.headers
    )
    assert r.status_code == 410
    assert r.json()["code"] == "gone"
    assert WITHDRAWN in r.json()["detail"]
    assert wrong.client.get("/api/v1/clinics").json() == []
    with ctx.sessions() as db:
        joined = db.scalars(select(ClinicMembership).where(ClinicMembership.user_id == wrong.uid)).all()
    assert joined == []

    # withdrawing does not stop the clinic from inviting the address again
    fresh = invite(a.admin, a.cid, wrong.email, "patient")
    r = wrong.client.post(
        "/api/v1/clinics/invitations/accept", json={"token": fresh, "consent": True}, headers=wrong.headers
    )
    assert r.status_code == 200, r.text


def test_api_withdraw_and_what_cannot_be_withdrawn(app: FastAPI, a: Clinic, ctx: WebContext) -> None:
    token = invite(a.doc, a.cid, "typo@example.org", "patient")
    inv = _invitation(ctx, "typo@example.org")
    assert _revoke(a.admin, a.cid, inv.id) == (204, "")
    assert _revoke(a.admin, a.cid, inv.id) == (409, "conflict")  # already withdrawn
    assert _invitation(ctx, "typo@example.org").revoked_by_id == a.admin.uid  # the first withdrawal stands
    typo = signup(app, "typo@example.org")
    r = typo.client.post(
        "/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=typo.headers
    )
    assert (r.status_code, r.json()["code"]) == (410, "gone")

    # an accepted invitation (the clinician's own) cannot be withdrawn: remove the member instead
    accepted = _invitation(ctx, a.doc.email)
    r = a.admin.client.delete(f"/api/v1/clinics/{a.cid}/invitations/{accepted.id}", headers=a.admin.headers)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    assert "already been accepted" in r.json()["detail"]
    assert a.doc.client.get(f"/api/v1/clinics/{a.cid}").json()["role"] == "clinician"

    # an expired one cannot be withdrawn either
    invite(a.admin, a.cid, "late@example.org", "patient")
    late = _invitation(ctx, "late@example.org")
    _expire(ctx, late.id)
    r = a.admin.client.delete(f"/api/v1/clinics/{a.cid}/invitations/{late.id}", headers=a.admin.headers)
    assert (r.status_code, r.json()["code"]) == (409, "conflict")
    assert "expired" in r.json()["detail"]
    assert _invitation(ctx, "late@example.org").revoked_at is None

    # the HTML form says the same on a page
    url = f"/clinics/{a.cid}/invitations/{accepted.id}/revoke"
    r = a.admin.client.post(url, data={"csrf_token": page_csrf(a.admin.client, f"/clinics/{a.cid}")})
    assert r.status_code == 409
    assert "already been accepted" in r.text

    assert _revoke(a.admin, a.cid, 999_999) == (404, "not_found")


def test_only_admins_of_the_clinic_can_withdraw(a: Clinic, b: Clinic, ctx: WebContext) -> None:
    invite(a.doc, a.cid, "keep@example.org", "patient")
    inv = _invitation(ctx, "keep@example.org")
    assert _revoke(a.doc, a.cid, inv.id) == (403, "forbidden")  # clinicians invite but do not withdraw
    assert _revoke(a.pat, a.cid, inv.id) == (403, "forbidden")
    assert _revoke(b.admin, a.cid, inv.id) == (404, "not_found")  # another clinic's admin
    assert _revoke(b.admin, b.cid, inv.id) == (404, "not_found")  # not an invitation of their clinic
    assert _revoke(b.doc, a.cid, inv.id) == (404, "not_found")
    url = f"/clinics/{a.cid}/invitations/{inv.id}/revoke"
    for member, status in ((a.doc, 403), (a.pat, 403), (b.admin, 404)):
        r = member.client.post(url, data={"csrf_token": page_csrf(member.client, "/clinics")})
        assert r.status_code == status, member.email
    assert _invitation(ctx, "keep@example.org").revoked_at is None
    assert _pending_ids(a.admin, a.cid) == [inv.id]
    assert "keep@example.org" not in b.admin.client.get(f"/clinics/{b.cid}").text


def test_withdraw_endpoint_in_the_openapi_schema(a: Clinic) -> None:
    schema = a.admin.client.get("/api/v1/openapi.json").json()
    op = schema["paths"]["/clinics/{clinic_id}/invitations/{invitation_id}"]["delete"]
    assert {"204", "403", "404", "409"} <= set(op["responses"])
    assert "admins only" in op["description"]
