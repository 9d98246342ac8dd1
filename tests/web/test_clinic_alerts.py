"""Clinic flags and alerts through the real app and SMTP sink: the dashboard shows a patient's open red flags
across all their treatments until staff mark them handled, and each urgent event mails the clinic once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from jobs.conftest import Sink
from needlecare.jobs import photos
from needlecare.storage.models import AuditEvent
from needlecare.web.clinics import alerts, dashboard
from needlecare.web.context import WebContext

from .clinic_setup import CONTACT, Member, add_photo, checkin, create_clinic, join, signup, staff_treatment
from .conftest import api_treatment, page_csrf

ALERTS = "alerts@skin.example"


@dataclass
class Setup:
    doc: Member
    pat: Member
    cid: int


@pytest.fixture
def scene(app: FastAPI, smtp: Sink) -> Setup:
    doc = signup(app, "doc@example.org")
    cid = create_clinic(doc)
    r = doc.client.patch(f"/api/v1/clinics/{cid}", json={"alert_email": ALERTS}, headers=doc.headers)
    assert r.status_code == 200, r.text
    assert r.json()["clinic"]["alert_email"] == ALERTS
    pat = join(app, doc, cid, "pat@example.org", "patient", "Pat")
    return Setup(doc, pat, cid)


def alerts_in(smtp: Sink) -> list[str]:
    return [str(m["Subject"]) for m in smtp.received if m["To"] == ALERTS]


def test_red_flag_on_an_older_treatment_stays_on_the_dashboard_until_handled(
    scene: Setup, smtp: Sink, ctx: WebContext
) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    own = staff_treatment(doc, cid, pat, days_ago=3)
    assert checkin(pat, own, 2, 2, ["pus", "warmth"]) == "same_day"
    staff_treatment(doc, cid, pat, days_ago=0)  # a newer treatment, no check-in yet

    rows = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    (row,) = rows
    assert row["day"] == 0  # the row is the newest treatment ...
    assert row["red_flag"] is True  # ... and still shows the older treatment's red flag
    assert row["status"] == "attention"
    (flag,) = row["flags"]
    assert (flag["kind"], flag["urgency"], flag["treatment_id"]) == ("red_flag", "same_day", own)
    assert "same day (pus, warmth; redness 2/4)" in flag["summary"]
    page = doc.client.get(f"/clinics/{cid}/dashboard")
    assert f'data-flag="{flag["id"]}"' in page.text
    assert f'data-flag="{flag["id"]}"' in doc.client.get(f"/clinics/{cid}/patients/{pat.uid}").text
    same_day = doc.client.get(f"/api/v1/clinics/{cid}/dashboard?urgency=same_day").json()
    assert [r["patient_id"] for r in same_day] == [pat.uid]  # found by its open flag

    assert len(alerts_in(smtp)) == 1  # the same-day verdict alerted the clinic once
    mail = next(m for m in smtp.received if m["To"] == ALERTS)
    assert "Pat" in str(mail["Subject"])
    assert "pat@example.org" in mail.get_content()
    assert f"/clinics/{cid}/dashboard" in mail.get_content()

    r = doc.client.post(
        f"/api/v1/clinics/{cid}/flags/{flag['id']}/handled",
        json={"note": "Called her; antibiotics prescribed."},
        headers=doc.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["handled_by_id"] == doc.uid
    assert r.json()["handled_at"]
    (row,) = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert row["flags"] == []
    assert row["red_flag"] is False
    assert row["status"] == "on_track"
    with ctx.sessions() as db:
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "clinic_flag_handled")).one()
    assert event.user_id == pat.uid
    assert event.detail["handled_by"] == doc.uid
    assert event.detail["note"] == "Called her; antibiotics prescribed."

    # Another look at the same check-in (a new check-in re-runs the sync) raises and mails nothing again.
    assert checkin(pat, own, 3, 1, []) in ("expected", "routine")
    assert len(alerts_in(smtp)) == 1
    (row,) = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert row["flags"] == []


def test_one_alert_per_urgent_event_and_none_for_less_urgent_ones(scene: Setup, smtp: Sink) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    tid = api_treatment(pat.client, pat.headers, treated_on=_days_ago(2), timezone="UTC")
    assert checkin(pat, tid, 2, 1, ["breathing_difficulty"]) == "emergency"
    assert checkin(pat, tid, 2, 1, ["fever"]) == "same_day"
    subjects = alerts_in(smtp)
    assert len(subjects) == 2
    assert any("emergency" in s for s in subjects)
    rows = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert [f["urgency"] for f in rows[0]["flags"]] == ["emergency", "same_day"]
    # handled through the dashboard's form
    first = rows[0]["flags"][0]["id"]
    token = page_csrf(doc.client, f"/clinics/{cid}/dashboard")
    r = doc.client.post(
        f"/clinics/{cid}/flags/{first}/handled", data={"csrf_token": token, "note": "Ambulance called."}
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/clinics/{cid}/dashboard")
    rows = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert [f["urgency"] for f in rows[0]["flags"]] == ["same_day"]


def test_patient_sees_emergency_services_first_then_the_clinic_contact(scene: Setup) -> None:
    pat = scene.pat
    tid = staff_treatment(scene.doc, scene.cid, pat, days_ago=1)
    checkin(pat, tid, 1, 1, ["breathing_difficulty"])
    checkins = pat.client.get(f"/api/v1/treatments/{tid}/checkins").json()
    page = pat.client.get(f"/checkins/{checkins[-1]['id']}").text
    assert "Call your local emergency number" in page
    assert CONTACT.split(" · ")[0] in page
    assert page.index("Call your local emergency number") < page.index(CONTACT.split(" · ")[0])
    checkin(pat, tid, 1, 1, ["fever"])
    checkins = pat.client.get(f"/api/v1/treatments/{tid}/checkins").json()
    page = pat.client.get(f"/checkins/{checkins[-1]['id']}").text
    assert "Call your local emergency number" not in page
    assert CONTACT.split(" · ")[0] in page
    api = pat.client.get(f"/api/v1/checkins/{checkins[-1]['id']}").json()
    assert api["clinic_contacts"] == [
        {"clinic_id": scene.cid, "name": "Skin Studio", "emergency_contact": CONTACT}
    ]
    calm = pat.client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": 1, "symptoms": []},
        headers=pat.headers,
    )
    assert calm.json()["clinic_contacts"] == []  # nothing urgent: no contacts pushed


def test_a_patient_of_no_clinic_is_told_to_call_emergency_services(app: FastAPI) -> None:
    alone = signup(app, "alone@example.org")
    tid = api_treatment(alone.client, alone.headers, treated_on=_days_ago(1), timezone="UTC")
    checkin(alone, tid, 1, 1, ["facial_swelling"])
    checkins = alone.client.get(f"/api/v1/treatments/{tid}/checkins").json()
    assert "Call your local emergency number" in alone.client.get(f"/checkins/{checkins[-1]['id']}").text


def test_only_staff_of_the_clinic_handle_its_flags(scene: Setup, app: FastAPI) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    tid = staff_treatment(doc, cid, pat, days_ago=1)
    checkin(pat, tid, 1, 1, ["fever"])
    (flag,) = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()[0]["flags"]
    url = f"/api/v1/clinics/{cid}/flags/{flag['id']}/handled"
    assert pat.client.post(url, json={"note": "x"}, headers=pat.headers).status_code == 403
    other = signup(app, "other@example.org")
    other_cid = create_clinic(other)
    assert other.client.post(url, json={"note": "x"}, headers=other.headers).status_code == 404
    stranger_url = f"/api/v1/clinics/{other_cid}/flags/{flag['id']}/handled"
    assert other.client.post(stranger_url, json={"note": "x"}, headers=other.headers).status_code == 404
    assert doc.client.post(url, json={"note": " "}, headers=doc.headers).status_code == 422


def _days_ago(n: int) -> str:
    import datetime as dt

    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=n)).isoformat()


def test_the_today_card_shows_the_clinic_contact_with_a_red_verdict(scene: Setup) -> None:
    pat = scene.pat
    tid = staff_treatment(scene.doc, scene.cid, pat, days_ago=1)
    page = pat.client.get(f"/treatments/{tid}").text
    assert CONTACT.split(" · ")[0] not in page  # nothing to call about yet
    checkin(pat, tid, 1, 1, ["fever"])
    page = pat.client.get(f"/treatments/{tid}").text
    assert "Your clinic, Skin Studio: Call 030 1234 5678" in page


def test_a_recovery_that_turns_off_course_alerts_once_until_handled(
    scene: Setup, smtp: Sink, ctx: WebContext
) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    tid = staff_treatment(doc, cid, pat, days_ago=12)
    add_photo(ctx, pat, tid, -1, 0.50, baseline=True)
    for day, index in ((1, 1.50), (3, 1.45), (6, 1.40), (10, 1.38)):  # still red after day 7
        add_photo(ctx, pat, tid, day, index)
    assert checkin(pat, tid, 12, 1, []) not in dashboard.RED_FLAGS  # the next look raises the flag
    subjects = alerts_in(smtp)
    assert len(subjects) == 1
    assert "recovery off course" in subjects[0]
    (row,) = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    (flag,) = row["flags"]
    assert flag["kind"] == "off_course"
    assert row["status"] == "attention"
    checkin(pat, tid, 12, 1, [])
    assert len(alerts_in(smtp)) == 1  # the same event: no second mail
    r = doc.client.post(
        f"/api/v1/clinics/{cid}/flags/{flag['id']}/handled",
        json={"note": "Seen; topical plan."},
        headers=doc.headers,
    )
    assert r.status_code == 200
    (row,) = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert row["flags"] == []
    assert row["outside_expected"] is True  # the measurement still says so ...
    assert row["status"] == "on_track"  # ... but staff have dealt with it
    checkin(pat, tid, 12, 1, [])
    assert len(alerts_in(smtp)) == 1  # handled flags are not mailed again


def test_no_alert_mail_without_an_alert_address_but_the_flag_shows(app: FastAPI, smtp: Sink) -> None:
    doc = signup(app, "doc@example.org")
    cid = create_clinic(doc)
    pat = join(app, doc, cid, "pat@example.org", "patient", "Pat")
    tid = staff_treatment(doc, cid, pat, days_ago=1)
    before = len(smtp.received)
    checkin(pat, tid, 1, 1, ["fever"])
    assert len(smtp.received) == before
    (row,) = doc.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert [f["urgency"] for f in row["flags"]] == ["same_day"]


def test_a_photo_analysis_that_shows_an_off_course_recovery_alerts_at_once(
    scene: Setup, smtp: Sink, ctx: WebContext
) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    tid = staff_treatment(doc, cid, pat, days_ago=12)
    add_photo(ctx, pat, tid, -1, 0.50, baseline=True)
    for day, index in ((1, 1.50), (3, 1.45), (6, 1.40), (10, 1.38)):
        add_photo(ctx, pat, tid, day, index)
    assert alerts_in(smtp) == []
    photos.alert_clinics(ctx.jobs.ctx, pat.uid)  # what the analysis job does once it stored a measurement
    assert len(alerts_in(smtp)) == 1
    photos.alert_clinics(ctx.jobs.ctx, pat.uid)  # a duplicated job message
    assert len(alerts_in(smtp)) == 1


def test_the_jobs_of_the_web_app_and_of_the_workers_raise_the_clinic_alerts(ctx: WebContext) -> None:
    from needlecare.cli.jobs import job_context

    assert ctx.jobs.ctx.clinic_alerts is alerts.sync
    assert job_context(ctx.settings).clinic_alerts is alerts.sync


@pytest.mark.parametrize("address", ["a@", "not an address", "x" * 330 + "@example.org"])
def test_an_alert_address_that_cannot_be_mailed_is_refused(app: FastAPI, address: str) -> None:
    doc = signup(app, "doc@example.org")
    cid = create_clinic(doc)
    r = doc.client.patch(f"/api/v1/clinics/{cid}", json={"alert_email": address}, headers=doc.headers)
    assert r.status_code == 422
    r = doc.client.patch(
        f"/api/v1/clinics/{cid}", json={"alert_email": " Alerts@Example.org "}, headers=doc.headers
    )
    assert r.json()["clinic"]["alert_email"] == "alerts@example.org"
    r = doc.client.patch(f"/api/v1/clinics/{cid}", json={"alert_email": None}, headers=doc.headers)
    assert r.json()["clinic"]["alert_email"] is None
