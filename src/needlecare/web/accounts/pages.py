"""HTML pages for accounts: sign up, log in, log out, account settings (password, deletion)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from needlecare.jobs.queue import SEND_MAIL
from needlecare.storage.models import User
from needlecare.web.accounts import recovery, schemas, service
from needlecare.web.accounts.recovery import FORGOT_ANSWER, forgot_and_mail, signup_and_mail, tokens_of
from needlecare.web.clinics import photos as clinic_photos
from needlecare.web.deps import CookieSessionDep, CtxDep, CurrentUser, DbDep, OptionalUser, client_ip
from needlecare.web.errors import InvalidCredentialsError, NotAuthenticatedError, UnprocessableError, WebError
from needlecare.web.form_errors import shows_errors_on
from needlecare.web.ratelimit import enforce
from needlecare.web.templating import render

router = APIRouter(include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _account(request: Request, db: Session, context: dict[str, Any], status_code: int = 200) -> Response:
    """The account page, with the audit trail of clinic staff viewing the user's shared photos."""
    page = _account_context(request, db, context["user"], {})
    return render(request, "account.html", page | context, status_code=status_code)


NextPath = Annotated[str | None, Query(max_length=2000)]
NextField = Annotated[str | None, Form(max_length=2000)]


def _entry_form(request: Request, user: User | None, next: str | None, template: str) -> Response:
    """A form for visitors (sign-up, login): someone already logged in goes on to *next* or home."""
    if user is not None:
        return _see_other(recovery.safe_next(next) or "/")
    return render(request, template, {"next": recovery.safe_next(next)})


@router.get("/signup")
def signup_page(request: Request, user: OptionalUser, next: NextPath = None) -> Response:
    """The sign-up form; *next* (a path on this site) is where the verification link leads afterwards."""
    return _entry_form(request, user, next, "signup.html")


@router.post("/signup")
def signup(
    request: Request,
    form: Annotated[schemas.SignupIn, Form()],
    db: DbDep,
    ctx: CtxDep,
    next: NextField = None,
) -> Response:
    """Ask for an account; the page says the same whether or not the address has one (see the API)."""
    enforce(ctx.limits, "signup", ip=client_ip(request))
    signup_and_mail(db, ctx, email=form.email, password=form.password, next_path=recovery.safe_next(next))
    context = {"title": "Check your inbox", "message": schemas.SignupAccepted().detail}
    return render(request, "account_message.html", context)


@router.get("/account/verify")
def verify_page(
    request: Request,
    token: Annotated[str, Query(max_length=512)],
    db: DbDep,
    ctx: CtxDep,
    session: CookieSessionDep,
    next: NextPath = None,
) -> Response:
    """Confirm the address from the mailed link and log in; go on to *next* when the link has one."""
    try:
        user = recovery.verify(db, tokens=tokens_of(ctx), token=token)
    except WebError as exc:
        context = {"title": "This link does not work", "message": exc.message}
        return render(request, "account_message.html", context, status_code=exc.status)
    db.commit()
    session.log_in(user.id, user.session_version)
    if (target := recovery.safe_next(next)) is not None:
        return _see_other(target)
    context = {"title": "Address confirmed", "message": "Thank you: your e-mail address is confirmed."}
    return render(request, "account_message.html", context | {"user": user, "home": True})


