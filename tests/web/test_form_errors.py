"""Forms come back filled in with plain-language errors next to their fields, the navigation unchanged."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from needlecare.web import form_errors

from .clinic_setup import create_clinic, join, signup
from .conftest import api_signup, api_treatment, page_csrf


def _field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
    assert match is not None, f"no error next to {field}"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).removeprefix("Error: ").strip()


def _logged_in_nav(page: str) -> bool:
    return "Log out" in page and 'href="/signup"' not in page


def _today() -> str:
    return dt.date.today().isoformat()


def test_treatment_form_keeps_what_was_typed_and_marks_each_bad_field(client: TestClient) -> None:
    api_signup(client)
    form = {
        "csrf_token": page_csrf(client, "/treatments/new"), "treated_on": "2026-11-20", "device": "rf",
        "depth_mm": "abc", "passes": "0", "area": "neck", "skin_type": "5", "rosacea": "true",
        "timezone": "Europe/Berlin", "notes": "Felt warm & tight",
    }  # fmt: skip
    r = client.post("/treatments", data=form)
    assert r.status_code == 422
    assert _field_error(r.text, "depth_mm") == "Please enter a number."
    assert _field_error(r.text, "passes") == "Please enter 1 or more."
    assert "treated_on-error" not in r.text
    assert 'id="depth_mm" name="depth_mm" aria-invalid="true" aria-describedby="depth_mm-error"' in r.text
    # The summary links each problem to its field, under the label the form shows.
    assert '<a href="#depth_mm">Needle depth</a>: Please enter a number.' in r.text
    assert "Please correct these 2 things" in r.text
    # Everything typed is still there, the box still ticked, the select still on the choice.
    assert 'value="2026-11-20"' in r.text
    assert '<option value="rf" selected>' in r.text
    assert '<option value="neck" selected>' in r.text
    assert re.search(r'<option value="5" selected>', r.text)
    assert re.search(r'name="rosacea" value="true" checked', r.text)
    assert not re.search(r'name="sensitive" value="true" checked', r.text)
    assert "Felt warm &amp; tight</textarea>" in r.text
    assert 'value="Europe/Berlin"' in r.text
    assert "depth_mm:" not in r.text
    assert "Input should be" not in r.text
    assert _logged_in_nav(r.text)
    assert client.get("/api/v1/treatments").json() == []  # nothing stored


def test_a_corrected_form_saves(client: TestClient) -> None:
    api_signup(client)
    token = page_csrf(client, "/treatments/new")
    form = {
        "csrf_token": token, "treated_on": "2026-11-20", "device": "pen", "depth_mm": "1.0", "passes": "two",
        "area": "face", "skin_type": "2", "timezone": "UTC",
    }  # fmt: skip
    r = client.post("/treatments", data=form)
    assert r.status_code == 422
    assert _field_error(r.text, "passes") == "Please enter a whole number."
    token_again = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
    assert token_again is not None
    fixed = client.post("/treatments", data={**form, "passes": "2", "csrf_token": token_again.group(1)})
    assert fixed.status_code == 303
    assert [t["passes"] for t in client.get("/api/v1/treatments").json()] == [2]


def test_edit_form_with_an_error_shows_the_unticked_box_unticked(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, bleeding=True, timezone="UTC")
    edit = {
        "csrf_token": page_csrf(client, f"/treatments/{tid}/edit"), "treated_on": "2026-11-20",
        "device": "pen", "depth_mm": "9", "passes": "3", "area": "face", "skin_type": "2", "timezone": "UTC",
    }  # fmt: skip
    r = client.post(f"/treatments/{tid}/edit", data=edit)
    assert r.status_code == 422
    assert _field_error(r.text, "depth_mm").startswith("Please enter ")
    assert not re.search(r'name="bleeding" value="true" checked', r.text)
    assert 'value="9"' in r.text
    assert f'action="/treatments/{tid}/edit"' in r.text
    assert client.get(f"/api/v1/treatments/{tid}").json()["bleeding"] is True


def test_checkin_without_a_rating_keeps_the_ticked_symptoms(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=_today(), timezone="UTC")
    token = page_csrf(client, f"/treatments/{tid}/checkins/new")
    data = {"csrf_token": token, "checked_on": _today(), "symptoms": ["pus", "warmth"]}
    r = client.post(f"/treatments/{tid}/checkins", data=data)
    assert r.status_code == 422
    assert _field_error(r.text, "self_rating") == "Please fill this in."
    assert re.search(r'value="pus" checked', r.text)
    assert re.search(r'value="warmth" checked', r.text)
    assert not re.search(r'value="itch" checked', r.text)
    assert _logged_in_nav(r.text)
    assert client.get(f"/api/v1/treatments/{tid}/checkins").json() == []


def test_checkin_dated_after_today_is_refused_inline(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on=_today(), timezone="UTC")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    data = {"csrf_token": page_csrf(client, f"/treatments/{tid}/checkins/new"), "checked_on": tomorrow,
            "self_rating": "2"}  # fmt: skip
    r = client.post(f"/treatments/{tid}/checkins", data=data)
    assert r.status_code == 422
    assert "after today" in _field_error(r.text, "checked_on")
    assert re.search(r'name="self_rating" value="2" required checked', r.text)
    assert client.get(f"/api/v1/treatments/{tid}/checkins").json() == []


@pytest.mark.parametrize("baseline", [False, True])
def test_photo_dates_are_checked_against_the_treatment(
    client: TestClient, faces_dir: Path, baseline: bool
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on="2026-11-20", timezone="UTC")
    token = page_csrf(client, f"/treatments/{tid}/photos/new")
    form = {"csrf_token": token, "consent": "clinician", "taken_on": "2026-10-19"}
    if baseline:
        form["is_baseline"] = "true"
    files = {"file": ("face.jpg", (faces_dir / "obama-480p.jpg").read_bytes(), "image/jpeg")}
    r = client.post(f"/treatments/{tid}/photos", data=form, files=files)
    if baseline:  # a baseline is the photo from before the treatment
        assert r.status_code == 303
        return
    assert r.status_code == 422
    message = _field_error(r.text, "taken_on")
    assert "before the treatment (20 Nov 2026)" in message
    assert "baseline" in message
    assert 'value="2026-10-19"' in r.text
    assert re.search(r'value="clinician" required checked', r.text)
    assert client.get(f"/api/v1/treatments/{tid}/photos").json() == []


def test_photo_dated_in_the_future_or_not_a_photo_is_refused_inline(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on="2026-11-20", timezone="UTC")
    token = page_csrf(client, f"/treatments/{tid}/photos/new")
    later = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    form = {"csrf_token": token, "consent": "private", "taken_on": later}
    r = client.post(f"/treatments/{tid}/photos", data=form, files={"file": ("a.jpg", b"x", "image/jpeg")})
    assert r.status_code == 422
    assert "after today" in _field_error(r.text, "taken_on")
    form["taken_on"] = _today()
    r = client.post(
        f"/treatments/{tid}/photos", data=form, files={"file": ("a.jpg", b"not a photo", "image/jpeg")}
    )
    assert r.status_code == 415
    assert _field_error(r.text, "file")  # the reason next to the photo field
    assert '<a href="#file">Photo</a>' in r.text
    assert client.get(f"/api/v1/treatments/{tid}/photos").json() == []


def test_the_api_answers_the_same_date_rules_in_json(client: TestClient) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on="2026-11-20", timezone="UTC")
    r = client.post(
        f"/api/v1/treatments/{tid}/photos",
        data={"consent": "private", "taken_on": "2026-11-01"},
        files={"file": ("a.jpg", b"x", "image/jpeg")},
        headers=headers,
    )
    assert r.status_code == 422
    assert "before the treatment" in r.json()["detail"]


def test_error_pages_keep_the_navigation_and_name_a_refusal_plainly(app: FastAPI) -> None:
    admin = signup(app, "admin@example.org")
    cid = create_clinic(admin)
    patient = join(app, admin, cid, "pat@example.org", "patient")
    page = patient.client.get(f"/clinics/{cid}/dashboard")
    assert page.status_code == 403
    assert "Form expired" not in page.text
    assert "Not allowed here" in page.text
    assert _logged_in_nav(page.text)
    missing = patient.client.get("/treatments/999999")
    assert missing.status_code == 404
    assert _logged_in_nav(missing.text)


def test_plain_messages_cover_the_usual_pydantic_errors() -> None:
    cases = {
        "missing": ({}, "Please fill this in."),
        "string_too_long": ({"max_length": 2000}, "Please keep this to 2000 characters or fewer."),
        "too_long": ({"max_length": 3}, "Please choose at most 3."),
        "string_too_short": ({"min_length": 10}, "Please write at least 10 characters."),
        "less_than_equal": ({"le": 3.5}, "Please enter 3.5 or less."),
        "greater_than_equal": ({"ge": 1}, "Please enter 1 or more."),
        "greater_than": ({"gt": 0}, "Please enter more than 0."),
        "less_than": ({"lt": 10}, "Please enter less than 10."),
        "literal_error": ({}, "Please choose one of the options."),
        "date_from_datetime_parsing": ({}, "Please enter a date (for example 2026-05-31)."),
    }
    for kind, (ctx, expected) in cases.items():
        assert form_errors.plain_message({"type": kind, "ctx": ctx, "msg": "raw"}) == expected
    custom = {"type": "value_error", "msg": "Value error, Unknown time zone 'Mars/Base'."}
    assert form_errors.plain_message(custom) == "Unknown time zone 'Mars/Base'."
    assert form_errors.field_of({"loc": ("body", "depth_mm")}) == "depth_mm"
    assert form_errors.field_of({"loc": ("body",)}) == form_errors.FORM_WIDE
