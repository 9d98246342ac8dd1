"""Signed single-use account links: password reset and e-mail verification (itsdangerous).

Each kind has its own salt (one can never be used as the other) and lifetime. A token carries the user id
and a fingerprint of what using it changes: the password hash for a reset, the address and its verification
time for a verification. Using the link changes that value, so the same link is refused afterwards
(single use) without storing anything.
"""

from __future__ import annotations

import hashlib
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from needlecare.storage.models import User
from needlecare.web.errors import GoneError, InvalidTokenError

RESET_SALT = "needlecare.account.password-reset"
VERIFY_SALT = "needlecare.account.verify-email"

#: Lifetime of a password-reset link in seconds (short: it sets a new password).
RESET_MAX_AGE_S = 30 * 60
#: Lifetime of an e-mail verification link in seconds.
VERIFY_MAX_AGE_S = 48 * 3600
#: Longest token accepted from a URL or form, in characters (real ones are about 100).
MAX_TOKEN_LENGTH = 512


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:24]


def reset_fingerprint(user: User) -> str:
    """What a reset link is bound to: the current password hash (a reset changes it)."""
    return _fingerprint("reset", user.password_hash)


def verify_fingerprint(user: User) -> str:
    """What a verification link is bound to: the address and whether it is verified yet."""
    return _fingerprint("verify", user.email, user.email_verified_at is not None)


class AccountTokens:
    """Issue and check password-reset and verification tokens.

    Parameters
    ----------
    secret
        The app's secret key.
    """

    def __init__(self, secret: str) -> None:
        self._reset = URLSafeTimedSerializer(secret, salt=RESET_SALT)
        self._verify = URLSafeTimedSerializer(secret, salt=VERIFY_SALT)

    def reset(self, user: User) -> str:
        """A password-reset token for *user*."""
        return str(self._reset.dumps({"u": user.id, "f": reset_fingerprint(user)}))

    def verify(self, user: User) -> str:
        """An e-mail verification token for *user*."""
        return str(self._verify.dumps({"u": user.id, "f": verify_fingerprint(user)}))

    def read_reset(self, token: str) -> tuple[int, str]:
        """``(user id, fingerprint)`` from a reset token (at most :data:`RESET_MAX_AGE_S` old); see
        :meth:`_read` for the errors."""
        return self._read(self._reset, token, RESET_MAX_AGE_S)

    def read_verify(self, token: str) -> tuple[int, str]:
        """``(user id, fingerprint)`` from a verification token (at most :data:`VERIFY_MAX_AGE_S` old); see
        :meth:`_read` for the errors."""
        return self._read(self._verify, token, VERIFY_MAX_AGE_S)

    @staticmethod
    def _read(serializer: URLSafeTimedSerializer, token: str, max_age_s: int) -> tuple[int, str]:
        """Check a token's signature and age.

        Raises
        ------
        GoneError
            The link has expired.
        InvalidTokenError
            Tampered with, malformed or not one of ours.
        """
        if len(token) > MAX_TOKEN_LENGTH:
            raise InvalidTokenError("This link is not valid.")
        try:
            raw: Any = serializer.loads(token, max_age=max_age_s)
        except SignatureExpired as exc:
            raise GoneError("This link has expired; ask for a new one.") from exc
        except BadSignature as exc:
            raise InvalidTokenError("This link is not valid.") from exc
        if (
            not isinstance(raw, dict)
            or not isinstance(raw.get("u"), int)
            or not isinstance(raw.get("f"), str)
        ):
            raise InvalidTokenError("This link is not valid.")
        return raw["u"], raw["f"]
