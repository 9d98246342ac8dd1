"""Security helpers: signed session cookies, password hashing (rate limits: test_hardening_ratelimit)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from needlecare.web.security import SessionCodec, SessionData, tokens_match, verify_password


def test_session_cookie_round_trip_and_tamper_detection() -> None:
    codec = SessionCodec("k" * 40, max_age_s=3600)
    data = SessionData(uid=7, sv=2)
    value = codec.dumps(data)
    loaded = codec.loads(value)
    assert loaded is not None
    assert (loaded.uid, loaded.sv, loaded.csrf) == (7, 2, data.csrf)
    assert codec.loads(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) is None
    assert SessionCodec("other" * 10, 3600).loads(value) is None
    assert codec.loads("") is None
    assert codec.loads("garbage") is None


def test_expired_session_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    codec = SessionCodec("k" * 40, max_age_s=10)
    value = codec.dumps(SessionData(uid=1))
    import time

    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 60)
    assert codec.loads(value) is None


def test_login_rotates_csrf_token() -> None:
    data = SessionData()
    before = data.csrf
    data.log_in(3, 0)
    assert data.csrf != before
    assert data.modified
    assert tokens_match(data.csrf, data.csrf)
    assert not tokens_match(data.csrf, None)
    assert not tokens_match(data.csrf, before)


def test_verify_password_never_raises() -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    stored = hasher.hash("right password")
    assert verify_password(hasher, stored, "right password")
    assert not verify_password(hasher, stored, "wrong")
    assert not verify_password(hasher, "not-a-hash", "wrong")
