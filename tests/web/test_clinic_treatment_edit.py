"""Staff correct a treatment their clinic recorded for a patient: API and pages, what follows a new date, the
audit trail, and who may not (other clinics, other patients, treatments the clinic did not record)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import ColumnElement, and_, select

from needlecare.jobs.reminders import reminder_key
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import triage
from needlecare.storage.clinics import ClinicMessage
from needlecare.storage.models import AuditEvent, MailDelivery, Photo
from needlecare.web.context import WebContext

from .clinic_setup import (
    Member,
    add_photo,
    checkin,
    create_clinic,
    invite,
    join,
    signup,
    staff_treatment,
    today,
)
from .conftest import TREATMENT, api_treatment, page_csrf
from .forms import FormFields
from .reminder_runs import record_reminders

#: A complete, valid form for the treatment form (every field but the date differs from conftest's TREATMENT).
EDIT = {
    "device": "rf", "depth_mm": "1.5", "passes": "2", "area": "neck", "skin_type": "4", "sensitive": "true",
    "timezone": "UTC", "notes": "",
}  # fmt: skip


@dataclass
class Scene:
    """Clinic A (admin, clinician, patient with a treatment the clinician recorded 3 days ago and one they
    recorded themselves) and clinic B (admin and its own patient with a treatment B recorded)."""

    a: int
    admin: Member
    doc: Member
    pat: Member
    tid: int
    own_tid: int
    b: int
    b_admin: Member
    b_pat: Member
    b_tid: int


@pytest.fixture
def scene(app: FastAPI) -> Scene:
    admin = signup(app, "admin@a.example")
    a = create_clinic(admin, "Clinic A")
    doc = join(app, admin, a, "doc@a.example", "clinician")
    pat = join(app, doc, a, "pat@example.org", "patient", "Pat")
    tid = staff_treatment(doc, a, pat, days_ago=3)
    own_tid = api_treatment(pat.client, pat.headers, timezone="UTC")
    b_admin = signup(app, "admin@b.example")
    b = create_clinic(b_admin, "Clinic B")
    b_pat = join(app, b_admin, b, "bea@example.org", "patient")
    b_tid = staff_treatment(b_admin, b, b_pat, days_ago=1)
    return Scene(a, admin, doc, pat, tid, own_tid, b, b_admin, b_pat, b_tid)


def _aftercare_of(tid: int) -> ColumnElement[bool]:
    """SQL condition: the aftercare message of treatment *tid* (a correction adds a note of its own)."""
    return and_(ClinicMessage.treatment_id == tid, ClinicMessage.kind == "aftercare")


def _url(cid: int, patient: Member, tid: int) -> str:
    return f"/clinics/{cid}/patients/{patient.uid}/treatments/{tid}"


def _values(patient: Member, tid: int) -> dict[str, object]:
    """The treatment as its owner reads it."""
    body: dict[str, object] = patient.client.get(f"/api/v1/treatments/{tid}").json()
    return {k: body[k] for k in (*TREATMENT, "notes")}


def _edits(ctx: WebContext) -> list[AuditEvent]:
    with ctx.sessions() as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == "treatment_edited")))


def test_staff_correct_through_the_api_and_everything_follows(scene: Scene, ctx: WebContext) -> None:
    s = scene
    treated = today() - dt.timedelta(days=3)
    add_photo(ctx, s.pat, s.tid, day=2, index=0.2)
    assert checkin(s.pat, s.tid, days_after=2, rating=3, symptoms=[]) == triage(2, [], redness=3).urgency
    now = f"{today().isoformat()}T09:00"  # today's (day 3) reminder is recorded but not sent yet
    assert reminder_key(s.tid, 3) in [key for key, _ in record_reminders(ctx, now, sent=False)]
    with ctx.sessions() as db:
        message = db.scalars(select(ClinicMessage.body).where(_aftercare_of(s.tid))).one()

    new_on = treated - dt.timedelta(days=2)
    r = s.doc.client.patch(
        f"/api/v1{_url(s.a, s.pat, s.tid)}",
        json={"treated_on": new_on.isoformat(), "depth_mm": 1.5},
        headers=s.doc.headers,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["id"], body["treated_on"], body["depth_mm"], body["day"]) == (
        s.tid,
        new_on.isoformat(),
        1.5,
        5,
    )
    assert body["device"] == "pen"  # not sent: unchanged

    # the patient's own record changed, with day numbers and triage for the new date
    assert _values(s.pat, s.tid) == {**TREATMENT, "treated_on": new_on.isoformat(), "depth_mm": 1.5,
                                          "timezone": "UTC", "notes": None}  # fmt: skip
    (c,) = s.pat.client.get(f"/api/v1/treatments/{s.tid}/checkins").json()
    assert c["day"] == 4
    corrected = _values(s.pat, s.tid)
    params = TreatmentParams(**{k: v for k, v in corrected.items() if k in TreatmentParams.model_fields})
    assert c["triage"] == triage(4, [], redness=3, treatment=params).to_dict()
    assert c["triage"]["urgency"] == "expected"  # 1.5 mm: up to 7 days is typical
    with ctx.sessions() as db:
        photo = db.scalars(select(Photo).where(Photo.treatment_id == s.tid)).one()
        assert photo.day == 4
        # the unsent reminder held the old day's text: withdrawn, and recorded again for day 5
        assert db.scalars(select(MailDelivery).where(MailDelivery.key == reminder_key(s.tid, 3))).all() == []
        assert db.scalars(select(ClinicMessage.body).where(_aftercare_of(s.tid))).one() == message
    again = dict(record_reminders(ctx, f"{today().isoformat()}T09:01", sent=False))
    assert f"is day 5 after your treatment on {new_on.isoformat()}." in again[reminder_key(s.tid, 5)]

    # audited on the patient's trail, naming the staff member and the clinic
    (event,) = _edits(ctx)
    assert event.user_id == s.pat.uid
    assert event.detail == {
        "treatment_id": s.tid,
        "changes": {"treated_on": [treated.isoformat(), new_on.isoformat()], "depth_mm": [1.0, 1.5]},
        "recorded_by_clinic": s.a,
        "edited_by": s.doc.uid,
        "edited_by_clinic": s.a,
    }
    rec = s.admin.client.get(f"/api/v1/clinics/{s.a}/patients/{s.pat.uid}").json()
    assert {t["treatment"]["id"]: t["recorded_here"] for t in rec["treatments"]} == {
        s.tid: True,
        s.own_tid: False,
    }


def test_staff_correct_through_the_clinic_pages(scene: Scene, ctx: WebContext) -> None:
    s = scene
    patient_page = s.admin.client.get(f"/clinics/{s.a}/patients/{s.pat.uid}").text
    edit = _url(s.a, s.pat, s.tid) + "/edit"
    assert f'href="{edit}">Edit treatment</a>' in patient_page
    assert f"{_url(s.a, s.pat, s.own_tid)}/edit" not in patient_page  # the patient recorded that one

    page = s.admin.client.get(edit)
    assert page.status_code == 200
    assert "for Pat" in page.text
    form = FormFields(edit)
    form.feed(page.text)
    treated = (today() - dt.timedelta(days=3)).isoformat()
    assert form.fields == {
        "csrf_token": page_csrf(s.admin.client, edit),
        "treated_on": treated, "device": "pen", "depth_mm": "1.0", "passes": "3", "area": "face",
        "skin_type": "2", "bleeding": "true", "serum": "true", "timezone": "UTC", "notes": "",
    }  # fmt: skip
    before = _values(s.pat, s.tid)
    r = s.admin.client.post(edit, data=form.fields)  # resubmitted unchanged: nothing changes, nothing audited
    assert (r.status_code, r.headers["location"]) == (303, f"/clinics/{s.a}/patients/{s.pat.uid}")
    assert _values(s.pat, s.tid) == before
    assert _edits(ctx) == []

    for token in (None, "wrong"):  # CSRF like every other form
        data = {**EDIT, "treated_on": treated, **({"csrf_token": token} if token else {})}
        assert s.admin.client.post(edit, data=data).status_code == 403
    bad = {**form.fields, "depth_mm": "9"}
    r = s.admin.client.post(edit, data=bad)
    assert r.status_code == 422
    assert "<li>depth_mm: " in r.text
    assert _values(s.pat, s.tid) == before

    r = s.admin.client.post(
        edit, data={**EDIT, "treated_on": treated, "csrf_token": form.fields["csrf_token"]}
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/clinics/{s.a}/patients/{s.pat.uid}")
    assert _values(s.pat, s.tid) == {
        "treated_on": treated, "device": "rf", "depth_mm": 1.5, "passes": 2, "area": "neck", "skin_type": 4,
        "sensitive": True, "rosacea": False, "bleeding": False, "prp": False, "serum": False,
        "timezone": "UTC", "notes": None,
    }  # fmt: skip
    assert "rf, 1.5 mm, 2 passes, neck" in s.admin.client.get(f"/clinics/{s.a}/patients/{s.pat.uid}").text
    (event,) = _edits(ctx)
    assert (event.user_id, event.detail["edited_by"], event.detail["edited_by_clinic"]) == (
        s.pat.uid,
        s.admin.uid,
        s.a,
    )

    # a date after one of the patient's check-ins is refused, and nothing changes
    checkin(s.pat, s.tid, days_after=1, rating=2, symptoms=[])
    later = (today() - dt.timedelta(days=1)).isoformat()
    r = s.admin.client.post(edit, data={**EDIT, "treated_on": later, "csrf_token": form.fields["csrf_token"]})
    assert r.status_code == 422
    assert f"before {later}" in r.text
    assert _values(s.pat, s.tid)["treated_on"] == treated


def test_only_the_recording_clinics_staff_reach_it(app: FastAPI, scene: Scene, ctx: WebContext) -> None:
    s = scene
    # pat also becomes a patient of clinic B, which records a treatment for them too
    token = invite(s.b_admin, s.b, s.pat.email, "patient")
    r = s.pat.client.post(
        "/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=s.pat.headers
    )
    assert r.status_code == 200, r.text
    b_for_pat = staff_treatment(s.b_admin, s.b, s.pat, days_ago=2)
    unlinked = signup(app, "solo@example.org")
    solo_tid = api_treatment(unlinked.client, unlinked.headers)
    tids = (s.tid, s.own_tid, s.b_tid, b_for_pat, solo_tid)
    owners = (s.pat, s.pat, s.b_pat, s.pat, unlinked)
    before = [_values(owner, tid) for owner, tid in zip(owners, tids, strict=True)]

    not_found = [
        (s.doc, s.a, s.pat, s.own_tid),  # the patient recorded it themselves
        (s.doc, s.a, s.pat, b_for_pat),  # clinic B recorded it
        (s.doc, s.a, s.b_pat, s.b_tid),  # not a patient of clinic A
        (s.doc, s.b, s.b_pat, s.b_tid),  # not a member of clinic B
        (s.doc, s.a, unlinked, solo_tid),  # not linked to any clinic
        (s.b_admin, s.a, s.pat, s.tid),  # another clinic's staff
        (s.b_admin, s.b, s.pat, s.tid),  # ... through their own clinic: A recorded it
        (s.doc, s.a, s.b_pat, s.tid),  # the treatment is not this patient's
        (s.doc, s.a, s.pat, 999_999),
    ]
    for staff, cid, patient, tid in not_found:
        url = _url(cid, patient, tid)
        r = staff.client.patch(f"/api/v1{url}", json={"depth_mm": 2.0}, headers=staff.headers)
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), (staff.email, url)
        assert staff.client.get(f"{url}/edit").status_code == 404, url
        token = page_csrf(staff.client, "/clinics")
        r = staff.client.post(f"{url}/edit", data={**EDIT, "treated_on": "2026-11-20", "csrf_token": token})
        assert r.status_code == 404, url
        assert "not yours" in r.text
    # a patient member is not staff; the patient's own PATCH route stays theirs alone
    r = s.pat.client.patch(f"/api/v1{_url(s.a, s.pat, s.tid)}", json={"depth_mm": 2.0}, headers=s.pat.headers)
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = s.doc.client.patch(f"/api/v1/treatments/{s.tid}", json={"depth_mm": 2.0}, headers=s.doc.headers)
    assert r.status_code == 404
    # the API needs the CSRF header like every unsafe call
    r = s.doc.client.patch(f"/api/v1{_url(s.a, s.pat, s.tid)}", json={"depth_mm": 2.0})
    assert (r.status_code, r.json()["code"]) == (403, "csrf_failed")

    # once the patient leaves clinic A, its staff lose this too
    r = s.pat.client.post(f"/api/v1/clinics/{s.a}/leave", headers=s.pat.headers)
    assert r.status_code == 204
    r = s.doc.client.patch(f"/api/v1{_url(s.a, s.pat, s.tid)}", json={"depth_mm": 2.0}, headers=s.doc.headers)
    assert r.status_code == 404
    assert s.doc.client.get(f"{_url(s.a, s.pat, s.tid)}/edit").status_code == 404

    assert [_values(owner, tid) for owner, tid in zip(owners, tids, strict=True)] == before
    assert _edits(ctx) == []


def test_edit_endpoint_in_the_openapi_schema(scene: Scene) -> None:
    schema = scene.admin.client.get("/api/v1/openapi.json").json()
    op = schema["paths"]["/clinics/{clinic_id}/patients/{patient_id}/treatments/{treatment_id}"]["patch"]
    assert {"200", "403", "404", "422"} <= set(op["responses"])
    assert op["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/TreatmentUpdate")
