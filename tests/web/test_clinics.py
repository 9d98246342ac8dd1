"""Clinics end to end: create, invite, accept with consent, staff record a treatment, aftercare, dashboard."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from needlecare.settings import Settings
from needlecare.storage.clinics import ClinicMembership, ClinicMessage
from needlecare.storage.models import AuditEvent, MailDelivery
from needlecare.web.context import WebContext

from .clinic_setup import (
    CONTACT,
    Member,
    add_photo,
    checkin,
    create_clinic,
    join,
    signup,
    staff_treatment,
    today,
)
from .conftest import TREATMENT, page_csrf


def _outbox(settings: Settings) -> dict[tuple[str, str], email.message.EmailMessage]:
    """Sent mail by (recipient, subject)."""
    out = {}
    for path in (settings.data_dir / "outbox").glob("*.eml"):
        mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(mail, email.message.EmailMessage)
        out[str(mail["To"]), str(mail["Subject"])] = mail
    return out


def test_whole_flow_through_the_pages(app: FastAPI, ctx: WebContext, settings: Settings) -> None:
    admin = signup(app, "admin@clinic.example")
    token = page_csrf(admin.client, "/clinics")
    r = admin.client.post(
        "/clinics", data={"csrf_token": token, "name": "Skin Studio", "emergency_contact": CONTACT}
    )
    assert r.status_code == 303
    cid = int(r.headers["location"].rsplit("/", 1)[1])
    page = admin.client.get(f"/clinics/{cid}")
    assert "You are admin here." in page.text

    # the admin invites a clinician and a patient through the form; the link is shown and e-mailed
    links = {}
    for mail_to, role in (("doc@clinic.example", "clinician"), ("pat@example.org", "patient")):
        r = admin.client.post(
            f"/clinics/{cid}/invitations",
            data={"csrf_token": token, "email": mail_to, "role": role, "name": f"{role} one"},
        )
        assert r.status_code == 201
        match = re.search(r'<code class="invite-link">([^<]+)</code>', r.text)
        assert match is not None
        links[role] = match.group(1).replace("&amp;", "&")
    sent = _outbox(settings)
    subject = "Skin Studio invites you to needlecare"
    assert sorted(sent) == [("doc@clinic.example", subject), ("pat@example.org", subject)]
    assert links["patient"] in sent["pat@example.org", subject].get_content()

    doc, pat = signup(app, "doc@clinic.example"), signup(app, "pat@example.org")
    for member, role in ((doc, "clinician"), (pat, "patient")):
        path = links[role].removeprefix("https://testserver")
        join_page = member.client.get(path)
        assert join_page.status_code == 200
        assert ("may see my treatments, photos and check-ins" in join_page.text) == (role == "patient")
        form = {"csrf_token": page_csrf(member.client, path), "token": path.split("token=")[1]}
        if role == "patient":  # the consent box is never pre-ticked; without it the patient cannot join
            assert "checked" not in join_page.text
            assert member.client.post("/clinics/join", data=form).status_code == 422
            form["consent"] = "true"
        r = member.client.post("/clinics/join", data=form)
        assert r.status_code == 303
        assert r.headers["location"] == f"/clinics/{cid}"
    with ctx.sessions() as db:
        consent = db.scalars(
            select(AuditEvent).where(
                AuditEvent.user_id == pat.uid, AuditEvent.action == "clinic_consent_given"
            )
        ).one()
        assert consent.detail["clinic_id"] == cid
        assert consent.detail["scope"] == ["treatments", "photos", "checkins"]
        assert "Skin Studio" in consent.detail["text"]

    # the clinician records a treatment for the patient through the form
    new = doc.client.get(f"/clinics/{cid}/patients/{pat.uid}/treatments/new")
    assert "Record a treatment for patient one" in new.text
    form = {
        k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in TREATMENT.items() if v is not False
    }
    form |= {"csrf_token": page_csrf(doc.client, f"/clinics/{cid}"), "treated_on": today().isoformat()}
    r = doc.client.post(f"/clinics/{cid}/patients/{pat.uid}/treatments", data=form)
    assert r.status_code == 303
    assert r.headers["location"] == f"/clinics/{cid}/dashboard"

    # the aftercare e-mail: plan, emergency contact and the .ics attachment
    mail = _outbox(settings)["pat@example.org", "Your aftercare from Skin Studio"]
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert CONTACT in text
    assert "Day 0 (" in text
    assert "Do:" in text
    assert "Avoid:" in text
    ics = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert len(ics) == 1
    assert ics[0].get_content().startswith("BEGIN:VCALENDAR")

    # the patient sees the treatment and the aftercare in the app
    tid = pat.client.get("/api/v1/treatments").json()[0]["id"]
    listing = pat.client.get("/clinics").text
    match = re.search(r'href="/clinics/aftercare/(\d+)"', listing)
    assert match is not None
    shown = pat.client.get(f"/clinics/aftercare/{match.group(1)}")
    assert shown.status_code == 200
    assert "Example Street 1, Berlin" in shown.text
    assert f'href="/treatments/{tid}/plan.ics"' in shown.text
    # a phone shows today's card first, the message as sent folded below it
    assert shown.text.index('class="card today') < shown.text.index("<details>")
    assert f'aria-labelledby="today-{tid}"' in shown.text
    assert "<summary>The full message from" in shown.text
    api = pat.client.get("/api/v1/clinics/aftercare").json()
    assert [(m["treatment_id"], m["emergency_contact"]) for m in api] == [(tid, CONTACT)]
    assert api[0]["sent_at"] is not None

    dash = doc.client.get(f"/clinics/{cid}/dashboard")
    assert dash.status_code == 200
    assert f'data-patient="{pat.uid}"' in dash.text


@dataclass
class Scene:
    """A clinic id, its clinician and the patients' user ids (red flag, slow, on track, long recovered)."""

    cid: int
    doc: Member
    ids: tuple[int, int, int, int]


