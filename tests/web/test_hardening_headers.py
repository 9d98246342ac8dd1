"""Request headers cannot freeze the server: bounded size and count, the session cookie read linearly."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI

from needlecare.web.headers import read_cookie
from needlecare.web.security import COOKIE_NAME

#: A cookie value the standard library's parser needs seconds for (quadratic in the backslashes).
EVIL_60K = f'{COOKIE_NAME}="' + "\\" * 60_000 + '"'
EVIL_15K = f'{COOKIE_NAME}="' + "\\" * 15_000 + '"'


async def _timed(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> tuple[int, float]:
    start = time.perf_counter()
    r = await client.get(path, headers=headers)
    return r.status_code, time.perf_counter() - start


def _run(app: FastAPI, *requests: dict[str, str]) -> list[tuple[int, float]]:
    """Send one GET /login per header set concurrently on one event loop (after a warm-up request)."""

    async def main() -> list[tuple[int, float]]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
            await client.get("/login")
            return list(await asyncio.gather(*(_timed(client, "/login", h) for h in requests)))

    return asyncio.run(main())


def test_huge_backslash_cookie_is_refused_at_once_and_does_not_delay_others(app: FastAPI) -> None:
    (evil_status, evil_s), (ok_status, ok_s) = _run(app, {"Cookie": EVIL_60K}, {})
    assert evil_status == 431
    assert evil_s < 0.1
    assert ok_status == 200
    assert ok_s < 0.5


def test_ten_15kb_backslash_cookies_are_answered_quickly(app: FastAPI) -> None:
    start = time.perf_counter()
    results = _run(app, *[{"Cookie": EVIL_15K}] * 10, {})
    elapsed = time.perf_counter() - start
    assert [status for status, _ in results] == [200] * 11  # a cookie that is not ours: a new session
    assert max(seconds for _, seconds in results) < 1.0
    assert elapsed < 2.0


def test_100kb_header_and_too_many_headers_get_431(app: FastAPI) -> None:
    [(big, _), (many, _)] = _run(app, {"X-Padding": "a" * 100_000}, {f"X-H{i}": "1" for i in range(200)})
    assert (big, many) == (431, 431)


def test_read_cookie_finds_the_session_cookie_among_others() -> None:
    assert read_cookie([b"a=1; needlecare_session=abc.def; b=2"], COOKIE_NAME) == "abc.def"
    assert read_cookie([b'needlecare_session="q"'], COOKIE_NAME) == "q"
    assert read_cookie([b"a=1", b"needlecare_session=x"], COOKIE_NAME) == "x"
    assert read_cookie([b"needlecare_sessionx=1; xneedlecare_session=2"], COOKIE_NAME) == ""
    assert read_cookie([b'needlecare_session="' + b"\\" * 60_000 + b'"'], COOKIE_NAME) == "\\" * 60_000
