"""JSON API for accounts under ``/api/v1/auth``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status

from needlecare.jobs.queue import SEND_MAIL
from needlecare.web.accounts import recovery, schemas, service
from needlecare.web.deps import CookieSessionDep, CtxDep, CurrentUser, DbDep, OptionalUser, client_ip
from needlecare.web.ratelimit import enforce

router = APIRouter(prefix="/auth", tags=["accounts"])

LINK_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Tampered with, or not a link of this kind"},
    410: {"description": "Expired, or already used"},
}


@router.get("/session")
def read_session(session: CookieSessionDep, user: OptionalUser) -> schemas.SessionPublic:
    """The CSRF token for unsafe requests, and the logged-in user (or null)."""
    return schemas.SessionPublic(
        csrf_token=session.csrf, user=schemas.UserPublic.model_validate(user) if user else None
    )


@router.post("/signup", status_code=status.HTTP_202_ACCEPTED)
def signup(body: schemas.SignupIn, request: Request, db: DbDep, ctx: CtxDep) -> schemas.SignupAccepted:
    """Ask for an account: the same answer whether or not the address has one.

    A new address gets an account and a mail with its verification link (log in with the password at any
    time; mails and joining a clinic wait for the verification). An address that has an account gets a
    note to its owner instead, and the account is not changed. Sign-ups per client address are limited
    (429).
    """
    enforce(ctx.limits, "signup", ip=client_ip(request))
    recovery.signup_and_mail(db, ctx, email=body.email, password=body.password)
    return schemas.SignupAccepted()


@router.post("/verify", responses=LINK_ERRORS)
def verify_email(
    body: schemas.VerifyIn, db: DbDep, ctx: CtxDep, session: CookieSessionDep
) -> schemas.SessionPublic:
    """Confirm the address with the token from the verification mail, and log in."""
    user = recovery.verify(db, tokens=recovery.tokens_of(ctx), token=body.token)
    db.commit()
    session.log_in(user.id, user.session_version)
    return schemas.SessionPublic(csrf_token=session.csrf, user=schemas.UserPublic.model_validate(user))


@router.post("/verify/resend", status_code=status.HTTP_202_ACCEPTED)
def resend_verification(user: CurrentUser, db: DbDep, ctx: CtxDep) -> schemas.SignupAccepted:
    """Mail a new verification link to the logged-in user (nothing if already verified)."""
    if user.email_verified_at is None:
        delivery_id = recovery.verification_mail(
            db, user=user, tokens=recovery.tokens_of(ctx), base_url=ctx.settings.base_url
        )
        db.commit()
        ctx.jobs.enqueue(SEND_MAIL, delivery_id)
    return schemas.SignupAccepted()


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED)
def forgot_password(body: schemas.EmailIn, request: Request, db: DbDep, ctx: CtxDep) -> dict[str, str]:
    """Mail a reset link if the address has an account; the answer is the same either way. Requests per
    account and per client address are limited (429)."""
    enforce(ctx.limits, "password-reset", email=body.email, ip=client_ip(request))
    recovery.forgot_and_mail(db, ctx, email=body.email)
    return {"detail": recovery.FORGOT_ANSWER}


@router.post("/password/reset", status_code=status.HTTP_204_NO_CONTENT, responses=LINK_ERRORS)
def reset_password(
    body: schemas.PasswordResetIn, db: DbDep, ctx: CtxDep, session: CookieSessionDep
) -> Response:
    """Set a new password from a reset link; every session of the account ends (log in again)."""
    recovery.reset(
        db, tokens=recovery.tokens_of(ctx), token=body.token, new=body.new_password, hasher=ctx.hasher
    )
    db.commit()
    session.log_out()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/login")
def login(
    body: schemas.LoginIn, request: Request, db: DbDep, ctx: CtxDep, session: CookieSessionDep
) -> schemas.SessionPublic:
    """Log in; repeated failures for one account from one address are refused with 429 for a while."""
    user = service.login_or_raise(request, db, ctx, email=body.email, password=body.password)
    session.log_in(user.id, user.session_version)
    return schemas.SessionPublic(csrf_token=session.csrf, user=schemas.UserPublic.model_validate(user))


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(db: DbDep, ctx: CtxDep, session: CookieSessionDep, user: OptionalUser) -> Response:
    """End this session (every copy of its cookie stops working); the user's other sessions go on."""
    if user is not None:
        service.end_session(db, user=user, sid=session.sid, max_age_s=ctx.settings.web.session_max_age_s)
        db.commit()
    session.log_out()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/logout-everywhere", status_code=status.HTTP_204_NO_CONTENT)
def logout_everywhere(db: DbDep, session: CookieSessionDep, user: CurrentUser) -> Response:
    """End every session of the user, in every browser and app, this one included."""
    service.revoke_sessions(db, user=user)
    db.commit()
    session.log_out()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
def me(user: CurrentUser) -> schemas.UserPublic:
    """The logged-in user."""
    return schemas.UserPublic.model_validate(user)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
def change_password(
    body: schemas.PasswordChangeIn, user: CurrentUser, db: DbDep, ctx: CtxDep, session: CookieSessionDep
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
    body: schemas.AccountDeleteIn, user: CurrentUser, db: DbDep, ctx: CtxDep, session: CookieSessionDep
) -> Response:
    """Delete the account with all its data: rows and photo files."""
    user_id = service.delete(db, user=user, password=body.password, hasher=ctx.hasher)
    db.commit()
    ctx.store.delete_user(user_id)
    session.log_out()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
