"""Per-user isolation: user B can never read, change or delete user A's data, through pages or API (404)."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from needlecare.storage.models import CheckIn, Photo, Treatment
from needlecare.web.context import WebContext

from .conftest import api_signup, api_treatment, new_client, page_csrf


@pytest.fixture
def a_data(client: TestClient, ctx: WebContext) -> dict[str, int]:
    """User A with a treatment, a photo (row and file) and a check-in."""
    headers = api_signup(client, "a@example.org")
    tid = api_treatment(client, headers, treated_on="2026-11-01")
    r = client.post(
        f"/api/v1/treatments/{tid}/checkins",
        json={"self_rating": 2, "checked_on": "2026-11-02"},
        headers=headers,
    )
    cid = r.json()["id"]
    uid = client.get("/api/v1/auth/me").json()["id"]
    relpath = ctx.store.new_relpath(uid)
    ctx.store.publish(ctx.store.stage(b"\xff\xd8\xff not really a jpeg"), relpath)
    with ctx.sessions() as db:
        photo = Photo(
            user_id=uid, treatment_id=tid, taken_on=dt.date(2026, 11, 2), day=1, consent="private",
            file_path=relpath, width=1, height=1, analysis={"redness": {"index": 0.7, "unit": "OD_hb"}},
        )  # fmt: skip
        db.add(photo)
        db.commit()
        pid = photo.id
    assert client.get(f"/api/v1/photos/{pid}/image").status_code == 200  # A can read it
    return {"t": tid, "p": pid, "c": cid}


def _counts(ctx: WebContext) -> tuple[int, int, int, int]:
    with ctx.sessions() as db:
        rows = tuple(db.scalar(select(func.count()).select_from(m)) or 0 for m in (Treatment, Photo, CheckIn))
    return (*rows, ctx.store.count_files())  # type: ignore[return-value]


def test_api_isolation(app: FastAPI, ctx: WebContext, a_data: dict[str, int]) -> None:
    t, p, c = a_data["t"], a_data["p"], a_data["c"]
    before = _counts(ctx)
    with new_client(app) as b:
        h = api_signup(b, "b@example.org")
        attempts = [
            ("GET", f"/api/v1/treatments/{t}", None), ("PATCH", f"/api/v1/treatments/{t}", {"passes": 9}),
            ("DELETE", f"/api/v1/treatments/{t}", None), ("GET", f"/api/v1/treatments/{t}/plan", None),
            ("GET", f"/api/v1/treatments/{t}/plan.ics", None),
            ("GET", f"/api/v1/treatments/{t}/timeline", None),
            ("GET", f"/api/v1/treatments/{t}/photos", None),
            ("GET", f"/api/v1/treatments/{t}/checkins", None),
            ("POST", f"/api/v1/treatments/{t}/checkins", {"self_rating": 1, "checked_on": "2026-11-03"}),
            ("GET", f"/api/v1/photos/{p}", None), ("GET", f"/api/v1/photos/{p}/image", None),
            ("DELETE", f"/api/v1/photos/{p}", None), ("GET", f"/api/v1/checkins/{c}", None),
            ("DELETE", f"/api/v1/checkins/{c}", None),
        ]  # fmt: skip
        for method, url, body in attempts:
            r = b.request(method, url, json=body, headers=h)
            assert r.status_code == 404, (method, url, r.status_code)
            assert r.json()["code"] == "not_found"
        upload = b.post(
            f"/api/v1/treatments/{t}/photos",
            files={"file": ("x.jpg", b"\xff\xd8\xff", "image/jpeg")},
            data={"consent": "private"},
            headers=h,
        )
        assert upload.status_code == 404
        assert b.get("/api/v1/treatments").json() == []
    assert _counts(ctx) == before


def test_page_isolation(app: FastAPI, ctx: WebContext, a_data: dict[str, int]) -> None:
    t, p, c = a_data["t"], a_data["p"], a_data["c"]
    before = _counts(ctx)
    with new_client(app) as b:
        api_signup(b, "b@example.org")
        for url in (
            f"/treatments/{t}", f"/treatments/{t}/photos/new", f"/treatments/{t}/checkins/new",
            f"/treatments/{t}/timeline", f"/treatments/{t}/plan.ics", f"/photos/{p}", f"/photos/{p}/image",
            f"/photos/{p}/face", f"/photos/{p}/delete", f"/treatments/{t}/delete", f"/checkins/{c}",
            f"/ingredients?treatment={t}",
        ):  # fmt: skip
            r = b.get(url)
            assert r.status_code == 404, url
            assert "not yours" in r.text
        token = page_csrf(b, "/account")
        for url, form in (
            (f"/treatments/{t}/delete", {}), (f"/photos/{p}/delete", {}),
            (f"/treatments/{t}/checkins", {"self_rating": "1"}),
        ):  # fmt: skip
            r = b.post(url, data={"csrf_token": token, **form})
            assert r.status_code == 404, url
        assert f"/treatments/{t}" not in b.get("/").text
    assert _counts(ctx) == before


def test_anonymous_gets_nothing(app: FastAPI, a_data: dict[str, int]) -> None:
    with new_client(app) as anon:
        assert anon.get(f"/api/v1/treatments/{a_data['t']}").status_code == 401
        assert anon.get(f"/api/v1/photos/{a_data['p']}/image").status_code == 401
        r = anon.get(f"/photos/{a_data['p']}/image")
        assert r.status_code == 303
        assert r.headers["location"] == "/login"
