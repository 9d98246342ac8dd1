"""Sign-up with e-mail verification, and password reset by e-mail. Callers commit, then enqueue the mail.

* :func:`signup` answers the same whether or not the address has an account: a new address gets an
  account and a verification link; an address with an account gets a note to its owner instead (how to log
  in or reset the password), and nothing about the account changes.
* :func:`verify` confirms the address from the link (single use: see :mod:`needlecare.web.accounts.tokens`).
  Until then the account gets no mail but the verification and the reset, and cannot join a clinic.
* :func:`request_reset` mails a reset link when the address has an account and does nothing otherwise (the
  caller answers the same either way); :func:`reset` sets the new password, ends every session of the user,
  and counts as a verification of the address.

Each mail is a :func:`needlecare.jobs.mail.queue_mail` row with a key of its own; the functions return the
delivery id (or ``None`` when nothing is mailed).
"""

from __future__ import annotations

import secrets
from urllib.parse import quote

from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from needlecare.jobs.mail import queue_mail
from needlecare.jobs.queue import SEND_MAIL
from needlecare.storage.models import AuditEvent, User, utcnow
from needlecare.web.accounts import passwords, service
from needlecare.web.accounts.tokens import (
    RESET_MAX_AGE_S,
    AccountTokens,
    reset_fingerprint,
    verify_fingerprint,
)
from needlecare.web.context import WebContext
from needlecare.web.errors import GoneError, InvalidTokenError, UnprocessableError


def safe_next(value: str | None) -> str | None:
    """*value* if it is a path on this site (``/...``, not ``//host`` or a scheme), else ``None``.

    >>> safe_next("/clinics/join?token=abc"), safe_next("//evil.example/"), safe_next("https://x/")
    ('/clinics/join?token=abc', None, None)
    """
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return None
    if any(ord(c) < 32 for c in value) or len(value) > 2000:
        return None
    return value


def _next_query(next_path: str | None) -> str:
    return f"&next={quote(next_path, safe='')}" if next_path else ""


def _queue(db: Session, *, user: User, kind: str, subject: str, text: str) -> int:
    row, _ = queue_mail(
        db,
        key=f"{kind}:{user.id}:{secrets.token_hex(8)}",
        to=user.email,
        subject=subject,
        text=text,
        user_id=user.id,
    )
    db.flush()
    return row.id


def verification_mail(
    db: Session, *, user: User, tokens: AccountTokens, base_url: str, next_path: str | None = None
) -> int:
    """Queue the mail with *user*'s verification link (leading on to *next_path*); returns the delivery id."""
    link = f"{base_url}/account/verify?token={tokens.verify(user)}{_next_query(next_path)}"
    text = (
        "Hello,\n\n"
        "Please confirm that this address is yours by opening this link:\n"
        f"{link}\n\n"
        "The link works once, within 48 hours. Until you confirm, needlecare sends you no other mail "
        "(no reminders) and you cannot join a clinic.\n\n"
        "If you did not sign up for needlecare, ignore this e-mail: nothing happens without the link.\n"
    )
    return _queue(db, user=user, kind="verify-email", subject="Confirm your e-mail address", text=text)


def signup(
    db: Session,
    *,
    email: str,
    password: str,
    hasher: PasswordHasher,
    tokens: AccountTokens,
    base_url: str,
    next_path: str | None = None,
) -> int:
    """Register *email* (unverified) and mail its verification link, or tell the existing owner.

    *next_path* (a path on this site, e.g. an invitation) is where either mail's link leads afterwards.

    Returns
    -------
    int
        The id of the delivery queued (either kind).
    """
    existing = service.get_by_email(db, email=email)
    if existing is None:
        user = service.create(db, email=email, password=password, hasher=hasher)
        return verification_mail(db, user=user, tokens=tokens, base_url=base_url, next_path=next_path)
    text = (
        "Hello,\n\n"
        "Someone (perhaps you) tried to create a needlecare account with this address, which already has "
        "one. Nothing was changed.\n\n"
        f"Log in: {base_url}/login{'?next=' + quote(next_path, safe='') if next_path else ''}\n"
        f"Forgot your password? Set a new one: {base_url}/password/forgot\n\n"
        "If it was not you, you can ignore this e-mail.\n"
    )
    db.add(AuditEvent(user_id=existing.id, action="signup_attempt_existing"))
    return _queue(db, user=existing, kind="signup-existing", subject="Your needlecare account", text=text)


