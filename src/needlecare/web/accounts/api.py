"""JSON API for accounts under ``/api/v1/auth``."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from needlecare.storage.models import User
from needlecare.web.accounts import schemas, service
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, OptionalUser, SessionDep, client_ip
from needlecare.web.ratelimit import account_key, address_key, enforce, refuse

router = APIRouter(prefix="/auth", tags=["accounts"])


@router.get("/session")
def read_session(session: SessionDep, user: OptionalUser) -> schemas.SessionPublic:
    """The CSRF token for unsafe requests, and the logged-in user (or null)."""
    return schemas.SessionPublic(
        csrf_token=session.csrf, user=schemas.UserPublic.model_validate(user) if user else None
    )


@router.post("/signup", status_code=status.HTTP_201_CREATED)
def signup(
    body: schemas.SignupIn, request: Request, db: DbDep, ctx: CtxDep, session: SessionDep
) -> schemas.SessionPublic:
    """Create an account and log in; sign-ups per client address are limited (429)."""
    enforce(ctx.limits, "signup", ip=client_ip(request))
    user = service.create(db, email=body.email, password=body.password, hasher=ctx.hasher)
    db.commit()
    session.log_in(user.id, user.session_version)
    return schemas.SessionPublic(csrf_token=session.csrf, user=schemas.UserPublic.model_validate(user))


@router.post("/login")
def login(
    body: schemas.LoginIn, request: Request, db: DbDep, ctx: CtxDep, session: SessionDep
) -> schemas.SessionPublic:
    """Log in; repeated failures for one account from one address are refused with 429 for a while."""
    user = login_or_raise(request, db, ctx, email=body.email, password=body.password)
    session.log_in(user.id, user.session_version)
    return schemas.SessionPublic(csrf_token=session.csrf, user=schemas.UserPublic.model_validate(user))


def login_or_raise(request: Request, db: DbDep, ctx: CtxDep, *, email: str, password: str) -> User:
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
        user = service.authenticate(db, email=email, password=password, hasher=ctx.hasher)
    except Exception:
        for rule, key in counters:
            ctx.limits.hit(rule, key)
        raise
    ctx.limits.clear(*counters[0])
    db.commit()
    return user


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(db: DbDep, session: SessionDep, user: OptionalUser) -> Response:
    """End the session (every copy of the cookie stops working)."""
    if user is not None:
        service.revoke_sessions(user=user)
        db.commit()
    session.log_out()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(user: CurrentUser) -> schemas.UserPublic:
    """The logged-in user."""
    return schemas.UserPublic.model_validate(user)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: schemas.PasswordChangeIn, user: CurrentUser, db: DbDep, ctx: CtxDep, session: SessionDep
) -> Response:
    """Change the password; other sessions are logged out, this one continues."""
    service.change_password(
        db, user=user, current=body.current_password, new=body.new_password, hasher=ctx.hasher
    )
    db.commit()
    session.log_in(user.id, user.session_version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/delete-account", status_code=status.HTTP_204_NO_CONTENT)
def delete_account(
    body: schemas.AccountDeleteIn, user: CurrentUser, db: DbDep, ctx: CtxDep, session: SessionDep
) -> Response:
    """Delete the account with all its data: rows and photo files."""
    user_id = service.delete(db, user=user, password=body.password, hasher=ctx.hasher)
    db.commit()
    ctx.store.delete_user(user_id)
    session.log_out()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