@router.post("/account/verify/resend")
def resend_verification(request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """Mail a new verification link."""
    if user.email_verified_at is None:
        delivery_id = recovery.verification_mail(
            db, user=user, tokens=tokens_of(ctx), base_url=ctx.settings.base_url
        )
        db.commit()
        ctx.jobs.enqueue(SEND_MAIL, delivery_id)
    return _account(request, db, {"user": user, "message": "We sent you a new link."})


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    """Ask for a password-reset link."""
    return render(request, "password_forgot.html")


@router.post("/password/forgot")
def forgot(request: Request, form: Annotated[schemas.EmailIn, Form()], db: DbDep, ctx: CtxDep) -> Response:
    """Mail a reset link if the address has an account; the page says the same either way (limited per
    account and client address: 429)."""
    enforce(ctx.limits, "password-reset", email=form.email, ip=client_ip(request))
    forgot_and_mail(db, ctx, email=form.email)
    return render(request, "account_message.html", {"title": "Check your inbox", "message": FORGOT_ANSWER})


@router.get("/password/reset")
def reset_page(request: Request, token: Annotated[str, Query(max_length=512)]) -> Response:
    """The new-password form of a reset link."""
    return render(request, "password_reset.html", {"token": token})


@router.post("/password/reset")
def reset(
    request: Request,
    token: Annotated[str, Form(max_length=512)],
    new_password: Annotated[str, Form(max_length=schemas.MAX_ANY_PASSWORD)],
    db: DbDep,
    ctx: CtxDep,
    session: CookieSessionDep,
) -> Response:
    """Set the new password; every session ends, then log in with it."""
    try:
        recovery.reset(db, tokens=tokens_of(ctx), token=token, new=new_password, hasher=ctx.hasher)
    except UnprocessableError as exc:
        return render(
            request, "password_reset.html", {"token": token, "error": exc.message}, status_code=exc.status
        )
    except WebError as exc:
        failed: dict[str, object] = {
            "title": "This link does not work",
            "message": exc.message,
            "forgot": True,
        }
        return render(request, "account_message.html", failed, status_code=exc.status)
    db.commit()
    session.log_out()
    context = {"title": "Password changed", "message": "Your new password is set; log in with it."}
    return render(request, "account_message.html", context | {"login": True})


@router.get("/login")
def login_page(request: Request, user: OptionalUser, next: NextPath = None) -> Response:
    """The login form; *next* (a path on this site) is where it goes after logging in."""
    return _entry_form(request, user, next, "login.html")


@router.post("/login")
def login(
    request: Request,
    form: Annotated[schemas.LoginIn, Form()],
    db: DbDep,
    ctx: CtxDep,
    session: CookieSessionDep,
    next: NextField = None,
) -> Response:
    """Log in and go to *next* (else the home page); wrong credentials show the form again (401)."""
    target = recovery.safe_next(next)
    try:
        user = service.login_or_raise(request, db, ctx, email=form.email, password=form.password)
    except InvalidCredentialsError as exc:
        context = {"error": exc.message, "email": form.email, "next": target}
        return render(request, "login.html", context, status_code=401)
    session.log_in(user.id, user.session_version)
    return _see_other(target or "/")


@router.post("/logout")
def logout(db: DbDep, ctx: CtxDep, session: CookieSessionDep, user: OptionalUser) -> Response:
    """Log out of this browser and return to the front page."""
    if user is not None:
        service.end_session(db, user=user, sid=session.sid, max_age_s=ctx.settings.web.session_max_age_s)
        db.commit()
    session.log_out()
    return _see_other("/")


def _account_context(
    _request: Request, db: Session, user: User | None, _params: Mapping[str, Any]
) -> dict[str, Any]:
    if user is None:
        raise NotAuthenticatedError("Please log in.")
    return {
        "user": user,
        "values": {"display_name": user.display_name or ""},
        "photo_views": clinic_photos.views_of(db, user=user),
    }


@router.post("/account/logout-everywhere")
def logout_everywhere(db: DbDep, session: CookieSessionDep, user: CurrentUser) -> Response:
    """End every session of the account (all browsers and apps) and return to the front page."""
    service.revoke_sessions(db, user=user)
    db.commit()
    session.log_out()
    return _see_other("/")


@router.get("/account")
def account_page(request: Request, user: CurrentUser, db: DbDep) -> Response:
    """The name for reports, downloads, password change and account deletion."""
    return render(request, "account.html", _account_context(request, db, user, {}))


@router.post("/account/name")
@shows_errors_on("account.html", _account_context, {"display_name": "Your name"})
def save_display_name(
    request: Request, form: Annotated[schemas.DisplayNameIn, Form()], user: CurrentUser, db: DbDep
) -> Response:
    """Store the name the patient wants on their reports (trimmed; empty removes it)."""
    user.display_name = " ".join(form.display_name.split()) or None
    db.commit()
    return _account(request, db, {"user": user, "message": "Your name for reports was saved."})


@router.post("/account/password")
def change_password(
    request: Request,
    form: Annotated[schemas.PasswordChangeIn, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    session: CookieSessionDep,
) -> Response:
    """Change the password; stays logged in here, other sessions end."""
    try:
        service.change_password(
            db, user=user, current=form.current_password, new=form.new_password, hasher=ctx.hasher
        )
    except (InvalidCredentialsError, UnprocessableError) as exc:
        return _account(request, db, {"user": user, "error": exc.message}, status_code=exc.status)
    db.commit()
    session.log_in(user.id, user.session_version)
    return _account(request, db, {"user": user, "message": "Your password was changed."})


@router.post("/account/delete")
def delete_account(
    request: Request,
    form: Annotated[schemas.AccountDeleteIn, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    session: CookieSessionDep,
) -> Response:
    """Delete the account with every treatment, photo (rows and files) and check-in."""
    try:
        user_id = service.delete(db, user=user, password=form.password, hasher=ctx.hasher)
    except InvalidCredentialsError as exc:
        return _account(request, db, {"user": user, "error": exc.message}, status_code=401)
    db.commit()
    ctx.store.delete_user(user_id)
    session.log_out()
    return render(request, "deleted.html")
