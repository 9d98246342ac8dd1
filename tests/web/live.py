"""A real uvicorn server in a background thread, for the browser and fuzzing tests."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from needlecare.web.app import create_app

from .conftest import make_settings


def free_port() -> int:
    """An unused local TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def live_server(tmp_path: Path, **overrides: object) -> Iterator[str]:
    """Serve a fresh app (own SQLite database and photo directory) and yield its base URL."""
    port = free_port()
    settings = make_settings(tmp_path, **({"public_url": f"http://localhost:{port}"} | overrides))
    app = create_app(settings, migrate=True)
    # Keep idle connections open longer than any pause of a test: a client that reuses a pooled connection
    # the server has just closed (uvicorn's default after 5 s) gets "connection reset" instead of an answer.
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", timeout_keep_alive=120
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://localhost:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.ctx.jobs.close()  # the background runner's processes, when the test asked for them
        app.state.ctx.engine.dispose()


def mailed_link(tmp_path: Path, to: str, path: str) -> str:
    """Path and query of the newest link to *path* mailed to *to* (the live server's outbox files)."""
    found: list[tuple[float, str]] = []
    for eml in (tmp_path / "data" / "outbox").glob("*.eml"):
        mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        if str(mail["To"]) != to:
            continue
        body = mail.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        match = re.search(rf"https?://[^\s/]+({re.escape(path)}\?token=\S+)", text)
        if match:
            found.append((eml.stat().st_mtime, match.group(1)))
    assert found, f"no {path} link mailed to {to}"
    return max(found)[1]


def http_signup(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    """Sign up through the API of a running server, then log in (an unverified account may log in);
    returns the headers for further unsafe API calls."""
    csrf = client.get("/api/v1/auth/session").json()["csrf_token"]
    r = client.post(
        "/api/v1/auth/signup", json={"email": email, "password": password}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 202, r.text
    r = client.post(
        "/api/v1/auth/login", json={"email": email, "password": password}, headers={"X-CSRF-Token": csrf}
    )
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf_token"]}


def browser_patient_with_treatment(page: Any, base: str, tmp_path: Path, email: str) -> str:
    """Sign up as *email* in a Playwright *page*, verify the address through the mailed link and record a
    treatment done today; returns the treatment's path (``/treatments/N``)."""
    page.goto(f"{base}/signup")
    page.fill("#email", email)
    page.fill("#password", "a long enough passphrase")
    page.click("main button[type=submit]")
    page.get_by_role("heading", name="Check your inbox").wait_for()
    page.goto(base + mailed_link(tmp_path, email, "/account/verify"))
    page.goto(f"{base}/treatments/new")
    page.fill("#treated_on", dt.datetime.now(dt.UTC).date().isoformat())
    page.fill("#depth_mm", "1.0")
    page.click("button:has-text('Save treatment')")
    return str(page.url).removeprefix(base)
