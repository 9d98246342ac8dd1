"""Request-header bounds and the one cookie the app reads, in linear time.

Both run before anything else parses a header: a request whose headers are too many or too large is answered
431 at once, and the session cookie is found by splitting the ``Cookie`` header on ``;`` (the standard
library's ``http.cookies`` parser takes quadratic time on quoted values full of backslashes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

#: Default bound on the summed length of every header name and value of one request, in bytes.
DEFAULT_MAX_HEADER_BYTES = 16 * 1024

#: Default bound on the number of headers of one request.
DEFAULT_MAX_HEADER_COUNT = 64

#: Characters of a signed session value (itsdangerous' URL-safe base64 and its ``.`` separators).
_TOKEN_VALUE = re.compile(r"[A-Za-z0-9_.\-]*")


def read_cookie(header_values: Iterable[bytes], name: str) -> str:
    """The value of cookie *name* in the given ``Cookie`` header values ('' when absent).

    Each header is split on ``;`` once, so the cost is linear in its length. A value in double quotes has the
    quotes removed and is otherwise kept as sent (the app's own cookie values never contain escapes). The last
    occurrence wins, as with :class:`http.cookies.SimpleCookie`.

    Parameters
    ----------
    header_values
        Raw values of every ``Cookie`` header of the request (latin-1 bytes, as ASGI hands them over).
    name
        The cookie's name.

    Examples
    --------
    >>> read_cookie([b'a=1; needlecare_session="abc"; b=2'], "needlecare_session")
    'abc'
    >>> read_cookie([b"a=1"], "needlecare_session")
    ''
    """
    found = ""
    for raw in header_values:
        for part in raw.decode("latin-1").split(";"):
            key, sep, value = part.partition("=")
            if sep and key.strip() == name:
                value = value.strip()
                if len(value) >= 2 and value[0] == value[-1] == '"':
                    value = value[1:-1]
                found = value
    return found


def keep_only_cookie(headers: list[tuple[bytes, bytes]], name: str) -> tuple[str, list[tuple[bytes, bytes]]]:
    """The value of cookie *name* and *headers* with every ``Cookie`` header replaced by that cookie alone.

    Later readers (Starlette's ``request.cookies`` also unquotes with the standard library's regular
    expressions) then see at most one short cookie of plain token characters. A value with any other
    character cannot be one the app signed and is dropped.

    Parameters
    ----------
    headers
        The request's raw ASGI headers.
    name
        The one cookie the app uses.

    Examples
    --------
    >>> keep_only_cookie([(b"cookie", b"x=1; s=a.b"), (b"host", b"h")], "s")
    ('a.b', [(b'host', b'h'), (b'cookie', b's=a.b')])
    """
    value = read_cookie((v for k, v in headers if k == b"cookie"), name)
    if not _TOKEN_VALUE.fullmatch(value):
        value = ""
    kept = [(k, v) for k, v in headers if k != b"cookie"]
    if value:
        kept.append((b"cookie", f"{name}={value}".encode("latin-1")))
    return value, kept


class HeaderLimitMiddleware:
    """Answer 431 to a request with more than *max_count* headers or more than *max_bytes* of them.

    Parameters
    ----------
    app
        The wrapped ASGI app.
    max_bytes
        Largest summed length of all header names and values, in bytes.
    max_count
        Largest number of headers.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        max_count: int = DEFAULT_MAX_HEADER_COUNT,
    ) -> None:
        self.app, self.max_bytes, self.max_count = app, max_bytes, max_count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            size = sum(len(k) + len(v) for k, v in headers)
            if len(headers) > self.max_count or size > self.max_bytes:
                await _reject(send, len(headers), size, self.max_count, self.max_bytes)
                return
        await self.app(scope, receive, send)


async def _reject(send: Send, count: int, size: int, max_count: int, max_bytes: int) -> None:
    body = json.dumps(
        {
            "detail": f"Request headers too large: {count} headers of {size} bytes "
            f"(the limits are {max_count} headers and {max_bytes} bytes).",
            "code": "headers_too_large",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 431,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
