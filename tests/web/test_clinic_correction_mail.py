"""A patient is mailed once (through the mail job, against a real SMTP server) when staff of the clinic that
recorded their treatment correct it: which clinic, which fields, old and new values; no mail when nothing
changed, when the correction is refused, or when the patient edits it themselves."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from jobs.conftest import Sink
from needlecare.storage.clinics import ClinicMessage
from needlecare.storage.models import MailDelivery
from needlecare.web.context import WebContext

from .clinic_setup import Member, checkin, create_clinic, join, signup, staff_treatment
from .conftest import TREATMENT, api_treatment, page_csrf
from .forms import FormFields

PLAN_FOLLOWS = (
    "Your day-by-day aftercare plan, its calendar and your daily reminders now follow the corrected values. "
    "The aftercare e-mail Skin Studio sent you earlier was written with the values from before; the "
    "treatment's page shows the corrected plan."
)


@dataclass
class Scene:
    """Skin Studio (admin, clinician) with patient Pat, for whom the clinician recorded a treatment on 20 Nov
    2026 (conftest's TREATMENT, Europe/Berlin); Other Clinic's admin."""

    cid: int
    admin: Member
    doc: Member
    pat: Member
    tid: int
    other: Member
    other_cid: int


@pytest.fixture
def scene(app: FastAPI, smtp: Sink) -> Scene:
    admin = signup(app, "admin@clinic.example")
    cid = create_clinic(admin)
    doc = join(app, admin, cid, "doc@clinic.example", "clinician")
    pat = join(app, doc, cid, "pat@example.org", "patient", "Pat")
    r = doc.client.post(
        f"/api/v1/clinics/{cid}/patients/{pat.uid}/treatments", json=TREATMENT, headers=doc.headers
    )
    assert r.status_code == 201, r.text
    other = signup(app, "admin@other.example")
    other_cid = create_clinic(other, "Other Clinic")
    return Scene(cid, admin, doc, pat, r.json()["treatment_id"], other, other_cid)


def _corrections(sink: Sink) -> list[EmailMessage]:
    return [m for m in sink.received if m["Subject"].startswith("Skin Studio corrected your treatment")]


def _text(mail: EmailMessage) -> str:
    """The plain-text body with the line ends it was written with."""
    body = mail.get_body(("plain",))
    assert body is not None
    text: str = body.get_content()
    return text.replace("\r\n", "\n")


def _logged(ctx: WebContext) -> int:
    """How many correction notes were logged."""
    with ctx.sessions() as db:
        stmt = select(func.count()).select_from(ClinicMessage).where(ClinicMessage.kind == "correction")
        return db.scalar(stmt) or 0


def _patch(staff: Member, cid: int, patient: Member, tid: int, body: dict[str, object]) -> int:
    url = f"/api/v1/clinics/{cid}/patients/{patient.uid}/treatments/{tid}"
    return staff.client.patch(url, json=body, headers=staff.headers).status_code


def test_the_patient_is_mailed_once_which_fields_the_clinic_corrected(
    scene: Scene, ctx: WebContext, smtp: Sink
) -> None:
    s = scene
    sent = len(smtp.received)  # the invitations and the aftercare
    correction = {"treated_on": "2026-11-05", "device": "rf", "depth_mm": 1.5, "passes": 3, "skin_type": 4,
                  "bleeding": False, "serum": True}  # fmt: skip
    assert _patch(s.doc, s.cid, s.pat, s.tid, correction) == 200

    (mail,) = _corrections(smtp)
    assert len(smtp.received) == sent + 1
    assert mail["To"] == "pat@example.org"
    assert mail["Subject"] == "Skin Studio corrected your treatment of 5 November 2026"
    link = f"{ctx.settings.base_url}/treatments/{s.tid}"
    assert _text(mail) == (
        "Hello Pat,\n"
        "\n"
        "Skin Studio corrected the record of your microneedling treatment in needlecare:\n"
        "\n"
        "  - Date of treatment: 20 November 2026 → 5 November 2026\n"
        "  - Device: Microneedling pen → Radiofrequency microneedling\n"
        "  - Needle depth: 1 mm → 1.5 mm\n"
        "  - Skin type (Fitzpatrick): II – usually burns → IV – rarely burns\n"
        "  - Pinpoint bleeding during treatment: yes → no\n"
        "\n"
        f"{PLAN_FOLLOWS}\n"
        "\n"
        "See the corrected treatment and today's aftercare:\n"
        f"{link}\n"
        "\n"
        "If something in the correction looks wrong, please contact Skin Studio.\n"
    )  # passes and serum were sent unchanged: not listed
    page = s.pat.client.get(link.removeprefix(ctx.settings.base_url))
    assert page.status_code == 200
    assert "Treatment of 05 Nov 2026" in page.text

    with ctx.sessions() as db:
        message = db.scalars(select(ClinicMessage).where(ClinicMessage.kind == "correction")).one()
        assert (message.clinic_id, message.recipient_id, message.treatment_id, message.to_email) == (
            s.cid,
            s.pat.uid,
            s.tid,
            "pat@example.org",
        )
        assert (message.subject, message.body) == (mail["Subject"], _text(mail))
        delivery = db.get(MailDelivery, message.delivery_id)
        assert delivery is not None
        assert (delivery.key, delivery.status, delivery.attempts, delivery.user_id, delivery.attachment) == (
            f"clinic-message:{message.id}",
            "sent",
            1,
            s.pat.uid,
            None,
        )

    assert ctx.jobs.enqueue("send_mail", delivery.id)  # a duplicated job sends nothing again
    assert _patch(s.doc, s.cid, s.pat, s.tid, correction) == 200  # the same correction again: nothing changes
    assert len(smtp.received) == sent + 1
    assert _logged(ctx) == 1


def test_a_correction_through_the_clinic_page_mails_the_patient(
    scene: Scene, ctx: WebContext, smtp: Sink
) -> None:
    s = scene
    edit = f"/clinics/{s.cid}/patients/{s.pat.uid}/treatments/{s.tid}/edit"
    page = s.admin.client.get(edit).text
    assert "the patient gets a short e-mail from Skin Studio listing what changed." in " ".join(page.split())
    form = FormFields(edit)
    form.feed(page)
    r = s.admin.client.post(edit, data=form.fields)  # resubmitted unchanged: nobody is mailed
    assert r.status_code == 303
    assert _corrections(smtp) == []

    notes = (
        "Healing well.\nReview   in two weeks; keep the SPF 50 on every morning, also on cloudy days, please."
    )
    r = s.admin.client.post(edit, data={**form.fields, "timezone": "UTC", "rosacea": "true", "notes": notes})
    assert (r.status_code, r.headers["location"]) == (303, f"/clinics/{s.cid}/patients/{s.pat.uid}")
    (mail,) = _corrections(smtp)
    assert mail["Subject"] == "Skin Studio corrected your treatment of 20 November 2026"
    text = _text(mail)
    changes = (
        "  - Rosacea: no → yes\n"
        "  - Time zone: Europe/Berlin → UTC\n"
        '  - Notes: none → "Healing well. Review in two weeks; keep the SPF 50 on every morning, also on…"\n'
    )
    assert f"needlecare:\n\n{changes}\n{PLAN_FOLLOWS}\n" in text
    assert "Date of treatment" not in text

    # only the notes: the plan and the reminders do not change, and the note says so
    r = s.admin.client.post(edit, data={**form.fields, "timezone": "UTC", "rosacea": "true", "notes": ""})
    assert r.status_code == 303
    _, second = _corrections(smtp)
    text = _text(second)
    assert (
        '  - Notes: "Healing well. Review in two weeks; keep the SPF 50 on every morning, also on…" → none\n'
        in text
    )
    assert (
        "Your aftercare plan and your daily reminders do not depend on the notes and stay as they were."
        in text
    )
    assert "now follow the corrected values" not in text
    assert _logged(ctx) == 2


def test_no_mail_for_a_refused_or_unchanged_correction_or_the_patients_own_edit(
    app: FastAPI, scene: Scene, ctx: WebContext, smtp: Sink
) -> None:
    s = scene
    own = api_treatment(s.pat.client, s.pat.headers)  # the patient recorded this one themselves
    b_pat = join(app, s.other, s.other_cid, "bea@example.org", "patient")
    b_tid = staff_treatment(s.other, s.other_cid, b_pat, days_ago=1)
    checkin(s.pat, s.tid, days_after=1, rating=2, symptoms=[])  # on 21 Nov
    sent = len(smtp.received)

    attempts = [
        (s.doc, s.cid, s.pat, s.tid, {"depth_mm": 1.0, "device": "pen"}, 200),  # the values it has
        (s.doc, s.cid, s.pat, s.tid, {}, 200),
        (s.doc, s.cid, s.pat, s.tid, {"depth_mm": 9}, 422),  # out of range
        (
            s.doc,
            s.cid,
            s.pat,
            s.tid,
            {"treated_on": "2026-11-22", "depth_mm": 1.5},
            422,
        ),  # after the check-in
        (s.doc, s.cid, s.pat, own, {"depth_mm": 1.5}, 404),  # not recorded by the clinic
        (s.other, s.other_cid, s.pat, s.tid, {"depth_mm": 1.5}, 404),  # another clinic's admin
        (s.other, s.cid, s.pat, s.tid, {"depth_mm": 1.5}, 404),  # ... through this clinic
        (s.doc, s.cid, b_pat, b_tid, {"depth_mm": 1.5}, 404),  # not a patient of this clinic
        (s.pat, s.cid, s.pat, s.tid, {"depth_mm": 1.5}, 403),  # a patient member is not staff
    ]
    for staff, cid, patient, tid, body, status in attempts:
        assert _patch(staff, cid, patient, tid, body) == status, (staff.email, tid, body)
    edit = f"/clinics/{s.cid}/patients/{s.pat.uid}/treatments/{s.tid}/edit"
    form = FormFields(edit)
    form.feed(s.admin.client.get(edit).text)
    assert s.admin.client.post(edit, data={**form.fields, "passes": "99"}).status_code == 422
    assert s.admin.client.post(edit, data={**form.fields, "device": "laser"}).status_code == 422
    token = page_csrf(s.other.client, "/clinics")
    r = s.other.client.post(edit, data={**form.fields, "depth_mm": "1.5", "csrf_token": token})
    assert r.status_code == 404

    # the patient's own correction of the treatment the clinic recorded: theirs, nobody to tell
    r = s.pat.client.patch(f"/api/v1/treatments/{s.tid}", json={"depth_mm": 1.5}, headers=s.pat.headers)
    assert r.status_code == 200
    assert r.json()["depth_mm"] == 1.5

    assert len(smtp.received) == sent
    assert _corrections(smtp) == []
    assert _logged(ctx) == 0
    with ctx.sessions() as db:
        assert db.scalar(select(func.count()).select_from(MailDelivery)) == sent


def test_the_patient_keeps_the_correction_note_in_the_app(scene: Scene, ctx: WebContext) -> None:
    s = scene
    assert _patch(s.doc, s.cid, s.pat, s.tid, {"depth_mm": 1.5}) == 200
    listed = s.pat.client.get("/api/v1/clinics/aftercare", headers=s.pat.headers).json()
    assert [m["kind"] for m in listed] == ["correction", "aftercare"]  # newest first
    note = listed[0]
    assert note["subject"] == "Skin Studio corrected your treatment of 20 November 2026"
    assert "Needle depth: 1 mm → 1.5 mm" in note["body"]
    assert note["treatment_id"] == s.tid
    page = s.pat.client.get("/clinics")
    assert f'href="/clinics/aftercare/{note["id"]}"' in page.text
    assert '<span class="tag">correction</span>' in page.text
    shown = s.pat.client.get(f"/clinics/aftercare/{note['id']}")
    assert shown.status_code == 200
    assert "Needle depth: 1 mm → 1.5 mm" in shown.text
    assert "Add the corrected plan to my calendar" in shown.text
    # Staff see it in their clinic, not in their own inbox; nobody else can open it.
    assert s.doc.client.get(f"/clinics/aftercare/{note['id']}").status_code == 404
    assert s.doc.client.get("/api/v1/clinics/aftercare", headers=s.doc.headers).json() == []
