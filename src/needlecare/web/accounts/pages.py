"""HTML pages for accounts: sign up, log in, log out, account settings (password, deletion)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from needlecare.storage.models import User
from needlecare.web.accounts import schemas, service
from needlecare.web.accounts.api import login_or_raise
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, OptionalUser, SessionDep, client_ip
from needlecare.web.errors import ConflictError, InvalidCredentialsError, NotAuthenticatedError
from needlecare.web.form_errors import shows_errors_on
from needlecare.web.ratelimit import enforce
from needlecare.web.templating import render

router = APIRouter(include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/signup")
def signup_page(request: Request, user: OptionalUser) -> Response:
    """The sign-up form."""
    if user is not None:
        return _see_other("/")
    return render(request, "signup.html")


@router.post("/signup")
def signup(
    request: Request, form: Annotated[schemas.SignupIn, Form()], db: DbDep, ctx: CtxDep, session: SessionDep
) -> Response:
    """Create the account, log in and go to the dashboard."""
    enforce(ctx.limits, "signup", ip=client_ip(request))
    try:
        user = service.create(db, email=form.email, password=form.password, hasher=ctx.hasher)
    except ConflictError as exc:
        return render(request, "signup.html", {"error": exc.message, "email": form.email}, status_code=409)
    db.commit()
    session.log_in(user.id, user.session_version)
    return _see_other("/")


@router.get("/login")
def login_page(request: Request, user: OptionalUser) -> Response:
    """The login form."""
    if user is not None:
        return _see_other("/")
    return render(request, "login.html")


@router.post("/login")
def login(
    request: Request, form: Annotated[schemas.LoginIn, Form()], db: DbDep, ctx: CtxDep, session: SessionDep
) -> Response:
    """Log in and go to the dashboard; wrong credentials show the form again (401)."""
    try:
        user = login_or_raise(request, db, ctx, email=form.email, password=form.password)
    except InvalidCredentialsError as exc:
        return render(request, "login.html", {"error": exc.message, "email": form.email}, status_code=401)
    session.log_in(user.id, user.session_version)
    return _see_other("/")


@router.post("/logout")
def logout(db: DbDep, session: SessionDep, user: OptionalUser) -> Response:
    """Log out everywhere and return to the front page."""
    if user is not None:
        service.revoke_sessions(user=user)
        db.commit()
    session.log_out()
    return _see_other("/")


def _account_context(
    _request: Request, _db: Session, user: User | None, _params: Mapping[str, Any]
) -> dict[str, Any]:
    if user is None:
        raise NotAuthenticatedError("Please log in.")
    return {"user": user, "values": {"display_name": user.display_name or ""}}


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
    context = _account_context(request, db, user, {})
    return render(request, "account.html", {**context, "message": "Your name for reports was saved."})


@router.post("/account/password")
def change_password(
    request: Request,
    form: Annotated[schemas.PasswordChangeIn, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    """Change the password; stays logged in here, other sessions end."""
    try:
        service.change_password(
            db, user=user, current=form.current_password, new=form.new_password, hasher=ctx.hasher
        )
    except InvalidCredentialsError as exc:
        return render(request, "account.html", {"user": user, "error": exc.message}, status_code=401)
    db.commit()
    session.log_in(user.id, user.session_version)
    return render(request, "account.html", {"user": user, "message": "Your password was changed."})


@router.post("/account/delete")
def delete_account(
    request: Request,
    form: Annotated[schemas.AccountDeleteIn, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    session: SessionDep,
) -> Response:
    """Delete the account with every treatment, photo (rows and files) and check-in."""
    try:
        user_id = service.delete(db, user=user, password=form.password, hasher=ctx.hasher)
    except InvalidCredentialsError as exc:
        return render(request, "account.html", {"user": user, "error": exc.message}, status_code=401)
    db.commit()
    ctx.store.delete_user(user_id)
    session.log_out()
    return render(request, "deleted.html")
