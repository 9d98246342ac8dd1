"""ASGI middleware: the signed session cookie, request body size limit and security headers."""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from needlecare.web.headers import keep_only_cookie
from needlecare.web.security import COOKIE_NAME, SessionCodec, SessionData

SESSION_SCOPE_KEY = "needlecare.session"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


class SessionMiddleware:
    """Load the session from its cookie into ``scope['needlecare.session']``; send a cookie when it changed.

    Every other cookie is removed from the request before the app sees it (the app reads no other).

    New visitors get a session (with a CSRF token) on their first response.
    """

    def __init__(self, app: ASGIApp, codec: SessionCodec, *, secure: bool) -> None:
        self.app, self.codec, self.secure = app, codec, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw, headers = keep_only_cookie(list(scope.get("headers", [])), COOKIE_NAME)
        scope = {**scope, "headers": headers}
        session = self.codec.loads(raw)
        if session is None:
            session = SessionData(modified=True)
        scope[SESSION_SCOPE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                headers = MutableHeaders(scope=message)
                flags = "; Secure" if self.secure else ""
                headers.append(
                    "Set-Cookie",
                    f"{COOKIE_NAME}={self.codec.dumps(session)}; Path=/; Max-Age={self.codec.max_age_s}; "
                    f"HttpOnly; SameSite=Lax{flags}",
                )
            await send(message)

        await self.app(scope, receive, send_with_cookie)


class BodyLimitMiddleware:
    """Refuse request bodies over *limit* bytes with 413 before they are parsed (chunked bodies included)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": f"Upload too large: the limit is {self.limit // (1024 * 1024)} MB.",
                "code": "too_large",
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                await self._reject(send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await self._reject(send)


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes the limit (FastAPI re-raises HTTP exceptions)."""

    def __init__(self) -> None:
        super().__init__(413, "Upload too large.")


class SecurityHeadersMiddleware:
    """Add conservative security headers (CSP without inline script or style, no framing, nosniff)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
            await send(message)

        await self.app(scope, receive, send_with_headers if scope["type"] == "http" else send)


def session_of(scope: Any) -> SessionData:
    """The session the middleware attached to *scope*."""
    session: SessionData = scope[SESSION_SCOPE_KEY]
    return session
