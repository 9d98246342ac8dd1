"""Clinic access: isolation between clinics and after leaving, roles, invitation tokens, CSRF on the forms."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

from needlecare.storage.clinics import Clinic, ClinicInvitation, ClinicMembership
from needlecare.storage.models import AuditEvent, Treatment
from needlecare.web.clinics import invitations
from needlecare.web.context import WebContext

from .clinic_setup import Member, create_clinic, invite, join, signup, staff_treatment
from .conftest import TREATMENT, new_client, page_csrf


@dataclass
class Staffed:
    """One clinic: its id, admin, clinician and a patient with a treatment from yesterday."""

    cid: int
    admin: Member
    doc: Member
    pat: Member


@pytest.fixture
def two(app: FastAPI) -> dict[str, Staffed]:
    """Clinics ``a`` and ``b``."""
    out = {}
    for key in ("a", "b"):
        admin = signup(app, f"admin@{key}.example")
        cid = create_clinic(admin, f"Clinic {key.upper()}")
        doc = join(app, admin, cid, f"doc@{key}.example", "clinician")
        pat = join(app, doc, cid, f"pat@{key}.example", "patient")
        staff_treatment(doc, cid, pat, days_ago=1)
        out[key] = Staffed(cid, admin, doc, pat)
    return out


def _treatments(ctx: WebContext) -> int:
    with ctx.sessions() as db:
        return db.scalar(select(func.count()).select_from(Treatment)) or 0


def test_staff_of_one_clinic_never_reach_the_other(two: dict[str, Staffed], ctx: WebContext) -> None:
    a_cid, b_cid, b_pat = two["a"].cid, two["b"].cid, two["b"].pat
    before = _treatments(ctx)
    for key, staff in (("admin", two["a"].admin), ("doc", two["a"].doc)):
        own = staff.client.get(f"/api/v1/clinics/{a_cid}/dashboard").json()
        assert [row["email"] for row in own] == ["pat@a.example"]
        attempts = [
            ("GET", f"/api/v1/clinics/{b_cid}", None), ("GET", f"/api/v1/clinics/{b_cid}/dashboard", None),
            ("GET", f"/api/v1/clinics/{b_cid}/patients", None),
            ("GET", f"/api/v1/clinics/{b_cid}/invitations", None),
            ("POST", f"/api/v1/clinics/{b_cid}/invitations", {"email": "x@example.org", "role": "patient"}),
            ("POST", f"/api/v1/clinics/{b_cid}/patients/{b_pat.uid}/treatments", TREATMENT),
            ("POST", f"/api/v1/clinics/{a_cid}/patients/{b_pat.uid}/treatments", TREATMENT),
            ("POST", f"/api/v1/clinics/{b_cid}/leave", None),
            ("GET", f"/api/v1/clinics/{b_cid}/patients/{b_pat.uid}", None),
            ("GET", f"/api/v1/clinics/{a_cid}/patients/{b_pat.uid}", None),
        ]  # fmt: skip
        for method, url, body in attempts:
            r = staff.client.request(method, url, json=body, headers=staff.headers)
            assert r.status_code == 404, (key, method, url, r.status_code)
            assert r.json()["code"] == "not_found"
        pages = [f"/clinics/{b_cid}", f"/clinics/{b_cid}/dashboard", f"/clinics/{a_cid}/patients/{b_pat.uid}"]
        for url in [*pages, f"/clinics/{a_cid}/patients/{b_pat.uid}/treatments/new"]:
            page = staff.client.get(url)
            assert page.status_code == 404, url
            assert "pat@b.example" not in page.text
        assert "pat@b.example" not in staff.client.get(f"/clinics/{a_cid}/dashboard").text
    assert _treatments(ctx) == before


def test_patients_never_see_the_dashboard(two: dict[str, Staffed]) -> None:
    pat, cid = two["a"].pat, two["a"].cid
    assert pat.client.get(f"/api/v1/clinics/{cid}").json()["role"] == "patient"
    for method, url, body in (
        ("GET", f"/api/v1/clinics/{cid}/dashboard", None), ("GET", f"/api/v1/clinics/{cid}/patients", None),
        ("GET", f"/api/v1/clinics/{cid}/invitations", None),
        ("POST", f"/api/v1/clinics/{cid}/invitations", {"email": "x@example.org", "role": "patient"}),
        ("POST", f"/api/v1/clinics/{cid}/patients/{pat.uid}/treatments", TREATMENT),
        ("GET", f"/api/v1/clinics/{cid}/patients/{pat.uid}", None),
    ):  # fmt: skip
        r = pat.client.request(method, url, json=body, headers=pat.headers)
        assert r.status_code == 403, (method, url)
        assert r.json()["code"] == "forbidden"
    assert pat.client.get(f"/clinics/{cid}/dashboard").status_code == 403
    page = pat.client.get(f"/clinics/{cid}")
    assert page.status_code == 200
    assert "Dashboard" not in page.text
    assert "Invite by e-mail" not in page.text


def test_roles_limit_who_can_be_invited(two: dict[str, Staffed]) -> None:
    doc, admin, cid = two["a"].doc, two["a"].admin, two["a"].cid
    for role in ("admin", "clinician"):
        r = doc.client.post(
            f"/api/v1/clinics/{cid}/invitations",
            json={"email": "n@example.org", "role": role},
            headers=doc.headers,
        )
        assert r.status_code == 403, role
    assert 'value="admin"' not in doc.client.get(f"/clinics/{cid}").text
    assert 'value="admin"' in admin.client.get(f"/clinics/{cid}").text
    invite(doc, cid, "n@example.org", "patient")
    invite(admin, cid, "n2@example.org", "admin")


def test_leaving_ends_access_at_once(app: FastAPI, two: dict[str, Staffed], ctx: WebContext) -> None:
    pat, doc, cid = two["a"].pat, two["a"].doc, two["a"].cid
    token = page_csrf(pat.client, f"/clinics/{cid}")
    r = pat.client.post(f"/clinics/{cid}/leave", data={"csrf_token": token})
    assert r.status_code == 303
    assert doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json() == []
    assert doc.client.get(f"/api/v1/clinics/{cid}/patients").json() == []
    r = doc.client.post(
        f"/api/v1/clinics/{cid}/patients/{pat.uid}/treatments", json=TREATMENT, headers=doc.headers
    )
    assert r.status_code == 404
    assert doc.client.get(f"/clinics/{cid}/patients/{pat.uid}/treatments/new").status_code == 404
    assert doc.client.get(f"/api/v1/clinics/{cid}/patients/{pat.uid}").status_code == 404
    assert doc.client.get(f"/clinics/{cid}/patients/{pat.uid}").status_code == 404
    assert pat.client.get(f"/api/v1/clinics/{cid}").status_code == 404
    assert pat.client.get("/api/v1/clinics").json() == []
    # the aftercare and the treatment stay the patient's own
    assert len(pat.client.get("/api/v1/clinics/aftercare").json()) == 1
    assert len(pat.client.get("/api/v1/treatments").json()) == 1
    with ctx.sessions() as db:
        left = db.scalars(
            select(AuditEvent).where(AuditEvent.user_id == pat.uid, AuditEvent.action == "clinic_left")
        )
        assert left.one().detail == {"clinic_id": cid, "role": "patient", "consent_withdrawn": True}
    # a new invitation brings the patient back (same membership row, active again)
    token = invite(doc, cid, pat.email, "patient")
    r = pat.client.post(
        "/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=pat.headers
    )
    assert r.status_code == 200
    assert [row["email"] for row in doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()] == [pat.email]
    with ctx.sessions() as db:
        n = db.scalar(
            select(func.count()).select_from(ClinicMembership).where(ClinicMembership.user_id == pat.uid)
        )
    assert n == 1


def test_the_only_admin_cannot_leave(two: dict[str, Staffed]) -> None:
    admin, cid = two["a"].admin, two["a"].cid
    r = admin.client.post(f"/api/v1/clinics/{cid}/leave", headers=admin.headers)
    assert r.status_code == 409
    assert admin.client.get(f"/api/v1/clinics/{cid}").json()["role"] == "admin"


def test_anonymous_gets_nothing(app: FastAPI, two: dict[str, Staffed]) -> None:
    cid = two["a"].cid
    with new_client(app) as anon:
        assert anon.get(f"/api/v1/clinics/{cid}/dashboard").status_code == 401
        r = anon.get(f"/clinics/{cid}/dashboard")
        assert r.status_code == 303
        assert r.headers["location"] == "/login"


def _accept(member: Member, token: str, consent: bool = True) -> tuple[int, str]:
    r = member.client.post(
        "/api/v1/clinics/invitations/accept",
        json={"token": token, "consent": consent},
        headers=member.headers,
    )
    return r.status_code, r.json().get("code", "")


def test_invitation_tokens_refused(app: FastAPI, ctx: WebContext) -> None:
    admin = signup(app, "admin@a.example")
    cid = create_clinic(admin)
    pat = signup(app, "pat@example.org")
    token = invite(admin, cid, pat.email, "patient")
    payload, _, signature = token.rpartition(".")
    # change a middle character: the last base64 character partly encodes padding bits and may decode the same
    flipped = signature[:5] + ("A" if signature[5] != "A" else "B") + signature[6:]
    assert _accept(pat, f"{payload}.{flipped}") == (400, "invalid_token")
    assert _accept(pat, "not-a-token") == (400, "invalid_token")
    assert pat.client.get(f"/clinics/join?token={payload}.{flipped}").status_code == 400
    # a validly signed token whose nonce is not the stored one (e.g. forged with a leaked old secret)
    forged = token
    with ctx.sessions() as db:
        db.execute(update(ClinicInvitation).values(nonce="rotated"))
        db.commit()
    assert _accept(pat, forged) == (400, "invalid_token")

    # another address cannot use it; a patient must consent
    token = invite(admin, cid, pat.email, "patient")
    other = signup(app, "other@example.org")
    assert _accept(other, token) == (403, "forbidden")
    assert _accept(pat, token, consent=False) == (422, "unprocessable")
    assert _accept(pat, token) == (200, "")
    assert _accept(pat, token) == (410, "gone")  # single use
    assert pat.client.get(f"/clinics/join?token={token}").status_code == 410

    token = invite(admin, cid, "late@example.org", "clinician")
    late = signup(app, "late@example.org")
    with ctx.sessions() as db:
        db.execute(
            update(ClinicInvitation)
            .where(ClinicInvitation.email == "late@example.org")
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
        db.commit()
    assert _accept(late, token) == (410, "gone")
    assert late.client.get("/api/v1/clinics").json() == []


def test_csrf_required_on_every_clinic_form(app: FastAPI, two: dict[str, Staffed], ctx: WebContext) -> None:
    admin, pat, cid = two["a"].admin, two["a"].pat, two["a"].cid
    with ctx.sessions() as db:
        before = (db.scalar(select(func.count()).select_from(Clinic)), _treatments(ctx))
    fresh = signup(app, "fresh@example.org")
    token = invite(admin, cid, fresh.email, "patient")
    with ctx.sessions() as db:
        fresh_invitation = db.scalars(
            select(ClinicInvitation.id).where(ClinicInvitation.email == fresh.email)
        ).one()
    form_posts = [
        (admin, "/clinics", {"name": "X", "emergency_contact": "call 112"}),
        (admin, f"/clinics/{cid}/invitations", {"email": "y@example.org", "role": "patient"}),
        (admin, f"/clinics/{cid}/patients/{pat.uid}/treatments", {k: str(v) for k, v in TREATMENT.items()}),
        (fresh, "/clinics/join", {"token": token, "consent": "true"}),
        (pat, f"/clinics/{cid}/leave", {}),
        (admin, f"/clinics/{cid}/members/{pat.uid}/remove", {}),
        (admin, f"/clinics/{cid}/invitations/{fresh_invitation}/revoke", {}),
    ]
    for member, url, form in form_posts:
        for bad in ({}, {"csrf_token": "wrong"}):
            r = member.client.post(url, data=form | bad)
            assert r.status_code == 403, (url, bad)
            assert "expired" in r.text
    r = admin.client.post("/api/v1/clinics", json={"name": "X", "emergency_contact": "call 112"})
    assert r.status_code == 403
    with ctx.sessions() as db:
        assert (db.scalar(select(func.count()).select_from(Clinic)), _treatments(ctx)) == before
    assert fresh.client.get("/api/v1/clinics").json() == []
    assert pat.client.get(f"/api/v1/clinics/{cid}").status_code == 200
    assert len(admin.client.get(f"/api/v1/clinics/{cid}/invitations").json()) == 1


def test_join_page_for_visitors_and_other_accounts(app: FastAPI) -> None:
    admin = signup(app, "admin@a.example")
    cid = create_clinic(admin)
    token = invite(admin, cid, "pat@example.org", "patient")
    with new_client(app) as anon:
        page = anon.get(f"/clinics/join?token={token}")
        assert page.status_code == 200
        assert "Log in or sign up with <strong>pat@example.org</strong>" in page.text
        assert 'action="/clinics/join"' not in page.text
    other = signup(app, "other@example.org")
    page = other.client.get(f"/clinics/join?token={token}")
    assert "This invitation was sent to pat@example.org" in page.text
    assert 'action="/clinics/join"' not in page.text


def test_invitations_are_limited_and_not_sent_to_members(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = signup(app, "admin@a.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    r = admin.client.post(
        f"/api/v1/clinics/{cid}/invitations",
        json={"email": pat.email, "role": "patient"},
        headers=admin.headers,
    )
    assert r.status_code == 409
    monkeypatch.setattr(invitations, "INVITATIONS_PER_WINDOW", 3)  # one used by pat's invitation
    invite(admin, cid, "x1@example.org", "patient")
    invite(admin, cid, "x2@example.org", "patient")
    r = admin.client.post(
        f"/api/v1/clinics/{cid}/invitations",
        json={"email": "x3@example.org", "role": "patient"},
        headers=admin.headers,
    )
    assert r.status_code == 429
    assert r.json()["code"] == "rate_limited"
    other = signup(app, "admin@b.example")  # the limit is per clinic
    invite(other, create_clinic(other, "Clinic B"), "x3@example.org", "patient")


def test_admins_remove_members(two: dict[str, Staffed], ctx: WebContext) -> None:
    a, b = two["a"], two["b"]
    url = f"/api/v1/clinics/{a.cid}/members/{a.pat.uid}"
    assert a.doc.client.delete(url, headers=a.doc.headers).status_code == 403  # clinicians cannot
    assert b.admin.client.delete(url, headers=b.admin.headers).status_code == 404  # other clinic's admin
    other = f"/api/v1/clinics/{a.cid}/members/{b.pat.uid}"
    assert a.admin.client.delete(other, headers=a.admin.headers).status_code == 404  # not a member here
    own = f"/api/v1/clinics/{a.cid}/members/{a.admin.uid}"
    assert a.admin.client.delete(own, headers=a.admin.headers).status_code == 422
    assert [r["email"] for r in a.doc.client.get(f"/api/v1/clinics/{a.cid}/dashboard").json()] == [
        a.pat.email
    ]
    token = page_csrf(a.admin.client, f"/clinics/{a.cid}")
    r = a.admin.client.post(f"/clinics/{a.cid}/members/{a.pat.uid}/remove", data={"csrf_token": token})
    assert r.status_code == 303
    assert a.doc.client.get(f"/api/v1/clinics/{a.cid}/dashboard").json() == []
    assert a.pat.client.get(f"/api/v1/clinics/{a.cid}").status_code == 404
    assert a.admin.client.delete(url, headers=a.admin.headers).status_code == 404  # already gone
    with ctx.sessions() as db:
        event = db.scalars(
            select(AuditEvent).where(AuditEvent.user_id == a.pat.uid, AuditEvent.action == "clinic_removed")
        ).one()
    assert event.detail == {"clinic_id": a.cid, "role": "patient", "removed_by": a.admin.uid}
    assert b.doc.client.get(f"/api/v1/clinics/{b.cid}/dashboard").json()[0]["email"] == b.pat.email
