"""Password hashing (argon2id), signed session cookies and CSRF tokens.

The session cookie is signed and timestamped with itsdangerous; it holds the user id, the user's
``session_version`` (bumped by "log out everywhere", a password change or reset, which revokes every session
of the user), a random session id ``sid`` (logging out records it in ``ended_sessions``, which ends this
session only) and a CSRF token bound to the session (checked on every unsafe request: form field
``csrf_token`` or header ``X-CSRF-Token``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

from needlecare.settings import Settings

COOKIE_NAME = "needlecare_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def make_hasher(settings: Settings) -> PasswordHasher:
    """argon2id hasher with the cost parameters from *settings*."""
    return PasswordHasher(
        time_cost=settings.web.argon2_time_cost,
        memory_cost=settings.web.argon2_memory_kib,
        parallelism=settings.web.argon2_parallelism,
    )


def verify_password(hasher: PasswordHasher, stored_hash: str, password: str) -> bool:
    """True if *password* matches *stored_hash*; never raises for a wrong password or a damaged hash."""
    try:
        return hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh random token (32 bytes, URL-safe)."""
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


@dataclass
class SessionData:
    """What the session cookie carries. ``modified`` tells the middleware to send a new cookie."""

    csrf: str = field(default_factory=new_token)
    uid: int | None = None
    sv: int = 0
    sid: str = ""
    modified: bool = False

    def log_in(self, user_id: int, session_version: int) -> None:
        """Bind the session to a user; the CSRF token and session id are new (no session fixation)."""
        self.uid, self.sv, self.csrf, self.modified = user_id, session_version, new_token(), True
        self.sid = new_token()

    def log_out(self) -> None:
        """Forget the user and rotate the CSRF token."""
        self.uid, self.sv, self.csrf, self.sid, self.modified = None, 0, new_token(), "", True


class SessionCodec:
    """Sign and verify the session cookie value (expires after ``max_age_s`` seconds)."""

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="needlecare.session")
        self.max_age_s = max_age_s

    def dumps(self, data: SessionData) -> str:
        """Cookie value for *data*."""
        return self._serializer.dumps({"csrf": data.csrf, "uid": data.uid, "sv": data.sv, "sid": data.sid})

    def loads(self, value: str | None) -> SessionData | None:
        """Session from a cookie value; ``None`` if missing, tampered with, malformed or expired."""
        if not value:
            return None
        try:
            raw: Any = self._serializer.loads(value, max_age=self.max_age_s)
        except BadSignature:
            return None
        if not isinstance(raw, dict):
            return None
        csrf, uid, sv, sid = raw.get("csrf"), raw.get("uid"), raw.get("sv"), raw.get("sid", "")
        if not isinstance(csrf, str) or not (uid is None or isinstance(uid, int)) or not isinstance(sv, int):
            return None
        if not isinstance(sid, str) or len(sid) > 64:
            return None
        return SessionData(csrf=csrf, uid=uid, sv=sv, sid=sid)
