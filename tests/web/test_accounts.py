"""Accounts through pages and API: sign-up, login, logout, password change, deletion, CSRF, rate limit."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import func, select
from starlette.testclient import TestClient

from needlecare.storage.models import AuditEvent, User
from needlecare.web.context import WebContext

from .conftest import PASSWORD, api_csrf, api_signup, new_client, page_csrf, verify_token

NEW_PASSWORD = "new pass phrase twelve"


def test_page_signup_then_the_verification_link_sets_secure_httponly_cookie_and_logs_in(
    client: TestClient, ctx: WebContext, app: FastAPI
) -> None:
    token = page_csrf(client, "/signup")
    r = client.post("/signup", data={"email": " Ann@Example.org ", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200
    assert "Check your inbox" in r.text
    assert client.get("/api/v1/auth/me").status_code == 401  # sign-up alone does not log in
    r = client.get(f"/account/verify?token={verify_token(app, 'ann@example.org')}")
    assert r.status_code == 200
    assert "Address confirmed" in r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "Secure" in cookie
    assert "SameSite=Lax" in cookie
    assert "Your treatments" in client.get("/").text
    with ctx.sessions() as db:
        user = db.scalars(select(User)).one()
    assert user.email == "ann@example.org"
    assert user.password_hash.startswith("$argon2id$")


def test_post_without_csrf_token_is_refused(client: TestClient, ctx: WebContext) -> None:
    r = client.post("/signup", data={"email": "ann@example.org", "password": PASSWORD})
    assert r.status_code == 403
    assert "expired" in r.text
    r = client.post(
        "/signup", data={"email": "ann@example.org", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert r.status_code == 403
    with ctx.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 0


def test_api_unsafe_method_needs_csrf_header(client: TestClient) -> None:
    r = client.post("/api/v1/auth/signup", json={"email": "ann@example.org", "password": PASSWORD})
    assert r.status_code == 403
    assert r.json()["code"] == "csrf_failed"
    headers = api_signup(client)
    assert client.post("/api/v1/auth/logout").status_code == 403
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204


def test_csrf_token_is_bound_to_the_session(app: FastAPI) -> None:
    with new_client(app) as a, new_client(app) as b:
        token_a = api_csrf(a)
        api_csrf(b)
        r = b.post(
            "/api/v1/auth/signup",
            json={"email": "x@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": token_a},
        )
        assert r.status_code == 403


def test_login_logout_and_session_revocation(app: FastAPI) -> None:
    with new_client(app) as a:
        api_signup(a)
        stolen = a.cookies.get("needlecare_session")
        me = a.get("/api/v1/auth/me")
        assert me.json()["email"] == "ann@example.org"
        a.post("/logout", data={"csrf_token": page_csrf(a, "/account")})
        assert a.get("/api/v1/auth/me").status_code == 401
    with new_client(app) as thief:
        thief.cookies.set("needlecare_session", stolen or "")
        assert thief.get("/api/v1/auth/me").status_code == 401
    with new_client(app) as a:
        token = page_csrf(a, "/login")
        r = a.post("/login", data={"email": "ANN@example.org", "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 303
        assert a.get("/api/v1/auth/me").status_code == 200


def test_wrong_password_and_unknown_account_look_the_same(client: TestClient) -> None:
    api_signup(client, "ann@example.org")
    with new_client(client.app) as other:  # type: ignore[arg-type]
        h = {"X-CSRF-Token": api_csrf(other)}
        wrong = other.post(
            "/api/v1/auth/login", json={"email": "ann@example.org", "password": "nope"}, headers=h
        )
        unknown = other.post(
            "/api/v1/auth/login", json={"email": "bob@example.org", "password": "nope"}, headers=h
        )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_login_rate_limit_per_account_and_ip(client: TestClient, settings: object) -> None:
    api_signup(client)
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": api_csrf(client)})
    h = {"X-CSRF-Token": api_csrf(client)}
    for _ in range(5):
        r = client.post(
            "/api/v1/auth/login", json={"email": "ann@example.org", "password": "wrong"}, headers=h
        )
        assert r.status_code == 401
    r = client.post("/api/v1/auth/login", json={"email": "ann@example.org", "password": PASSWORD}, headers=h)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    # the page refuses too, while another account from the same address can still log in
    token = page_csrf(client, "/login")
    r = client.post("/login", data={"email": "ann@example.org", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429
    assert "Too many" in r.text
    api_signup(client, "bob@example.org")
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": api_csrf(client)})
    h = {"X-CSRF-Token": api_csrf(client)}
    r = client.post("/api/v1/auth/login", json={"email": "bob@example.org", "password": PASSWORD}, headers=h)
    assert r.status_code == 200


def test_change_password(client: TestClient) -> None:
    headers = api_signup(client)
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": "bad", "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert r.status_code == 401
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=headers,
    )
    assert r.status_code == 204
    assert client.get("/api/v1/auth/me").status_code == 200  # this session continues
    with new_client(client.app) as other:  # type: ignore[arg-type]
        h = {"X-CSRF-Token": api_csrf(other)}
        old = other.post(
            "/api/v1/auth/login", json={"email": "ann@example.org", "password": PASSWORD}, headers=h
        )
        new = other.post(
            "/api/v1/auth/login", json={"email": "ann@example.org", "password": NEW_PASSWORD}, headers=h
        )
    assert old.status_code == 401
    assert new.status_code == 200


def test_change_password_page(client: TestClient) -> None:
    api_signup(client)
    token = page_csrf(client, "/account")
    r = client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": "short", "csrf_token": token}
    )
    assert r.status_code == 422
    assert "new_password" in r.text
    r = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "zebra lamp orbit", "csrf_token": token},
    )
    assert r.status_code == 200
    assert "password was changed" in r.text


def test_delete_account_removes_rows(client: TestClient, ctx: WebContext) -> None:
    api_signup(client)
    token = page_csrf(client, "/account")
    assert client.post("/account/delete", data={"password": "wrong", "csrf_token": token}).status_code == 401
    r = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200
    assert "deleted" in r.text
    with ctx.sessions() as db:
        assert db.scalar(select(func.count()).select_from(User)) == 0
        assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0
    assert client.get("/api/v1/auth/me").status_code == 401


def test_signup_answers_the_same_whether_or_not_the_address_has_an_account(
    client: TestClient, app: FastAPI, ctx: WebContext
) -> None:
    api_signup(client)
    with new_client(app) as other:
        taken = other.post(
            "/api/v1/auth/signup",
            json={"email": "ANN@example.org", "password": "another pass phrase"},
            headers={"X-CSRF-Token": api_csrf(other)},
        )
        free = other.post(
            "/api/v1/auth/signup",
            json={"email": "bob@example.org", "password": "another pass phrase"},
            headers={"X-CSRF-Token": api_csrf(other)},
        )
        assert other.get("/api/v1/auth/me").status_code == 401
    assert taken.status_code == free.status_code == 202
    assert taken.json() == free.json()
    with ctx.sessions() as db:
        ann = db.scalars(select(User).where(User.email == "ann@example.org")).one()
        attempts = db.scalars(select(AuditEvent.action).where(AuditEvent.user_id == ann.id)).all()
    assert "signup_attempt_existing" in attempts
    # the existing account's password is unchanged
    with new_client(app) as third:
        h = {"X-CSRF-Token": api_csrf(third)}
        ok = third.post(
            "/api/v1/auth/login", json={"email": "ann@example.org", "password": PASSWORD}, headers=h
        )
    assert ok.status_code == 200


def test_pages_need_login(client: TestClient) -> None:
    r = client.get("/account")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"


def test_openapi_schema_lists_the_api(client: TestClient) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    assert "/auth/login" in schema["paths"]
    assert all(not p.startswith("/account") for p in schema["paths"])


def test_security_headers(client: TestClient) -> None:
    r = client.get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_no_cdn_backed_docs_pages(client: TestClient) -> None:
    assert client.get("/api/v1/docs").status_code == 404
    assert "cdn" not in client.get("/login").text.lower()
