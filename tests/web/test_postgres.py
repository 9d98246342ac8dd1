"""The web app on the real PostgreSQL server: the main flows and account deletion with cascades."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from starlette.testclient import TestClient

from needlecare.storage.db import make_engine
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import AuditEvent, CheckIn, Treatment, User
from needlecare.web.app import create_app
from needlecare.web.context import WebContext

from .conftest import PASSWORD, TREATMENT, api_signup, api_treatment, make_settings, new_client

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_app(tmp_path: Path) -> Iterator[FastAPI]:
    """The app on a fresh PostgreSQL schema of its own, migrated by Alembic."""
    schema = f"w_{uuid.uuid4().hex[:16]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(POSTGRES_URL, schema=schema)
    try:
        with engine.begin() as conn:
            upgrade(POSTGRES_URL, connection=conn)
        yield create_app(make_settings(tmp_path, database_url=POSTGRES_URL), engine=engine)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_flows_and_account_deletion_on_postgres(pg_app: FastAPI) -> None:
    ctx: WebContext = pg_app.state.ctx
    assert ctx.engine.dialect.name == "postgresql"
    with new_client(pg_app) as client:
        headers = api_signup(client)
        tid = api_treatment(client, headers, treated_on="2026-11-01")
        for day, rating in ((0, 4), (1, 3), (2, 2), (3, 1)):
            on = f"2026-11-0{day + 1}"
            r = client.post(
                f"/api/v1/treatments/{tid}/checkins",
                json={"self_rating": rating, "symptoms": ["flaking"], "checked_on": on},
                headers=headers,
            )
            assert r.status_code == 201, r.text
        timeline = client.get(f"/api/v1/treatments/{tid}/timeline").json()
        assert timeline["self_report"]["fit"]["classification"] == "expected"
        with new_client(pg_app) as other:
            api_signup(other, "b@example.org")
            assert other.get(f"/api/v1/treatments/{tid}").status_code == 404
        r = client.post("/api/v1/auth/delete-account", json={"password": PASSWORD}, headers=headers)
        assert r.status_code == 204
    with ctx.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 1  # only b is left
        for model in (Treatment, CheckIn):
            assert db.scalar(select(func.count()).select_from(model)) == 0
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == 1  # b's account_created


def test_login_on_postgres(pg_app: FastAPI) -> None:
    with TestClient(pg_app, base_url="https://testserver") as client:
        api_signup(client, "Case@Example.org")
    with new_client(pg_app) as client:
        token = client.get("/api/v1/auth/session").json()["csrf_token"]
        r = client.post(
            "/api/v1/auth/login",
            json={"email": "case@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": token},
        )
        assert r.status_code == 200


def test_nul_characters_get_422_on_postgres(pg_app: FastAPI) -> None:
    """PostgreSQL refuses NUL in text: login, sign-up, notes and clinic names answer 422, never 500."""
    with new_client(pg_app) as client:
        anonymous = {"X-CSRF-Token": client.get("/api/v1/auth/session").json()["csrf_token"]}
        nul = "a\x00b@example.org"
        for url in ("/api/v1/auth/login", "/api/v1/auth/signup"):
            r = client.post(url, json={"email": nul, "password": PASSWORD}, headers=anonymous)
            assert r.status_code == 422, (url, r.text)
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        r = client.post("/login", data={"csrf_token": token, "email": nul, "password": PASSWORD})
        assert r.status_code == 422
        headers = api_signup(client)
        r = client.post("/api/v1/treatments", json={**TREATMENT, "notes": "x\x00"}, headers=headers)
        assert r.status_code == 422
        r = client.post(
            "/api/v1/clinics", json={"name": "A\x00", "emergency_contact": "+1 555"}, headers=headers
        )
        assert r.status_code == 422
        r = client.patch("/api/v1/treatments/1", json={"notes": "\x00"}, headers=headers)
        assert r.status_code == 422
        assert client.get("/api/v1/treatments").json() == []
