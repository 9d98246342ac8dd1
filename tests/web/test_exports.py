"""Export downloads (pages and API): only the logged-in user's own data, never anyone else's."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select
from starlette.testclient import TestClient

from exports.pdftext import text as pdf_text  # tests/exports: reads the compressed PDF's text
from needlecare.storage.models import AuditEvent
from needlecare.web.context import WebContext

from .conftest import api_signup, api_treatment, api_upload, new_client, page_csrf

KINDS = ("measurements.csv", "checkins.csv", "fhir.json", "report.pdf")


@dataclass
class Patient:
    """A signed-up user with a treatment, one uploaded photo and one check-in."""

    client: TestClient
    email: str
    uid: int
    treatment: int
    photo: int
    checkin: int


def _patient(client: TestClient, email: str, face: bytes, consent: str) -> Patient:
    headers = api_signup(client, email)
    tid = api_treatment(client, headers, treated_on="2026-11-20")
    r = api_upload(client, headers, tid, face, consent, taken_on="2026-11-21")
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    r = client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": 2, "checked_on": "2026-11-22", "symptoms": ["flaking"]},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    uid = client.get("/api/v1/auth/me").json()["id"]
    return Patient(client, email, uid, tid, pid, r.json()["id"])


@pytest.fixture
def ann(client: TestClient, faces_dir: Path) -> Patient:
    return _patient(client, "ann@example.org", (faces_dir / "obama-480p.jpg").read_bytes(), "clinician")


@pytest.fixture
def bob(app: FastAPI, faces_dir: Path) -> Patient:
    return _patient(new_client(app), "bob@example.org", (faces_dir / "biden.jpg").read_bytes(), "private")


def _csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))


@pytest.mark.parametrize("prefix", ["", "/api/v1"])
def test_each_export_holds_only_the_users_data(ann: Patient, bob: Patient, prefix: str) -> None:
    for me, other in ((ann, bob), (bob, ann)):
        rows = _csv(me.client.get(f"{prefix}/export/measurements.csv").content)
        assert [(r["photo_id"], r["treatment_id"]) for r in rows] == [(str(me.photo), str(me.treatment))]
        assert float(rows[0]["index"]) > 0
        rows = _csv(me.client.get(f"{prefix}/export/checkins.csv").content)
        assert [(r["checkin_id"], r["symptoms"]) for r in rows] == [(str(me.checkin), "flaking")]

        r = me.client.get(f"{prefix}/export/fhir.json")
        bundle = Bundle.model_validate(json.loads(r.content))  # the library accepts what the server sent
        resources = [e.resource for e in bundle.entry]
        (patient,) = [x for x in resources if x.get_resource_type() == "Patient"]
        assert patient.telecom[0].value == me.email
        media = [x.content.url for x in resources if x.get_resource_type() == "Media"]
        assert media == [
            f"https://testserver/api/v1/photos/{me.photo}/image",
            f"https://testserver/api/v1/photos/{me.photo}/heatmap",
        ]
        assert me.client.get(media[1].removeprefix("https://testserver")).status_code == 200
        assert other.email not in r.text

        pdf = me.client.get(f"{prefix}/export/report.pdf").content
        assert pdf.startswith(b"%PDF")
        shown = pdf_text(pdf)
        assert f"Patient: {me.email}" in shown
        assert other.email not in shown
    # consent decides the thumbnails: Ann shares with her practitioner, Bob keeps his photo private
    assert ann.client.get(f"{prefix}/export/report.pdf").content.count(b"/Subtype /Image") == 2  # + heatmap
    assert bob.client.get(f"{prefix}/export/report.pdf").content.count(b"/Subtype /Image") == 0


def test_account_page_links_the_downloads_with_their_headers_and_media_types(ann: Patient) -> None:
    expected = {
        "measurements.csv": "text/csv; charset=utf-8; header=present",
        "checkins.csv": "text/csv; charset=utf-8; header=present",
        "fhir.json": "application/fhir+json; fhirVersion=4.0",
        "report.pdf": "application/pdf",
    }
    account = ann.client.get("/account").text
    section = account[
        account.index('id="downloads"') : account.index("</section>", account.index('id="downloads"'))
    ]
    assert "Download my data" in section
    links = re.findall(r'<a href="(/export/[^"]+)" download>', section)
    assert sorted(links) == sorted(f"/export/{kind}" for kind in expected)
    for link in links:  # each link on the page downloads the user's file
        r = ann.client.get(link)
        assert r.status_code == 200, link
        assert r.headers["content-type"] == expected[link.removeprefix("/export/")]
    for kind, media_type in expected.items():
        for prefix in ("", "/api/v1"):
            r = ann.client.get(f"{prefix}/export/{kind}")
            assert r.status_code == 200, (prefix, kind)
            assert r.headers["content-type"] == media_type
            assert r.headers["cache-control"] == "private, no-store"
            disposition = r.headers["content-disposition"]
            assert disposition.startswith('attachment; filename="needlecare-')
            assert disposition.endswith(f'.{kind.rsplit(".", 1)[1]}"')


def test_one_treatment_and_someone_elses_is_not_found(ann: Patient, bob: Patient) -> None:
    rows = _csv(ann.client.get(f"/api/v1/export/measurements.csv?treatment_id={ann.treatment}").content)
    assert [r["photo_id"] for r in rows] == [str(ann.photo)]
    for kind in KINDS:
        r = bob.client.get(f"/api/v1/export/{kind}?treatment_id={ann.treatment}")
        assert r.status_code == 404, kind
        assert r.json()["code"] == "not_found"
        page = bob.client.get(f"/export/{kind}?treatment_id={ann.treatment}")
        assert page.status_code == 404
        assert "ann@example.org" not in page.text
    assert ann.client.get("/api/v1/export/checkins.csv?treatment_id=0").status_code == 422


def test_not_logged_in(app: FastAPI, ann: Patient) -> None:
    with new_client(app) as anonymous:
        for kind in KINDS:
            r = anonymous.get(f"/api/v1/export/{kind}")
            assert r.status_code == 401, kind
            assert r.json()["code"] == "not_authenticated"
            page = anonymous.get(f"/export/{kind}")
            assert page.status_code == 303
            assert page.headers["location"] == "/login"
    # after logging out, the old session cookie no longer exports anything
    client = ann.client
    csrf = client.get("/api/v1/auth/session").json()["csrf_token"]
    assert client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf}).status_code in (200, 204)
    assert client.get("/api/v1/export/fhir.json").status_code == 401


def test_every_download_is_in_the_audit_trail(ctx: WebContext, ann: Patient, bob: Patient) -> None:
    for kind in KINDS:
        assert ann.client.get(f"/export/{kind}").status_code == 200
    assert ann.client.get(f"/api/v1/export/report.pdf?treatment_id={ann.treatment}").status_code == 200
    with ctx.sessions() as db:
        events = db.scalars(select(AuditEvent).where(AuditEvent.action == "data_export")).all()
        logged = [(e.user_id, e.detail) for e in events]
    assert logged == [
        *[(ann.uid, {"format": kind}) for kind in KINDS],
        (ann.uid, {"format": "report.pdf", "treatment_id": ann.treatment}),
    ]


def test_the_name_entered_for_reports_is_on_the_pdf_and_in_fhir(ann: Patient) -> None:
    client = ann.client
    token = page_csrf(client, "/account")
    assert "pat@" not in pdf_text(client.get("/export/report.pdf").content)
    assert f"Patient: {ann.email}." in re.sub(r"\s+", " ", pdf_text(client.get("/export/report.pdf").content))
    r = client.post("/account/name", data={"csrf_token": token, "display_name": "  Ann   Müller-Lee "})
    assert r.status_code == 200
    assert "Your name for reports was saved." in r.text
    assert 'value="Ann Müller-Lee"' in r.text
    flat = re.sub(r"\s+", " ", pdf_text(client.get("/export/report.pdf").content))
    assert f"Patient: Ann Müller-Lee ({ann.email})." in flat
    bundle = client.get("/export/fhir.json").json()
    [patient] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert patient["name"] == [{"use": "usual", "text": "Ann Müller-Lee"}]
    Bundle.model_validate(bundle)  # still valid FHIR
    too_long = client.post("/account/name", data={"csrf_token": token, "display_name": "x" * 121})
    assert too_long.status_code == 422
    assert 'id="display_name-error"' in too_long.text
    assert "120 characters or fewer" in too_long.text
    client.post("/account/name", data={"csrf_token": token, "display_name": ""})
    bundle = client.get("/export/fhir.json").json()
    [patient] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"]
    assert "name" not in patient
