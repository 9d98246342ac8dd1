"""Refuse request values no route may see: non-finite JSON numbers, NUL characters and lone surrogates.

Python's JSON parser accepts ``NaN``, ``Infinity`` and ``1e999`` (which becomes infinity) and turns the escape
``"\\ud800"`` into a lone surrogate; PostgreSQL refuses NUL characters in text. Checked once here, every JSON
body, URL-encoded form body and query string is known to be clean before a route parses it.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from needlecare.web.validators import clean_text

#: ``%00`` in either case: a NUL character once a query string or URL-encoded form is decoded.
_ENCODED_NUL = (b"%00", b"\x00")


class InvalidValueError(ValueError):
    """A JSON number that is not finite, or text with a NUL or a lone surrogate."""


def _reject_constant(name: str) -> float:
    raise InvalidValueError(f"{name} is not a finite number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidValueError(f"{text} is not a finite number")
    return value


def _check_strings(value: Any) -> None:
    if isinstance(value, str):
        clean_text(value)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            clean_text(key)
            _check_strings(item)


def check_json(body: bytes) -> None:
    """Raise :class:`InvalidValueError` if the JSON *body* holds a non-finite number or unclean text.

    Bodies that are not valid JSON at all are left to the route (which answers 422 ``json_invalid``).

    Examples
    --------
    >>> check_json(b'{"a": [1.5, "x"]}')
    >>> check_json(b'{"a": NaN}')
    Traceback (most recent call last):
    ...
    needlecare.web.input_guard.InvalidValueError: NaN is not a finite number
    """
    try:
        parsed = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except InvalidValueError:
        raise
    except ValueError:
        return
    try:
        _check_strings(parsed)
    except ValueError as exc:
        raise InvalidValueError(str(exc)) from exc


def _content_type(scope: Scope) -> bytes:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return bytes(value).split(b";", 1)[0].strip().lower()
    return b""


#: Default bound on a JSON or URL-encoded form body, in bytes (photos come as multipart, bounded separately).
DEFAULT_MAX_TEXT_BODY = 1024 * 1024

#: Bodies up to this size are checked on the event loop; larger ones in a worker thread.
_INLINE_CHECK_BYTES = 64 * 1024


class InputGuardMiddleware:
    """Answer 422 to a request whose query string, JSON body or URL-encoded form holds an unusable value,
    and 413 to a JSON or form body over *max_body* bytes (so no large text body is parsed at all).

    Parameters
    ----------
    app
        The wrapped ASGI app.
    max_body
        Largest JSON or URL-encoded form body, in bytes.
    """

    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_TEXT_BODY) -> None:
        self.app, self.max_body = app, max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").lower()
        if any(nul in query for nul in _ENCODED_NUL):
            await _reject(scope, send, "query", "text may not contain the character U+0000")
            return
        kind = _content_type(scope)
        if kind not in (b"application/json", b"application/x-www-form-urlencoded") and not kind.endswith(
            b"+json"
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                await _too_large(send, self.max_body)
                return
            more = message.get("more_body", False)
        body = b"".join(chunks)
        try:
            if kind == b"application/x-www-form-urlencoded":
                if any(nul in body.lower() for nul in _ENCODED_NUL):
                    raise InvalidValueError("text may not contain the character U+0000")
            elif len(body) <= _INLINE_CHECK_BYTES:
                check_json(body)
            else:  # parsing a large body would hold up every other request on the event loop
                await run_in_threadpool(check_json, body)
        except InvalidValueError as exc:
            await _reject(scope, send, "body", str(exc))
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}]), send)


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps(
        {
            "detail": f"Request body too large: the limit is {limit} bytes for JSON and forms.",
            "code": "too_large",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _replay(messages: list[Message]) -> Receive:
    pending = list(messages)

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        return {"type": "http.disconnect"}

    return receive


async def _reject(scope: Scope, send: Send, where: str, message: str) -> None:
    if scope.get("path", "").startswith("/api/"):
        body = json.dumps({"detail": [{"type": "value_error", "loc": [where], "msg": message}]}).encode()
        content_type = b"application/json"
    else:
        body = (
            "<!doctype html><html lang=en><title>Invalid input</title>"
            f"<h1>Some of what you entered could not be used</h1><p>{html.escape(message)}.</p></html>"
        ).encode()
        content_type = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
