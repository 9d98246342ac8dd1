"""Clinic test helpers: a clinic with an admin, invitations accepted through the API, seeded photos."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.testclient import TestClient

from needlecare.storage.models import Photo, Treatment
from needlecare.web.context import WebContext

from .conftest import TREATMENT, api_signup, new_client

CONTACT = "Call 030 1234 5678 (24 h) · Example Street 1, Berlin"


def today() -> dt.date:
    """Today in UTC (the clinic tests record treatments in the UTC time zone)."""
    return dt.datetime.now(dt.UTC).date()


@dataclass
class Member:
    """A logged-in browser with its API headers and user id."""

    client: TestClient
    headers: dict[str, str]
    uid: int
    email: str


def signup(app: FastAPI, email: str) -> Member:
    """A new account in its own browser."""
    client = new_client(app)
    headers = api_signup(client, email)
    uid: int = client.get("/api/v1/auth/me").json()["id"]
    return Member(client, headers, uid, email)


def create_clinic(admin: Member, name: str = "Skin Studio") -> int:
    """Create a clinic through the API; returns its id."""
    r = admin.client.post(
        "/api/v1/clinics", json={"name": name, "emergency_contact": CONTACT}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "admin"
    cid: int = r.json()["clinic"]["id"]
    return cid


def invite(inviter: Member, cid: int, email: str, role: str, name: str | None = None) -> str:
    """Invite *email*; returns the token from the returned link."""
    body = {"email": email, "role": role, **({"name": name} if name else {})}
    r = inviter.client.post(f"/api/v1/clinics/{cid}/invitations", json=body, headers=inviter.headers)
    assert r.status_code == 201, r.text
    assert r.json()["mailed"] is True
    link: str = r.json()["link"]
    assert link.startswith("https://testserver/clinics/join?token=")
    return link.split("token=", 1)[1]


def join(app: FastAPI, inviter: Member, cid: int, email: str, role: str, name: str | None = None) -> Member:
    """Sign up *email*, invite it and accept (with consent for patients)."""
    member = signup(app, email)
    token = invite(inviter, cid, email, role, name)
    r = member.client.post(
        "/api/v1/clinics/invitations/accept",
        json={"token": token, "consent": role == "patient"},
        headers=member.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["role"] == role
    return member


def staff_treatment(staff: Member, cid: int, patient: Member, days_ago: int) -> int:
    """Staff record a treatment (UTC) *days_ago* days ago for *patient*; returns the treatment id."""
    treated = (today() - dt.timedelta(days=days_ago)).isoformat()
    r = staff.client.post(
        f"/api/v1/clinics/{cid}/patients/{patient.uid}/treatments",
        json={**TREATMENT, "treated_on": treated, "timezone": "UTC"},
        headers=staff.headers,
    )
    assert r.status_code == 201, r.text
    tid: int = r.json()["treatment_id"]
    return tid


def add_photo(
    ctx: WebContext,
    patient: Member,
    tid: int,
    day: int,
    index: float,
    *,
    baseline: bool = False,
    comparable: bool | None = None,
) -> None:
    """A photo row with an analysis (the dashboard reads only the stored analysis, not the file); with
    *comparable*, the analysis also holds a baseline comparison saying whether the light matched."""
    analysis: dict[str, object] = {"redness": {"index": index, "unit": "OD_hb"}}
    if comparable is not None:
        analysis["baseline"] = {"comparable": comparable, "lighting_differs": not comparable, "notes": []}
    with ctx.sessions() as db:
        treated = db.get(Treatment, tid)
        assert treated is not None
        db.add(
            Photo(
                user_id=patient.uid, treatment_id=tid, taken_on=treated.treated_on + dt.timedelta(days=day),
                day=day, is_baseline=baseline, consent="private", file_path=f"{patient.uid}/{tid}-{day}.jpg",
                width=1, height=1, analysis=analysis,
            )
        )  # fmt: skip
        db.commit()


def checkin(patient: Member, tid: int, days_after: int, rating: int, symptoms: list[str]) -> str:
    """A check-in *days_after* the treatment; returns the triage urgency."""
    r = patient.client.get(f"/api/v1/treatments/{tid}")
    on = (dt.date.fromisoformat(r.json()["treated_on"]) + dt.timedelta(days=days_after)).isoformat()
    r = patient.client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": rating, "symptoms": symptoms, "checked_on": on},
        headers=patient.headers,
    )
    assert r.status_code == 201, r.text
    urgency: str = r.json()["triage"]["urgency"]
    return urgency
