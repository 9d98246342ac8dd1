"""Web test fixtures: a migrated SQLite app per test, API and page helpers."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import select
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette 1.x suggests the httpx2 package for its test client; httpx (a project dependency) still works.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from jobs.conftest import Sink, free_port, mail_settings
from needlecare.mail import Mailer
from needlecare.settings import Settings
from needlecare.storage.models import User, utcnow
from needlecare.web.accounts import service as accounts
from needlecare.web.accounts.tokens import AccountTokens
from needlecare.web.app import create_app
from needlecare.web.context import WebContext

PASSWORD = "correct horse battery"


def make_settings(tmp_path: Path, **overrides: object) -> Settings:
    """Test settings: files under *tmp_path*, cheap argon2 parameters, a fixed secret."""
    values: dict[str, object] = {
        "environment": "test",
        "job_runner": "inline",
        "data_dir": tmp_path / "data",
        "database_url": f"sqlite:///{tmp_path / 'data' / 'test.db'}",
        "secret_key": "s" * 48,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 64,
        "max_upload_bytes": 2 * 1024 * 1024,
        # The test client's origin: links in mails and pages are built from the public URL.
        "public_url": "https://testserver",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings, migrate=True)


@pytest.fixture
def ctx(app: FastAPI) -> WebContext:
    context: WebContext = app.state.ctx
    return context


@pytest.fixture
def smtp(ctx: WebContext, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """A real SMTP server (aiosmtpd); the app's mail job sends through it."""
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setattr(ctx.jobs.ctx, "mailer", Mailer(mail_settings(port), ctx.settings.data_dir / "outbox"))
    try:
        yield sink
    finally:
        controller.stop()


def new_client(app: FastAPI) -> TestClient:
    """A separate browser: its own cookie jar."""
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with new_client(app) as c:
        yield c


def api_csrf(client: TestClient) -> str:
    """The session's CSRF token as the API hands it out."""
    token: str = client.get("/api/v1/auth/session").json()["csrf_token"]
    return token


def verify_token(app: FastAPI, email: str) -> str:
    """The token of *email*'s verification link, as the mailed link carries it."""
    ctx: WebContext = app.state.ctx
    with ctx.sessions() as db:
        user = db.scalars(select(User).where(User.email == email.strip().lower())).one()
        return AccountTokens(ctx.settings.resolve_secret()).verify(user)


def api_signup(
    client: TestClient, email: str = "ann@example.org", password: str = PASSWORD
) -> dict[str, str]:
    """A verified account, logged in through the API; returns the headers for further unsafe API calls.

    The account is created as sign-up creates it, with its address already confirmed (no verification mail
    is sent, so tests that count mails see only their own); ``tests/web/test_accounts.py`` covers the
    sign-up and verification flow itself.
    """
    app = client.app
    assert isinstance(app, FastAPI)
    ctx: WebContext = app.state.ctx
    with ctx.sessions() as db:
        user = accounts.create(db, email=email.strip().lower(), password=password, hasher=ctx.hasher)
        user.email_verified_at = utcnow()
        db.commit()
    r = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-CSRF-Token": api_csrf(client)},
    )
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def page_csrf(client: TestClient, path: str = "/login") -> str:
    """The CSRF token embedded in a page's form."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match is not None
    return match.group(1)


TREATMENT = {
    "treated_on": "2026-11-20",
    "device": "pen",
    "depth_mm": 1.0,
    "passes": 3,
    "area": "face",
    "skin_type": 2,
    "sensitive": False,
    "rosacea": False,
    "bleeding": True,
    "prp": False,
    "serum": True,
    "timezone": "Europe/Berlin",
}


def api_treatment(client: TestClient, headers: dict[str, str], **overrides: object) -> int:
    """Create a treatment through the API; returns its id."""
    r = client.post("/api/v1/treatments", json={**TREATMENT, **overrides}, headers=headers)
    assert r.status_code == 201, r.text
    tid: int = r.json()["id"]
    return tid


def api_upload(
    client: TestClient, headers: dict[str, str], tid: int, data: bytes, consent: str = "private", **form: str
) -> httpx.Response:
    """Upload photo bytes to treatment *tid* through the API (``taken_on``, ``is_baseline`` as *form*)."""
    files = {"file": ("face.jpg", data, "image/jpeg")}
    data_fields = {"consent": consent, **form}
    return client.post(f"/api/v1/treatments/{tid}/photos", files=files, data=data_fields, headers=headers)
