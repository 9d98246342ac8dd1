"""Request dependencies and their short aliases.

``DbDep`` is the database session of the request, ``CookieSessionDep`` the signed cookie session (who is
logged in, the CSRF token), ``CurrentUser`` / ``OptionalUser`` the logged-in user and ``CtxDep`` the app's
context.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from needlecare.storage.models import EndedSession, User
from needlecare.web.context import WebContext
from needlecare.web.errors import CsrfFailedError, NotAuthenticatedError
from needlecare.web.form_errors import remember_form
from needlecare.web.middleware import session_of
from needlecare.web.security import CSRF_FIELD, CSRF_HEADER, SAFE_METHODS, SessionData, tokens_match

#: Largest row id accepted in a URL (32-bit signed, the smallest integer key of the supported databases).
MAX_ID = 2**31 - 1

#: A row id in a URL path.
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]


def get_ctx(request: Request) -> WebContext:
    """The app's shared context."""
    ctx: WebContext = request.app.state.ctx
    return ctx


CtxDep = Annotated[WebContext, Depends(get_ctx)]


def get_db(ctx: CtxDep) -> Iterator[Session]:
    """A database session for one request; routes commit explicitly, anything uncommitted is rolled back."""
    with ctx.sessions() as db:
        yield db


DbDep = Annotated[Session, Depends(get_db)]


def get_cookie_session(request: Request) -> SessionData:
    """The cookie session (always present: the middleware creates one for new visitors)."""
    return session_of(request.scope)


CookieSessionDep = Annotated[SessionData, Depends(get_cookie_session)]


def optional_user(session: CookieSessionDep, db: DbDep) -> User | None:
    """The logged-in user, or ``None``; a session from before a logout/password change is ignored."""
    if session.uid is None:
        return None
    user = db.get(User, session.uid)
    if user is None or user.session_version != session.sv:
        return None
    if session.sid and db.get(EndedSession, session.sid) is not None:
        return None
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUser) -> User:
    """The logged-in user; raises :class:`NotAuthenticatedError` otherwise."""
    if user is None:
        raise NotAuthenticatedError("Please log in.")
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def client_ip(request: Request) -> str:
    """The client address used for rate limiting."""
    return request.client.host if request.client else "unknown"


async def csrf_form_guard(request: Request) -> None:
    """HTML routes: unsafe requests need the session's token in the form (or the header).

    The form's fields are kept on the request, so that a form page can be drawn again filled in when the
    input is refused (:mod:`needlecare.web.form_errors`).
    """
    if request.method in SAFE_METHODS:
        return
    token = request.headers.get(CSRF_HEADER)
    if request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        remember_form(request, form)
        value = form.get(CSRF_FIELD)
        if token is None and isinstance(value, str):
            token = value
    if not tokens_match(session_of(request.scope).csrf, token):
        raise CsrfFailedError(
            "This form has expired or did not come from this site. Reload the page and try again."
        )


async def csrf_header_guard(request: Request) -> None:
    """API routes: unsafe requests need the ``X-CSRF-Token`` header matching the session."""
    if request.method in SAFE_METHODS:
        return
    if not tokens_match(session_of(request.scope).csrf, request.headers.get(CSRF_HEADER)):
        raise CsrfFailedError(
            f"Missing or wrong {CSRF_HEADER} header; get one from GET /api/v1/auth/session."
        )
