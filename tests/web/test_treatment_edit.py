"""Editing a treatment: prefilled form, saving, validation, isolation, CSRF and what follows a new date."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi import FastAPI
from icalendar import Calendar
from sqlalchemy import select
from starlette.testclient import TestClient

from needlecare.jobs import mail
from needlecare.jobs.reminders import reminder_key
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.plan import aftercare_plan, to_ics
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import triage
from needlecare.storage.clinics import ClinicMessage
from needlecare.storage.models import AuditEvent, MailDelivery, Photo
from needlecare.web.context import WebContext

from .clinic_setup import Member, add_photo, checkin, create_clinic, join, signup, staff_treatment
from .conftest import TREATMENT, api_signup, api_treatment, new_client, page_csrf
from .forms import FormFields
from .reminder_runs import record_reminders

#: A complete, valid edit of conftest's TREATMENT: every field differs except the time zone.
EDIT = {
    "treated_on": "2026-11-18", "device": "rf", "depth_mm": "1.5", "passes": "2", "area": "neck",
    "skin_type": "4", "sensitive": "true", "rosacea": "true", "timezone": "Europe/Berlin", "notes": "",
}  # fmt: skip


def form_of(client: TestClient, tid: int) -> FormFields:
    page = client.get(f"/treatments/{tid}/edit")
    assert page.status_code == 200, page.text
    parser = FormFields(f"/treatments/{tid}/edit")
    parser.feed(page.text)
    return parser


def api_values(client: TestClient, tid: int) -> dict[str, object]:
    body: dict[str, object] = client.get(f"/api/v1/treatments/{tid}").json()
    return {k: body[k] for k in TREATMENT}


def test_edit_form_is_prefilled_with_the_treatments_values(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(
        client, headers, device="roller", depth_mm=0.75, passes=4, area="scalp", skin_type=5, rosacea=True,
        timezone="UTC", notes="Clinic <Main> & co",
    )  # fmt: skip
    page = client.get(f"/treatments/{tid}").text
    assert f'href="/treatments/{tid}/edit">Edit</a>' in page
    form = form_of(client, tid)
    assert form.fields == {
        "csrf_token": page_csrf(client, f"/treatments/{tid}/edit"),
        "treated_on": "2026-11-20", "device": "roller", "depth_mm": "0.75", "passes": "4", "area": "scalp",
        "skin_type": "5", "rosacea": "true", "bleeding": "true", "serum": "true", "timezone": "UTC",
        "notes": "Clinic <Main> & co",
    }  # fmt: skip
    assert not form.data_timezone  # the browser's zone must not replace the stored "UTC"
    # A depth off the form's 0.05 mm grid (possible through the API) can be submitted unchanged.
    other = api_treatment(client, headers, depth_mm=1.23)
    assert 'step="any"' in client.get(f"/treatments/{other}/edit").text
    assert 'step="0.05"' in client.get(f"/treatments/{tid}/edit").text


def test_resubmitting_the_prefilled_form_changes_nothing(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, notes="kept")
    before = api_values(client, tid)
    r = client.post(f"/treatments/{tid}/edit", data=form_of(client, tid).fields)
    assert r.status_code == 303
    assert api_values(client, tid) == before


def test_edit_saves_and_shows_on_the_page_and_in_the_api(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, notes="old note")
    r = client.post(
        f"/treatments/{tid}/edit", data={**EDIT, "csrf_token": page_csrf(client, "/treatments/new")}
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/treatments/{tid}"
    page = client.get(f"/treatments/{tid}").text
    assert "Treatment of 18 Nov 2026" in page
    assert "Radiofrequency microneedling, 1.5 mm, 2 passes" in page
    assert "<dt>Area</dt><dd>Neck</dd>" in page
    assert "<dt>Also</dt><dd>Sensitive skin, Rosacea</dd>" in page  # bleeding and serum were unticked
    params = TreatmentParams(depth_mm=1.5, passes=2, device="rf", area="neck", skin_type=4, sensitive=True,
                             rosacea=True)  # fmt: skip
    window = expected_course(params).to_dict()["typical_days"]
    assert f"{window[0]}–{window[1]} days" in page
    assert api_values(client, tid) == {
        "treated_on": "2026-11-18", "device": "rf", "depth_mm": 1.5, "passes": 2, "area": "neck",
        "skin_type": 4, "sensitive": True, "rosacea": True, "bleeding": False, "prp": False, "serum": False,
        "timezone": "Europe/Berlin",
    }  # fmt: skip
    assert client.get(f"/api/v1/treatments/{tid}").json()["notes"] is None
    with ctx.sessions() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "treatment_edited")).one()
        assert event.detail["treatment_id"] == tid
        assert event.detail["changes"]["treated_on"] == ["2026-11-20", "2026-11-18"]
        assert event.detail["changes"]["depth_mm"] == [1.0, 1.5]
        assert "timezone" not in event.detail["changes"]
        assert "recorded_by_clinic" not in event.detail


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"depth_mm": "5"}, "depth_mm"),
        ({"depth_mm": "0"}, "depth_mm"),
        ({"skin_type": "7"}, "skin_type"),
        ({"passes": "0"}, "passes"),
        ({"device": "laser"}, "device"),
        ({"area": "knee"}, "area"),
        ({"timezone": "Mars/Base"}, "timezone"),
        ({"treated_on": "yesterday"}, "treated_on"),
        ({"treated_on": None}, "treated_on"),  # missing
        ({"notes": "x" * 2001}, "notes"),
    ],
)
def test_invalid_edit_shows_the_create_forms_error_and_changes_nothing(
    client: TestClient, bad: dict[str, str | None], field: str
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    before = api_values(client, tid)
    data = {k: v for k, v in {**EDIT, **bad}.items() if v is not None}
    r = client.post(
        f"/treatments/{tid}/edit", data={**data, "csrf_token": page_csrf(client, "/treatments/new")}
    )
    created = client.post("/treatments", data={**data, "csrf_token": page_csrf(client, "/treatments/new")})
    assert r.status_code == created.status_code == 422
    assert r.headers["content-type"].startswith("text/html")
    for page in (r.text, created.text):  # each form back, the same message next to the same field
        assert f'id="{field}-error"' in page
        assert f'<a href="#{field}">' in page
        assert f"<li>{field}: " not in page  # no raw field names
    message = re.search(rf'id="{field}-error">(.*?)</p>', r.text, re.S)
    assert message is not None
    assert message.group(1) in created.text
    assert "Edit treatment" in r.text
    assert "Record a treatment" in created.text
    assert api_values(client, tid) == before
    assert [t["id"] for t in client.get("/api/v1/treatments").json()] == [tid]


def test_another_users_treatment_is_not_found_and_logged_out_goes_to_login(app: FastAPI) -> None:
    owner, other = new_client(app), new_client(app)
    tid = api_treatment(owner, api_signup(owner))
    before = api_values(owner, tid)
    api_signup(other, "bob@example.org")
    token = page_csrf(other, "/treatments/new")
    assert other.get(f"/treatments/{tid}/edit").status_code == 404
    r = other.post(f"/treatments/{tid}/edit", data={**EDIT, "csrf_token": token})
    assert r.status_code == 404
    assert "not yours" in r.text
    assert other.post("/treatments/999999/edit", data={**EDIT, "csrf_token": token}).status_code == 404
    visitor = new_client(app)
    assert visitor.get(f"/treatments/{tid}/edit").headers["location"] == "/login"
    r = visitor.post(f"/treatments/{tid}/edit", data={**EDIT, "csrf_token": page_csrf(visitor, "/login")})
    assert (r.status_code, r.headers["location"]) == (303, "/login")
    assert api_values(owner, tid) == before


def test_edit_without_or_with_a_wrong_csrf_token_is_refused(client: TestClient, app: FastAPI) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    before = api_values(client, tid)
    stranger = new_client(app)  # a token that is valid, but for another session
    for token in (None, "", "x" * 43, page_csrf(stranger, "/login")):
        data = {**EDIT, **({"csrf_token": token} if token is not None else {})}
        r = client.post(f"/treatments/{tid}/edit", data=data)
        assert r.status_code == 403, token
        assert "Form expired" in r.text
    assert api_values(client, tid) == before


def test_a_new_date_moves_plan_calendar_days_and_triage(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")
    add_photo(ctx, _member(client, headers), tid, day=3, index=0.2)
    assert checkin(_member(client, headers), tid, days_after=2, rating=3, symptoms=[]) == "expected"
    token = page_csrf(client, "/treatments/new")
    r = client.post(f"/treatments/{tid}/edit", data={**EDIT, "treated_on": "2026-11-17", "timezone": "UTC",
                                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    new_on = dt.date(2026, 11, 17)
    params = TreatmentParams(depth_mm=1.5, passes=2, device="rf", area="neck", skin_type=4, sensitive=True,
                             rosacea=True)  # fmt: skip
    expected_plan = aftercare_plan(new_on, params, tz="UTC").to_dict()
    plan = client.get(f"/api/v1/treatments/{tid}/plan").json()
    assert plan["days"][0]["date"] == "2026-11-17"
    assert plan["days"] == expected_plan["days"]
    ics = client.get(f"/treatments/{tid}/plan.ics").content
    assert _events(ics) == _events(to_ics(aftercare_plan(new_on, params, tz="UTC")))
    assert _events(ics) != _events(to_ics(aftercare_plan(dt.date(2026, 11, 20), params, tz="UTC")))
    today = dt.datetime.now(dt.UTC).date()
    assert client.get(f"/api/v1/treatments/{tid}").json()["day"] == (today - new_on).days
    # The check-in of 22 Nov was day 2, now day 5, and is triaged again for day 5 and the corrected
    # treatment: after RF on skin type IV moderate redness on day 5 is still inside the typical window,
    # where the general rule would ask to contact the provider.
    (c,) = client.get(f"/api/v1/treatments/{tid}/checkins").json()
    assert (c["checked_on"], c["day"]) == ("2026-11-22", 5)
    assert c["triage"] == triage(5, [], redness=3, treatment=params).to_dict()
    assert (c["triage"]["urgency"], triage(5, [], redness=3).urgency) == ("expected", "within_48h")
    with ctx.sessions() as db:
        photo = db.scalars(select(Photo).where(Photo.treatment_id == tid)).one()
        assert (photo.taken_on, photo.day) == (dt.date(2026, 11, 23), 6)
    # A date after that check-in is refused like a check-in before the treatment; nothing changes.
    r = client.post(f"/treatments/{tid}/edit", data={**EDIT, "treated_on": "2026-11-23", "csrf_token": token})
    assert r.status_code == 422
    assert "before 2026-11-23" in r.text
    assert client.get(f"/api/v1/treatments/{tid}").json()["treated_on"] == "2026-11-17"
    assert client.get(f"/api/v1/treatments/{tid}/checkins").json()[0]["day"] == 5


def _events(content: bytes) -> list[tuple[str, str, object]]:
    """UID, summary and start of each event (DTSTAMP is the download time: left out)."""
    return [
        (str(e["UID"]), str(e["SUMMARY"]), e.decoded("DTSTART"))
        for e in Calendar.from_ical(content).walk("VEVENT")
    ]


def _member(client: TestClient, headers: dict[str, str]) -> Member:
    """The logged-in patient in the shape the clinic helpers take (client, headers, uid)."""
    me = client.get("/api/v1/auth/me").json()
    return Member(client, headers, me["id"], me["email"])


def _edit_date(client: TestClient, tid: int, on: str) -> None:
    token = page_csrf(client, f"/treatments/{tid}/edit")
    r = client.post(f"/treatments/{tid}/edit", data={**form_of(client, tid).fields, "treated_on": on,
                                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 303, r.text


def test_a_later_date_mails_the_days_not_reached_yet_and_never_a_date_twice(
    client: TestClient, ctx: WebContext
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")  # 20 Nov; reminders went out 20-23 Nov
    for date in ("2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"):
        assert [k for k, _ in record_reminders(ctx, f"{date}T09:00", sent=True)] == [
            reminder_key(tid, (dt.date.fromisoformat(date) - dt.date(2026, 11, 20)).days)
        ]
    _edit_date(client, tid, "2026-11-22")  # the patient had it two days early
    assert record_reminders(ctx, "2026-11-23T10:00", sent=True) == []  # 23 Nov already had its mail
    ((key, body),) = record_reminders(ctx, "2026-11-24T09:00", sent=True)
    assert key == reminder_key(tid, 2)
    assert "Today (2026-11-24) is day 2 after your treatment on 2026-11-22." in body
    with ctx.sessions() as db:
        keys = set(db.scalars(select(MailDelivery.key)))
    assert {reminder_key(tid, d) for d in (0, 1, 2)} <= keys
    assert sum(k.startswith(f"reminder-superseded:{tid}:") for k in keys) == 2  # 20 and 21 Nov, kept
    assert len(keys) == 5


def test_an_unsent_reminder_is_rewritten_for_the_new_date(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")
    ((key, _),) = record_reminders(ctx, "2026-11-23T09:00", sent=False)  # day 3, not mailed yet
    assert key == reminder_key(tid, 3)
    _edit_date(client, tid, "2026-11-21")
    ((key, body),) = record_reminders(ctx, "2026-11-23T09:01", sent=False)
    assert key == reminder_key(tid, 2)
    assert "Today (2026-11-23) is day 2 after your treatment on 2026-11-21." in body
    with ctx.sessions() as db:
        assert list(db.scalars(select(MailDelivery.key).where(MailDelivery.key.like("reminder%")))) == [key]


def test_editing_only_the_notes_keeps_the_queued_reminder(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, timezone="UTC")
    ((key, body),) = record_reminders(ctx, "2026-11-23T09:00", sent=False)
    token = page_csrf(client, f"/treatments/{tid}/edit")
    r = client.post(f"/treatments/{tid}/edit", data={**form_of(client, tid).fields, "notes": "itchy",
                                                     "csrf_token": token})  # fmt: skip
    assert r.status_code == 303
    with ctx.sessions() as db:
        (row,) = db.scalars(select(MailDelivery).where(MailDelivery.key.like("reminder%")))
        assert (row.key, row.body, row.status) == (key, body, mail.QUEUED)


def test_the_patient_may_correct_a_clinic_recorded_treatment_staff_not_on_the_patients_page(
    app: FastAPI, ctx: WebContext
) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    patient = join(app, admin, cid, "pat@example.org", "patient", "Pat")
    tid = staff_treatment(admin, cid, patient, days_ago=1)
    with ctx.sessions() as db:
        message_body = db.scalars(select(ClinicMessage.body).where(ClinicMessage.treatment_id == tid)).one()
    # The patient's own edit page is as absent for staff as for anyone else (staff correct a treatment their
    # clinic recorded on the clinic's pages: test_clinic_treatment_edit.py).
    token = page_csrf(admin.client, "/treatments/new")
    assert admin.client.get(f"/treatments/{tid}/edit").status_code == 404
    r = admin.client.post(f"/treatments/{tid}/edit", data={**EDIT, "csrf_token": token})
    assert r.status_code == 404
    assert patient.client.get(f"/api/v1/treatments/{tid}").json()["device"] == "pen"
    # The patient owns the row: they may correct it, and are told the clinic's message stays as sent.
    page = patient.client.get(f"/treatments/{tid}/edit").text
    assert "Recorded by Skin Studio." in page
    token = page_csrf(patient.client, f"/treatments/{tid}/edit")
    r = patient.client.post(f"/treatments/{tid}/edit", data={**EDIT, "csrf_token": token})
    assert r.status_code == 303
    assert patient.client.get(f"/api/v1/treatments/{tid}").json()["device"] == "rf"
    rec = admin.client.get(f"/api/v1/clinics/{cid}/patients/{patient.uid}").json()
    assert [(t["treatment"]["id"], t["treatment"]["device"]) for t in rec["treatments"]] == [(tid, "rf")]
    with ctx.sessions() as db:
        assert (
            db.scalars(select(ClinicMessage.body).where(ClinicMessage.treatment_id == tid)).one()
            == message_body
        )
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "treatment_edited")).one()
        assert event.user_id == patient.uid
        assert event.detail["recorded_by_clinic"] == cid
        assert event.detail["changes"]["device"] == ["pen", "rf"]
        assert "edited_by" not in event.detail  # the patient's own correction