@pytest.fixture
def clinic(app: FastAPI, ctx: WebContext) -> Scene:
    """A clinic with a clinician and four patients: on track, red flag, slow recovery, and long recovered."""
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    doc = join(app, admin, cid, "doc@clinic.example", "clinician")
    paula = join(app, doc, cid, "paula@example.org", "patient", "Paula Ok")
    rex = join(app, doc, cid, "rex@example.org", "patient", "Rex Fever")
    olga = join(app, doc, cid, "olga@example.org", "patient", "Olga Slow")
    tom = join(app, doc, cid, "tom@example.org", "patient", "Tom Done")

    t_paula = staff_treatment(doc, cid, paula, days_ago=2)
    assert checkin(paula, t_paula, 2, 1, []) == "expected"
    t_rex = staff_treatment(doc, cid, rex, days_ago=1)
    assert checkin(rex, t_rex, 1, 2, ["fever"]) == "same_day"
    t_olga = staff_treatment(doc, cid, olga, days_ago=12)
    add_photo(ctx, olga, t_olga, -1, 0.50, baseline=True)
    for day, index in ((1, 1.50), (3, 1.45), (6, 1.40), (10, 1.38)):
        add_photo(ctx, olga, t_olga, day, index)
    staff_treatment(doc, cid, tom, days_ago=40)
    return Scene(cid, doc, (rex.uid, olga.uid, paula.uid, tom.uid))


