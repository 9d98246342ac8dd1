"""Account service: sign-up, authentication, password change, deletion. Callers commit."""

from __future__ import annotations

import datetime as dt

from argon2 import PasswordHasher
from fastapi import Request
from sqlalchemy import delete as sql_delete
from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.storage.models import AuditEvent, EndedSession, User, utcnow
from needlecare.web.accounts import passwords
from needlecare.web.context import WebContext
from needlecare.web.deps import client_ip
from needlecare.web.errors import ConflictError, InvalidCredentialsError, UnprocessableError
from needlecare.web.ratelimit import account_key, address_key, refuse
from needlecare.web.security import verify_password


def get_by_email(db: Session, *, email: str) -> User | None:
    """The user with *email* (case-insensitive), if any."""
    return db.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def create(db: Session, *, email: str, password: str, hasher: PasswordHasher) -> User:
    """Register a new user; raises :class:`ConflictError` if the e-mail is taken."""
    if get_by_email(db, email=email) is not None:
        raise ConflictError("An account with this e-mail already exists.")
    user = User(email=email, password_hash=hasher.hash(password))
    db.add(user)
    db.flush()
    db.add(AuditEvent(user_id=user.id, action="account_created"))
    return user


def authenticate(db: Session, *, email: str, password: str, hasher: PasswordHasher) -> User:
    """The user whose credentials these are; raises :class:`InvalidCredentialsError` otherwise.

    A dummy verification runs for unknown e-mails so timing does not reveal which accounts exist.
    """
    user = get_by_email(db, email=email)
    if user is None:
        verify_password(hasher, _dummy_hash(hasher), password)
        raise InvalidCredentialsError("Wrong e-mail or password.")
    if not verify_password(hasher, user.password_hash, password):
        raise InvalidCredentialsError("Wrong e-mail or password.")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


_DUMMY: dict[tuple[int, int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY:
        _DUMMY[key] = hasher.hash("not a real password")
    return _DUMMY[key]


def change_password(db: Session, *, user: User, current: str, new: str, hasher: PasswordHasher) -> None:
    """Set a new password after checking the current one; every existing session is revoked."""
    if not verify_password(hasher, user.password_hash, current):
        raise InvalidCredentialsError("The current password is wrong.")
    found = passwords.problems(new, email=user.email)
    if found:
        raise UnprocessableError(" ".join(found))
    user.password_hash = hasher.hash(new)
    user.session_version += 1
    db.add(AuditEvent(user_id=user.id, action="password_changed"))


def revoke_sessions(db: Session, *, user: User) -> None:
    """Invalidate every session cookie of *user* ("log out everywhere"; audited)."""
    user.session_version += 1
    db.add(AuditEvent(user_id=user.id, action="logged_out_everywhere"))


def end_session(db: Session, *, user: User, sid: str, max_age_s: int) -> None:
    """End the one session *sid* of *user* (its cookie stops working; the user's other sessions go on).

    A session from before session ids (``sid`` empty) can only be ended with all the others. Records of
    sessions ended more than *max_age_s* seconds ago (the session cookie's lifetime) are dropped: their
    cookies have expired anyway.
    """
    cutoff = utcnow() - dt.timedelta(seconds=max_age_s)
    db.execute(sql_delete(EndedSession).where(EndedSession.ended_at < cutoff))
    if not sid:
        user.session_version += 1
    elif db.get(EndedSession, sid) is None:
        db.add(EndedSession(sid=sid, user_id=user.id))


def delete(db: Session, *, user: User, password: str, hasher: PasswordHasher) -> int:
    """Delete *user* and every row they own (treatments, photos, check-ins, audit trail).

    Returns the user id so the caller can remove the photo files after the commit.
    """
    if not verify_password(hasher, user.password_hash, password):
        raise InvalidCredentialsError("The password is wrong; the account was not deleted.")
    user_id = user.id
    db.delete(user)
    return user_id


def login_or_raise(request: Request, db: Session, ctx: WebContext, *, email: str, password: str) -> User:
    """Shared by the page and the API: rate limit, authenticate, commit a possible re-hash.

    Failures are counted per account (its normalised e-mail, whatever the spelling) and per client address;
    either at its limit refuses further attempts with 429, the right password included. A success clears
    the account's count.
    """
    counters = (("login", account_key(email)), ("login-address", address_key(client_ip(request))))
    wait = max(ctx.limits.retry_after(rule, key) for rule, key in counters)
    if wait:
        raise refuse(wait, "failed attempts")
    try:
        user = authenticate(db, email=email, password=password, hasher=ctx.hasher)
    except Exception:
        for rule, key in counters:
            ctx.limits.hit(rule, key)
        raise
    ctx.limits.clear(*counters[0])
    db.commit()
    return user
