"""Every mail and page builds its links from one public URL; ``serve`` derives it from the address it serves
on when ``NEEDLECARE_PUBLIC_URL`` is unset, and says so at start-up."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from fastapi import FastAPI

from jobs.conftest import Sink
from needlecare.cli.web import with_public_url
from needlecare.jobs.scheduler import tick
from needlecare.settings import Settings
from needlecare.web.context import WebContext

from .clinic_setup import checkin, create_clinic, signup, staff_treatment
from .conftest import PASSWORD, api_csrf, api_treatment, make_settings, new_client, page_csrf

PORT = 8765
PUBLIC = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The app as ``needlecare serve --port 8765`` configures it with no NEEDLECARE_PUBLIC_URL."""
    return with_public_url(make_settings(tmp_path, public_url=None), host=None, port=PORT)


def links(sink: Sink) -> dict[str, list[str]]:
    """Every absolute link of each mail, by subject."""
    out: dict[str, list[str]] = {}
    for mail in sink.received:
        body = mail.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        out.setdefault(str(mail["Subject"]), []).extend(re.findall(r"https?://[^\s<>\"]+", text))
    return out


def test_serve_settings_derive_the_public_url_from_the_address_served_on(tmp_path: Path) -> None:
    assert with_public_url(make_settings(tmp_path, public_url=None), host=None, port=PORT).base_url == PUBLIC
    wildcard = with_public_url(make_settings(tmp_path, public_url=None), host="0.0.0.0", port=80)
    assert wildcard.base_url.startswith("http://")
    assert "0.0.0.0" not in wildcard.base_url
    configured = make_settings(tmp_path, public_url="https://care.example/")
    assert with_public_url(configured, host=None, port=PORT).base_url == "https://care.example"


def test_links_in_every_mail_kind_and_the_calendar_url_use_the_public_url(
    app: FastAPI, ctx: WebContext, smtp: Sink
) -> None:
    # sign-up (verification), the owner's note on a second sign-up, password reset
    with new_client(app) as c:
        h = {"X-CSRF-Token": api_csrf(c)}
        c.post("/api/v1/auth/signup", json={"email": "new@example.org", "password": PASSWORD}, headers=h)
        c.post("/api/v1/auth/signup", json={"email": "new@example.org", "password": PASSWORD}, headers=h)
        c.post("/api/v1/auth/password/forgot", json={"email": "new@example.org"}, headers=h)
    # clinic: invitation, aftercare, correction, alert
    doc = signup(app, "doc@example.org")
    cid = create_clinic(doc)
    doc.client.patch(
        f"/api/v1/clinics/{cid}", json={"alert_email": "alerts@example.org"}, headers=doc.headers
    )
    pat = signup(app, "pat@example.org")
    r = doc.client.post(
        f"/api/v1/clinics/{cid}/invitations",
        json={"email": "pat@example.org", "role": "patient"},
        headers=doc.headers,
    )
    assert r.json()["link"].startswith(f"{PUBLIC}/clinics/join?token=")
    token = r.json()["link"].split("token=")[1]
    r = pat.client.post(
        "/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=pat.headers
    )
    assert r.status_code == 200
    tid = staff_treatment(doc, cid, pat, days_ago=1)
    r = doc.client.patch(
        f"/api/v1/clinics/{cid}/patients/{pat.uid}/treatments/{tid}", json={"passes": 2}, headers=doc.headers
    )
    assert r.status_code == 200
    checkin(pat, tid, 1, 1, ["fever"])
    # newsletter confirmation
    with new_client(app) as reader:
        data = {
            "email": "reader@example.org",
            "consent": "yes",
            "consent_version": re.search(
                r'name="consent_version" value="([^"]+)"', reader.get("/newsletter").text
            ).group(1),  # type: ignore[union-attr]
            "csrf_token": page_csrf(reader, "/newsletter"),
        }
        assert reader.post("/newsletter", data=data).status_code == 200
    # a reminder, as the scheduler sends it (08:00 in the treatment's zone)
    own = api_treatment(pat.client, pat.headers, treated_on="2026-11-20", timezone="UTC")
    assert own
    tick(ctx.jobs, dt.datetime(2026, 11, 23, 8, 5, tzinfo=dt.UTC))

    found = links(smtp)
    kinds = {
        "Confirm your e-mail address",
        "Your needlecare account",
        "Reset your needlecare password",
        "Skin Studio invites you to needlecare",
        "Skin Studio corrected your treatment",
        "needlecare alert",
        "newsletter",
        "reminder",
    }
    for kind in kinds:
        matching = [s for s in found if kind.lower() in s.lower()] or (
            [s for s in found if "day 3" in s.lower()] if kind == "reminder" else []
        )
        assert matching, f"no {kind!r} mail among {sorted(found)}"
        urls = [u for s in matching for u in found[s]]
        assert urls, kind
        assert all(u.startswith(PUBLIC + "/") for u in urls if "example" not in u), (kind, urls)
    calendar = pat.client.get("/api/v1/reminders").json()["calendar_url"]
    assert calendar.startswith(f"{PUBLIC}/calendar/")