def test_dashboard_orders_red_flag_and_slow_recovery_on_top(clinic: Scene) -> None:
    doc, cid = clinic.doc, clinic.cid
    rex, olga, paula, _tom = clinic.ids
    r = doc.client.get(f"/api/v1/clinics/{cid}/dashboard")
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [row["patient_id"] for row in rows] == [rex, olga, paula]  # Tom's treatment is 40 days old
    by_id = {row["patient_id"]: row for row in rows}
    assert by_id[rex]["red_flag"]
    assert by_id[rex]["status"] == "attention"
    assert by_id[rex]["triage"]["urgency"] == "same_day"
    assert by_id[rex]["day"] == 1
    olga_row = by_id[olga]
    assert olga_row["day"] == 12
    assert not olga_row["red_flag"]
    assert olga_row["redness"]["status"] == "outside_window"
    assert olga_row["redness"]["excess"] == pytest.approx(1.38 - 0.50)
    assert olga_row["redness"]["day"] == 10
    assert olga_row["recovery"]["classification"] == "slower_than_expected"
    assert olga_row["outside_expected"]
    assert olga_row["status"] == "attention"
    assert olga_row["expected"]["outside_expected_after_days"] == 7
    assert by_id[paula]["status"] == "on_track"
    assert by_id[paula]["redness"]["status"] == "no_photo"
    assert by_id[paula]["triage"]["urgency"] == "expected"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=attention", ["rex", "olga"]),
        ("status=on_track", ["paula"]),
        ("urgency=same_day", ["rex"]),
        ("urgency=expected", ["paula"]),
        ("q=OLGA", ["olga"]),
        ("q=paula%40example", ["paula"]),
        ("q=slow&status=on_track", []),
    ],
)
def test_dashboard_filters_and_search(clinic: Scene, query: str, expected: list[str]) -> None:
    doc, cid = clinic.doc, clinic.cid
    r = doc.client.get(f"/api/v1/clinics/{cid}/dashboard?{query}")
    assert r.status_code == 200
    assert [row["email"].split("@")[0] for row in r.json()] == expected
    page = doc.client.get(f"/clinics/{cid}/dashboard?{query}")
    assert re.findall(r'data-patient="(\d+)"', page.text) == [str(row["patient_id"]) for row in r.json()]


def test_dashboard_rejects_unknown_filters(clinic: Scene) -> None:
    doc, cid = clinic.doc, clinic.cid
    r = doc.client.get(f"/api/v1/clinics/{cid}/dashboard?urgency=panic")
    assert r.status_code == 422


def test_membership_and_message_rows(app: FastAPI, ctx: WebContext, clinic: Scene) -> None:
    cid = clinic.cid
    with ctx.sessions() as db:
        roles = db.scalars(select(ClinicMembership.role).where(ClinicMembership.clinic_id == cid)).all()
        kinds = db.scalars(select(ClinicMessage.kind).where(ClinicMessage.clinic_id == cid)).all()
    assert sorted(roles) == ["admin", "clinician", "patient", "patient", "patient", "patient"]
    assert kinds.count("invitation") == 5
    assert kinds.count("aftercare") == 4


def test_user_deletion_removes_memberships(app: FastAPI, ctx: WebContext) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    staff_treatment(admin, cid, pat, days_ago=0)
    r = pat.client.post(
        "/api/v1/auth/delete-account", json={"password": "correct horse battery"}, headers=pat.headers
    )
    assert r.status_code == 204, r.text
    with ctx.sessions() as db:
        assert db.scalars(select(ClinicMembership).where(ClinicMembership.user_id == pat.uid)).all() == []
        assert db.scalars(select(ClinicMessage).where(ClinicMessage.recipient_id == pat.uid)).all() == []
    assert admin.client.get(f"/api/v1/clinics/{cid}/patients").json() == []


def test_unmailable_invitation_address_is_refused(app: FastAPI) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    for address in ("a,b@example.org", "<>@example.org", "a(b@example.org"):
        r = admin.client.post(
            f"/api/v1/clinics/{cid}/invitations",
            json={"email": address, "role": "patient"},
            headers=admin.headers,
        )
        assert r.status_code == 422, address
    assert admin.client.get(f"/api/v1/clinics/{cid}/invitations").json() == []