def verify(db: Session, *, tokens: AccountTokens, token: str) -> User:
    """Mark the address of the link's user as confirmed (audited).

    Raises
    ------
    InvalidTokenError
        Tampered with, or its account is gone.
    GoneError
        Expired, or already used (the address is confirmed or changed since).
    """
    uid, fingerprint = tokens.read_verify(token)
    user = db.get(User, uid)
    if user is None:
        raise InvalidTokenError("This link is not valid.")
    if fingerprint != verify_fingerprint(user):
        raise GoneError("This link was already used; your address is confirmed.")
    user.email_verified_at = utcnow()
    db.add(AuditEvent(user_id=user.id, action="email_verified"))
    db.flush()
    return user


def request_reset(db: Session, *, email: str, tokens: AccountTokens, base_url: str) -> int | None:
    """Mail a password-reset link if *email* has an account; ``None`` (and nothing mailed) otherwise."""
    user = service.get_by_email(db, email=email)
    if user is None:
        return None
    link = f"{base_url}/password/reset?token={tokens.reset(user)}"
    text = (
        "Hello,\n\n"
        "Someone (perhaps you) asked to reset the password of your needlecare account. To choose a new "
        f"password, open this link within {RESET_MAX_AGE_S // 60} minutes:\n"
        f"{link}\n\n"
        "The link works once. Setting a new password logs you out on every device.\n"
        "If you did not ask for this, ignore this e-mail: your password stays as it is.\n"
    )
    db.add(AuditEvent(user_id=user.id, action="password_reset_requested"))
    return _queue(db, user=user, kind="password-reset", subject="Reset your needlecare password", text=text)


def reset(db: Session, *, tokens: AccountTokens, token: str, new: str, hasher: PasswordHasher) -> User:
    """Set a new password from a reset link; every session of the user ends (audited).

    Raises
    ------
    InvalidTokenError
        Tampered with, or its account is gone.
    GoneError
        Expired, or already used (the password changed since the link was sent).
    UnprocessableError
        The new password breaks the policy (:mod:`needlecare.web.accounts.passwords`).
    """
    uid, fingerprint = tokens.read_reset(token)
    user = db.get(User, uid)
    if user is None:
        raise InvalidTokenError("This link is not valid.")
    if fingerprint != reset_fingerprint(user):
        raise GoneError("This link was already used; ask for a new one if you need to.")
    found = passwords.problems(new, email=user.email)
    if found:
        raise UnprocessableError(" ".join(found))
    user.password_hash = hasher.hash(new)
    user.session_version += 1
    if user.email_verified_at is None:  # the link reached the owner's inbox
        user.email_verified_at = utcnow()
    db.add(AuditEvent(user_id=user.id, action="password_reset"))
    db.flush()
    return user


#: The answer to every password-reset request, whether or not the address has an account.
FORGOT_ANSWER = (
    "If this address has an account, we sent it a link to set a new password. The link works once, "
    "for 30 minutes."
)


def tokens_of(ctx: WebContext) -> AccountTokens:
    """The app's password-reset and verification token signer."""
    return AccountTokens(ctx.settings.resolve_secret())


def signup_and_mail(
    db: Session, ctx: WebContext, *, email: str, password: str, next_path: str | None = None
) -> None:
    """Shared by the page and the API: :func:`recovery.signup`, commit, enqueue its mail."""
    delivery_id = signup(
        db,
        email=email,
        password=password,
        hasher=ctx.hasher,
        tokens=tokens_of(ctx),
        base_url=ctx.settings.base_url,
        next_path=next_path,
    )
    db.commit()
    ctx.jobs.enqueue(SEND_MAIL, delivery_id)


def forgot_and_mail(db: Session, ctx: WebContext, *, email: str) -> None:
    """Shared by the page and the API: :func:`recovery.request_reset`, commit, enqueue its mail if any."""
    delivery_id = request_reset(db, email=email, tokens=tokens_of(ctx), base_url=ctx.settings.base_url)
    db.commit()
    if delivery_id is not None:
        ctx.jobs.enqueue(SEND_MAIL, delivery_id)
