"""Password reset by e-mail, e-mail verification, per-session logout and the password policy, through the real
app and the SMTP sink."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from starlette.testclient import TestClient

from jobs.conftest import Sink
from needlecare.storage.models import EndedSession, utcnow
from needlecare.web.accounts import passwords, tokens
from needlecare.web.context import WebContext

from .clinic_setup import create_clinic, invite, signup
from .conftest import PASSWORD, api_csrf, api_signup, api_treatment, new_client, page_csrf, verify_token
from .reminder_runs import record_reminders

NEW = "violet tram under snow"


def link_in(sink: Sink, to: str, path: str) -> str:
    """The path and query of the last link to *path* mailed to *to*."""
    for mail in reversed(sink.received):
        if mail["To"] == to:
            match = re.search(rf"https?://[^\s/]+({re.escape(path)}\?token=\S+)", mail.get_content())
            if match:
                return match.group(1)
    raise AssertionError(f"no {path} link mailed to {to}")


def forgot(client: TestClient, email: str) -> dict[str, str]:
    r = client.post(
        "/api/v1/auth/password/forgot", json={"email": email}, headers={"X-CSRF-Token": api_csrf(client)}
    )
    assert r.status_code == 202
    answer: dict[str, str] = r.json()
    return answer


def login(app: FastAPI, password: str) -> int:
    with new_client(app) as c:
        r = c.post(
            "/api/v1/auth/login",
            json={"email": "ann@example.org", "password": password},
            headers={"X-CSRF-Token": api_csrf(c)},
        )
        return r.status_code


def test_password_reset_end_to_end(app: FastAPI, smtp: Sink) -> None:
    with new_client(app) as phone, new_client(app) as laptop:
        api_signup(phone)
        api_signup_again = laptop.post(
            "/api/v1/auth/login",
            json={"email": "ann@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": api_csrf(laptop)},
        )
        assert api_signup_again.status_code == 200
        with new_client(app) as stranger:
            known = forgot(stranger, "Ann@example.org")
            unknown = forgot(stranger, "nobody@example.org")
            assert known == unknown  # the same answer whether or not the address has an account
            assert [m["To"] for m in smtp.received] == ["ann@example.org"]  # nobody else was mailed

            path = link_in(smtp, "ann@example.org", "/password/reset")
            form = stranger.get(path)
            assert form.status_code == 200
            token = path.split("token=", 1)[1]
            data = {"csrf_token": page_csrf(stranger, path), "token": token, "new_password": "password12"}
            r = stranger.post("/password/reset", data=data)
            assert r.status_code == 422  # the policy applies to resets: the link is still usable
            assert "most common" in r.text
            r = stranger.post("/password/reset", data=data | {"new_password": NEW})
            assert r.status_code == 200
            assert "Password changed" in r.text
            # single use
            data["csrf_token"] = page_csrf(stranger, path)  # the session was renewed
            again = stranger.post("/password/reset", data=data | {"new_password": "another one entirely"})
            assert again.status_code == 410
        # every session ended
        assert phone.get("/api/v1/auth/me").status_code == 401
        assert laptop.get("/api/v1/auth/me").status_code == 401
    assert login(app, PASSWORD) == 401
    assert login(app, NEW) == 200


def test_reset_link_expired_or_tampered_is_refused(
    app: FastAPI, smtp: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    with new_client(app) as c:
        api_signup(c)
        forgot(c, "ann@example.org")
        token = link_in(smtp, "ann@example.org", "/password/reset").split("token=", 1)[1]
        h = {"X-CSRF-Token": api_csrf(c)}
        tampered = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
        r = c.post("/api/v1/auth/password/reset", json={"token": tampered, "new_password": NEW}, headers=h)
        assert r.status_code == 400
        # a verification token is not a reset token
        other = tokens.AccountTokens(app.state.ctx.settings.resolve_secret())
        with app.state.ctx.sessions() as db:
            from needlecare.storage.models import User

            user = db.get(User, 1)
            assert user is not None
            verify_token = other.verify(user)
        r = c.post(
            "/api/v1/auth/password/reset", json={"token": verify_token, "new_password": NEW}, headers=h
        )
        assert r.status_code == 400
        monkeypatch.setattr(tokens, "RESET_MAX_AGE_S", -1)
        r = c.post("/api/v1/auth/password/reset", json={"token": token, "new_password": NEW}, headers=h)
        assert r.status_code == 410
        assert "expired" in r.json()["detail"]
    assert login(app, PASSWORD) == 200


def test_logout_ends_this_session_only_and_log_out_everywhere_ends_all(app: FastAPI) -> None:
    with new_client(app) as phone, new_client(app) as laptop:
        api_signup(phone)
        stolen = phone.cookies.get("needlecare_session")
        r = laptop.post(
            "/api/v1/auth/login",
            json={"email": "ann@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": api_csrf(laptop)},
        )
        assert r.status_code == 200
        assert phone.post("/logout", data={"csrf_token": page_csrf(phone, "/account")}).status_code == 303
        assert phone.get("/api/v1/auth/me").status_code == 401
        assert laptop.get("/api/v1/auth/me").status_code == 200  # the other session goes on
        with new_client(app) as thief:  # a copy of the ended session's cookie does not work
            thief.cookies.set("needlecare_session", stolen or "")
            assert thief.get("/api/v1/auth/me").status_code == 401
        api_again = new_client(app)
        r = api_again.post(
            "/api/v1/auth/login",
            json={"email": "ann@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": api_csrf(api_again)},
        )
        assert r.status_code == 200
        page = laptop.get("/account")
        assert "Log out everywhere" in page.text
        r = laptop.post("/account/logout-everywhere", data={"csrf_token": page_csrf(laptop, "/account")})
        assert r.status_code == 303
        assert laptop.get("/api/v1/auth/me").status_code == 401
        assert api_again.get("/api/v1/auth/me").status_code == 401


def test_signup_mails_a_verification_link_and_the_owner_of_a_taken_address(
    app: FastAPI, ctx: WebContext, smtp: Sink
) -> None:
    with new_client(app) as c:
        h = {"X-CSRF-Token": api_csrf(c)}
        r = c.post("/api/v1/auth/signup", json={"email": "new@example.org", "password": PASSWORD}, headers=h)
        assert r.status_code == 202
        (mail,) = smtp.received
        assert mail["Subject"] == "Confirm your e-mail address"
        path = link_in(smtp, "new@example.org", "/account/verify")
        # before verification: logging in works, but joining a clinic does not
        r = c.post("/api/v1/auth/login", json={"email": "new@example.org", "password": PASSWORD}, headers=h)
        assert r.status_code == 200
        h = {"X-CSRF-Token": r.json()["csrf_token"]}
        assert c.get("/api/v1/auth/me").json()["email_verified_at"] is None
        admin = signup(app, "admin@example.org")
        cid = create_clinic(admin)
        token = invite(admin, cid, "new@example.org", "patient")
        r = c.post("/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=h)
        assert r.status_code == 403
        assert "Confirm your e-mail address" in r.json()["detail"]
        assert c.get(path).status_code == 200
        assert c.get("/api/v1/auth/me").json()["email_verified_at"] is not None
        assert c.get(path).status_code == 410  # single use
        h = {"X-CSRF-Token": api_csrf(c)}
        r = c.post("/api/v1/clinics/invitations/accept", json={"token": token, "consent": True}, headers=h)
        assert r.status_code == 200
    count = len(smtp.received)
    with new_client(app) as other:
        r = other.post(
            "/api/v1/auth/signup",
            json={"email": "new@example.org", "password": "something else entirely"},
            headers={"X-CSRF-Token": api_csrf(other)},
        )
        assert r.status_code == 202
    owner_note = smtp.received[count]
    assert owner_note["To"] == "new@example.org"
    assert "already has one" in owner_note.get_content()
    assert "/password/forgot" in owner_note.get_content()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password12", "most common"),
        ("1234567890", "most common"),
        (" " * 10, "one character repeated"),
        ("\x00" * 10, "U+0000"),  # refused at the API edge before the policy sees it
        ("ann@example.org", "e-mail address"),
        ("short", "at least 10"),
        ("x" * 129 + "y", "at most 128"),
    ],
)
def test_password_policy_refuses_weak_passwords_with_plain_reasons(
    client: TestClient, password: str, reason: str
) -> None:
    r = client.post(
        "/api/v1/auth/signup",
        json={"email": "ann@example.org", "password": password},
        headers={"X-CSRF-Token": api_csrf(client)},
    )
    assert r.status_code == 422
    assert reason in r.text


def test_password_policy_applies_to_password_change(client: TestClient) -> None:
    headers = api_signup(client)
    r = client.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "ann@example.org"},
        headers=headers,
    )
    assert r.status_code == 422
    assert "e-mail address" in r.text
    assert passwords.problems("correct horse battery staple", email="ann@example.org") == []
    assert passwords.problems("\x00" * 10) == ["A password of one character repeated is too easy to guess."]


def test_no_reminders_before_the_address_is_confirmed(app: FastAPI, ctx: WebContext) -> None:
    with new_client(app) as c:
        h = {"X-CSRF-Token": api_csrf(c)}
        r = c.post("/api/v1/auth/signup", json={"email": "new@example.org", "password": PASSWORD}, headers=h)
        assert r.status_code == 202
        r = c.post("/api/v1/auth/login", json={"email": "new@example.org", "password": PASSWORD}, headers=h)
        headers = {"X-CSRF-Token": r.json()["csrf_token"]}
        api_treatment(c, headers, treated_on="2026-11-20", timezone="UTC")
        assert record_reminders(ctx, "2026-11-23T09:00", sent=False) == []
        assert c.get(f"/account/verify?token={verify_token(app, 'new@example.org')}").status_code == 200
    ((key, _),) = record_reminders(ctx, "2026-11-23T09:00", sent=False)
    assert key.startswith("reminder:")


def test_an_invitation_link_survives_sign_up_and_log_in(app: FastAPI, smtp: Sink) -> None:
    admin = signup(app, "admin@example.org")
    cid = create_clinic(admin)
    token = invite(admin, cid, "new@example.org", "patient")
    here = f"/clinics/join?token={token}"
    with new_client(app) as c:
        page = c.get(here).text
        match = re.search(r'href="(/signup\?next=[^"]+)"', page)
        assert match is not None
        signup_path = match.group(1).replace("&amp;", "&")
        form = c.get(signup_path).text
        assert f'name="next" value="{here}"' in form
        data = {"csrf_token": page_csrf(c, signup_path), "email": "new@example.org", "password": PASSWORD}
        assert c.post("/signup", data=data | {"next": here}).status_code == 200
        r = c.get(link_in(smtp, "new@example.org", "/account/verify"))
        assert r.status_code == 303
        assert r.headers["location"] == here  # back to the invitation, verified and logged in
        assert 'name="consent"' in c.get(here).text  # the join form itself
        c.post("/logout", data={"csrf_token": page_csrf(c, "/account")})
        login_path = re.search(r'href="(/login\?next=[^"]+)"', c.get(here).text)
        assert login_path is not None
        data = {"csrf_token": page_csrf(c, "/login"), "email": "new@example.org", "password": PASSWORD}
        r = c.post("/login", data=data | {"next": here})
        assert r.headers["location"] == here
        data["csrf_token"] = api_csrf(c)  # renewed by the login
        r = c.post("/login", data=data | {"next": "//evil.example/"})  # never off-site
        assert r.headers["location"] == "/"


def test_records_of_ended_sessions_are_dropped_once_their_cookies_expired(
    app: FastAPI, ctx: WebContext
) -> None:
    with new_client(app) as c:
        api_signup(c)
        c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": api_csrf(c)})
        with ctx.sessions() as db:
            (ended,) = db.scalars(select(EndedSession)).all()
            ended.ended_at = utcnow() - dt.timedelta(seconds=ctx.settings.web.session_max_age_s + 1)
            db.commit()
        r = c.post(
            "/api/v1/auth/login",
            json={"email": "ann@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": api_csrf(c)},
        )
        assert r.status_code == 200
        c.post("/api/v1/auth/logout", headers={"X-CSRF-Token": r.json()["csrf_token"]})
    with ctx.sessions() as db:
        assert len(db.scalars(select(EndedSession)).all()) == 1  # only the one ended just now