def test_failed_aftercare_delivery_stays_on_the_mail_job_and_is_retried_with_its_ics(
    app: FastAPI, ctx: WebContext, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    with ctx.sessions() as db:  # the invitations went through the mail job
        keys = db.scalars(select(MailDelivery.key).where(MailDelivery.status == "sent")).all()
        assert len(keys) == 1
        assert keys[0].startswith("clinic-message:")
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("the outbox cannot be created here")
    monkeypatch.setattr(ctx.jobs.ctx.mailer, "outbox", blocker / "outbox")
    tid = staff_treatment(admin, cid, pat, days_ago=0)
    received = pat.client.get("/api/v1/clinics/aftercare").json()
    assert [(m["treatment_id"], m["sent_at"]) for m in received] == [(tid, None)]
    assert CONTACT in received[0]["body"]
    assert "has not gone out yet" in pat.client.get(f"/clinics/aftercare/{received[0]['id']}").text
    key = f"clinic-message:{received[0]['id']}"
    with ctx.sessions() as db:
        delivery = db.scalars(select(MailDelivery).where(MailDelivery.key == key)).one()
        assert (delivery.status, delivery.attempts) == ("retrying", 1)
        assert (delivery.user_id, delivery.treatment_id, delivery.attachment) == (
            pat.uid,
            tid,
            "aftercare.ics",
        )
        assert delivery.body == received[0]["body"]
    monkeypatch.setattr(ctx.jobs.ctx.mailer, "outbox", settings.data_dir / "outbox")
    assert ctx.jobs.enqueue(
        "send_mail", delivery.id
    )  # the retry (the scheduler's sweep does this in production)
    mail = _outbox(settings)["pat@example.org", "Your aftercare from Skin Studio"]
    (ics,) = list(mail.iter_attachments())
    assert (ics.get_content_type(), ics.get_filename()) == ("text/calendar", "aftercare.ics")
    assert ics.get_content().startswith("BEGIN:VCALENDAR")
    sent = pat.client.get("/api/v1/clinics/aftercare").json()[0]["sent_at"]
    assert sent is not None
    assert "has not gone out yet" not in pat.client.get(f"/clinics/aftercare/{received[0]['id']}").text


def test_future_and_old_treatments_are_not_in_recovery(app: FastAPI) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    later = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=3)).isoformat()
    r = admin.client.post(
        f"/api/v1/clinics/{cid}/patients/{pat.uid}/treatments",
        json={**TREATMENT, "treated_on": later, "timezone": "UTC"},
        headers=admin.headers,
    )
    assert r.status_code == 422  # a treatment is recorded once it took place, never ahead
    staff_treatment(admin, cid, pat, days_ago=31)
    assert admin.client.get(f"/api/v1/clinics/{cid}/dashboard").json() == []
    tid = staff_treatment(admin, cid, pat, days_ago=30)
    rows = admin.client.get(f"/api/v1/clinics/{cid}/dashboard").json()
    assert [(r["treatment_id"], r["day"]) for r in rows] == [(tid, 30)]


def test_staff_read_a_patient_record_without_the_pictures(clinic: Scene) -> None:
    doc, cid = clinic.doc, clinic.cid
    _, olga, _, _ = clinic.ids
    r = doc.client.get(f"/api/v1/clinics/{cid}/patients/{olga}")
    assert r.status_code == 200, r.text
    rec = r.json()
    assert rec["patient"]["name"] == "Olga Slow"
    [item] = rec["treatments"]
    assert item["treatment"]["day"] == 12
    assert [(m["day"], m["is_baseline"], m["redness_index"]) for m in item["measurements"]] == [
        (-1, True, 0.50), (1, False, 1.50), (3, False, 1.45), (6, False, 1.40), (10, False, 1.38),
    ]  # fmt: skip
    assert item["timeline"]["photos"]["fit"]["classification"] == "slower_than_expected"
    assert "/image" not in r.text
    page = doc.client.get(f"/clinics/{cid}/patients/{olga}")
    assert page.status_code == 200
    assert "Recovery: Healing more slowly than expected" in page.text
    assert "redness index 1.380" in page.text
    assert "<img" not in page.text


def test_staff_see_which_photos_are_not_comparable_with_the_baseline(app: FastAPI, ctx: WebContext) -> None:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    pat = join(app, admin, cid, "pat@example.org", "patient")
    tid = staff_treatment(admin, cid, pat, days_ago=3)
    add_photo(ctx, pat, tid, -1, 0.5, baseline=True)
    add_photo(ctx, pat, tid, 1, 0.9, comparable=True)
    add_photo(ctx, pat, tid, 2, 1.2, comparable=False)
    rec = admin.client.get(f"/api/v1/clinics/{cid}/patients/{pat.uid}").json()
    [item] = rec["treatments"]
    assert [m["comparable_with_baseline"] for m in item["measurements"]] == [None, True, False]
    assert [p["used"] for p in item["timeline"]["photos"]["points"]] == [True, False]
    page = admin.client.get(f"/clinics/{cid}/patients/{pat.uid}").text
    assert page.count("not comparable with the baseline photo: other light, or more than one face") == 1
