"""Signed newsletter links (itsdangerous ``URLSafeTimedSerializer`` keyed with the app's secret).

Two kinds, each with its own salt so one can never be used as the other:

- confirmation tokens carry the subscription id and its current ``confirm_nonce``; they expire after
  ``max_age_s`` seconds;
- unsubscribe tokens carry the id and the permanent ``unsubscribe_key``; they do not expire (an unsubscribe
  link in an old mail must keep working).

A wrong signature, a malformed payload or (for confirmation) an expired token raises :class:`TokenError`,
whose ``expired`` flag lets the page say which.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from needlecare.storage.newsletter import NewsletterSubscription

CONFIRM_SALT = "needlecare.newsletter.confirm"
UNSUBSCRIBE_SALT = "needlecare.newsletter.unsubscribe"

#: Longest token accepted from a URL or form, in characters (real ones are about 80).
MAX_TOKEN_LENGTH = 512


class TokenError(ValueError):
    """The token is tampered with, malformed or (``expired=True``) too old."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclass(frozen=True)
class Claim:
    """What a valid token says: subscription ``sid`` and the secret value (nonce or key) bound to it."""

    sid: int
    value: str


class NewsletterTokens:
    """Issue and check the two kinds of newsletter token.

    Parameters
    ----------
    secret
        The app's secret key.
    max_age_s
        Lifetime of a confirmation token in seconds (> 0).
    """

    def __init__(self, secret: str, max_age_s: int) -> None:
        self._confirm = URLSafeTimedSerializer(secret, salt=CONFIRM_SALT)
        self._unsubscribe = URLSafeTimedSerializer(secret, salt=UNSUBSCRIBE_SALT)
        self.max_age_s = max_age_s

    def confirm_token(self, sub: NewsletterSubscription) -> str:
        """Confirmation token bound to *sub*'s current nonce."""
        return str(self._confirm.dumps({"s": sub.id, "v": sub.confirm_nonce}))

    def unsubscribe_token(self, sub: NewsletterSubscription) -> str:
        """Unsubscribe token bound to *sub*'s permanent key."""
        return str(self._unsubscribe.dumps({"s": sub.id, "v": sub.unsubscribe_key}))

    def read_confirm(self, token: str) -> Claim:
        """The claim of a confirmation token; raises :class:`TokenError`."""
        return _claim(self._confirm, token, self.max_age_s)

    def read_unsubscribe(self, token: str) -> Claim:
        """The claim of an unsubscribe token; raises :class:`TokenError`."""
        return _claim(self._unsubscribe, token, None)


def _claim(serializer: URLSafeTimedSerializer, token: str, max_age_s: int | None) -> Claim:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise TokenError("This link is incomplete or damaged.")
    try:
        raw: Any = serializer.loads(token, max_age=max_age_s)
    except SignatureExpired as exc:
        raise TokenError("This link has expired.", expired=True) from exc
    except BadSignature as exc:
        raise TokenError("This link is not valid (it may have been changed or cut short).") from exc
    if not isinstance(raw, dict):
        raise TokenError("This link is not valid.")
    sid, value = raw.get("s"), raw.get("v")
    if not isinstance(sid, int) or isinstance(sid, bool) or not isinstance(value, str):
        raise TokenError("This link is not valid.")
    return Claim(sid=sid, value=value)
