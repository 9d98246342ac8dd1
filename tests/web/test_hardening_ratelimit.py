"""Login limits that hold: one counter per account whatever the spelling, one per client address, shared by
several web processes through Redis; the other rules (sign-up, newsletter) on the same module."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from starlette.testclient import TestClient

from needlecare.settings import Settings
from needlecare.web.errors import RateLimitedError
from needlecare.web.ratelimit import RateLimits, Rule, enforce

from .conftest import PASSWORD, api_csrf, api_signup, make_settings, new_client
from .live import free_port, http_signup

REDIS_URL = "redis://127.0.0.1:6379/0"
NEEDLECARE = str(Path(sys.executable).parent / "needlecare")


def _login(client: TestClient, email: str, password: str) -> int:
    r = client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-CSRF-Token": api_csrf(client)},
    )
    return r.status_code


def test_whitespace_and_case_variants_share_one_limit(client: TestClient) -> None:
    api_signup(client, "ann@example.org")
    client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": api_csrf(client)})
    variants = [
        "ann@example.org",
        "  ann@example.org",
        "ANN@example.org ",
        "\tAnn@Example.org",
        " ann@EXAMPLE.ORG",
    ]
    assert [_login(client, v, "wrong password") for v in variants] == [401] * 5
    for variant in [*variants, "  ann@example.org\n"]:
        assert _login(client, variant, PASSWORD) == 429, repr(variant)


def test_one_client_cannot_try_many_accounts(tmp_path: Path) -> None:
    app_settings = make_settings(tmp_path, login_address_max_failures=20)
    from needlecare.web.app import create_app

    with new_client(create_app(app_settings, migrate=True)) as client:
        codes = [_login(client, f"user{i}@example.org", "wrong password") for i in range(30)]
    assert codes[:20] == [401] * 20
    assert set(codes[20:]) == {429}


def test_signup_and_newsletter_use_the_same_limits(tmp_path: Path) -> None:
    from needlecare.web.app import create_app

    app = create_app(make_settings(tmp_path, signup_max_per_address=2), migrate=True)
    with new_client(app) as client:
        for i in range(2):  # counted sign-ups: the requests, whatever becomes of them
            r = client.post(
                "/api/v1/auth/signup",
                json={"email": f"s{i}@example.org", "password": PASSWORD},
                headers={"X-CSRF-Token": api_csrf(client)},
            )
            assert r.status_code == 202, r.text
        r = client.post(
            "/api/v1/auth/signup",
            json={"email": "s3@example.org", "password": PASSWORD},
            headers={"X-CSRF-Token": api_csrf(client)},
        )
        assert r.status_code == 429
        assert int(r.headers["Retry-After"]) > 0


def test_enforce_counts_account_and_address() -> None:
    limits = RateLimits("memory://", f"t{uuid.uuid4().hex}")
    limits.add(Rule("password-reset", 2, 60))
    limits.add(Rule("password-reset-address", 3, 60))
    enforce(limits, "password-reset", email="a@example.org", ip="1.2.3.4")
    enforce(limits, "password-reset", email=" A@example.org", ip="1.2.3.4")
    with pytest.raises(RateLimitedError):
        enforce(limits, "password-reset", email="a@example.org ", ip="5.6.7.8")
    enforce(limits, "password-reset", email="b@example.org", ip="1.2.3.4")
    with pytest.raises(RateLimitedError) as refused:
        enforce(limits, "password-reset", email="c@example.org", ip="1.2.3.4")
    assert 0 < int(refused.value.headers["Retry-After"]) <= 60


def test_rule_window_moves_on() -> None:
    limits = RateLimits("memory://")
    limits.add(Rule("r", 1, 1))
    limits.hit("r", "k")
    assert limits.retry_after("r", "k") == 1
    time.sleep(1.05)
    assert limits.retry_after("r", "k") == 0


@pytest.fixture
def namespace() -> Iterator[str]:
    ns = f"nctest-{uuid.uuid4().hex[:12]}"
    yield ns
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{ns}:*", count=500))
    if keys:
        client.delete(*keys)
    client.close()


def _serve(settings: Settings, namespace: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "NEEDLECARE_ENVIRONMENT": "test",
        "NEEDLECARE_DATA_DIR": str(settings.data_dir),
        "NEEDLECARE_DATABASE_URL": settings.sqlalchemy_url,
        "NEEDLECARE_SECRET_KEY": "s" * 48,
        "NEEDLECARE_COOKIE_SECURE": "false",
        "NEEDLECARE_ARGON2_TIME_COST": "1",
        "NEEDLECARE_ARGON2_MEMORY_KIB": "64",
        "NEEDLECARE_BROKER_URL": REDIS_URL,
        "NEEDLECARE_BROKER_NAMESPACE": namespace,
    }
    with open(log, "ab") as out:
        return subprocess.Popen([NEEDLECARE, "serve", "--port", str(port)], env=env, stdout=out, stderr=out)


def _wait_up(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base}/api/v1/auth/session", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not start: " + log.read_text())


@pytest.mark.redis
def test_login_limit_holds_across_two_serve_processes(tmp_path: Path, namespace: str) -> None:
    settings = make_settings(tmp_path)
    log = tmp_path / "serve.log"
    ports = [free_port(), free_port()]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for port in ports:  # one after the other: the first migrates the shared database
            procs.append(_serve(settings, namespace, port, log))
            _wait_up(f"http://127.0.0.1:{port}", procs[-1], log)
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for port in ports]
        http_signup(clients[0], "ann@example.org", PASSWORD)

        def login(i: int, password: str) -> int:
            c = clients[i % 2]
            c.cookies.clear()
            csrf = c.get("/api/v1/auth/session").json()["csrf_token"]
            body = {"email": " ann@example.org" if i % 2 else "ann@example.org", "password": password}
            return c.post("/api/v1/auth/login", json=body, headers={"X-CSRF-Token": csrf}).status_code

        assert [login(i, "wrong password") for i in range(5)] == [401] * 5
        assert [login(i, PASSWORD) for i in range(2)] == [429, 429]
        for c in clients:
            c.close()
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


def test_limits_hold_per_process_while_redis_is_unreachable() -> None:
    limits = RateLimits("redis://127.0.0.1:1/0", "unreachable")
    limits.add(Rule("login", 2, 60))
    for _ in range(2):
        assert limits.retry_after("login", "account:a") == 0
        limits.hit("login", "account:a")
    assert limits.retry_after("login", "account:a") > 0
