"""The FastAPI application: HTML pages at ``/``, the JSON API (own OpenAPI schema) at ``/api/v1``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match

from needlecare import __version__
from needlecare.knowledge.common import InvalidInputError
from needlecare.settings import Settings
from needlecare.storage.migrate import upgrade
from needlecare.web import form_errors, routes
from needlecare.web.api_docs import ERROR_RESPONSES, with_error_bodies
from needlecare.web.clinics import alerts
from needlecare.web.context import WebContext
from needlecare.web.deps import csrf_form_guard, csrf_header_guard, optional_user
from needlecare.web.errors import NotAuthenticatedError, WebError
from needlecare.web.form_errors import form_page_of
from needlecare.web.headers import HeaderLimitMiddleware
from needlecare.web.input_guard import InputGuardMiddleware
from needlecare.web.middleware import (
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    SessionMiddleware,
    session_of,
)
from needlecare.web.templating import STATIC_DIR, render

NOT_FOUND_PAGE = "This page does not exist, or it is not yours."
#: Prefix of the answer when a stored value (recorded before today's rules) cannot be computed with.
STORED_VALUE = "A stored value cannot be used; correct it: "
MALFORMED = "The request body could not be read (malformed JSON or form data)."

#: Room for form fields and multipart framing on top of the photo size limit, in bytes.
FORM_OVERHEAD_BYTES = 256 * 1024


def _validation_messages(exc: RequestValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        out.append(f"{' → '.join(loc) or 'input'}: {err.get('msg', 'invalid value')}")
    return out


def _allowed_methods(request: Request) -> list[str]:
    """Every method some API route accepts on the request's path (for the ``Allow`` header)."""
    methods: set[str] = set()
    for route in (route for router in routes.API_ROUTERS for route in router.routes):
        if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods or set()
    return sorted(methods)


def _api_app(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="needlecare API",
        version=__version__,
        description="Decision support after microneedling, not a diagnosis. Cookie session auth; unsafe "
        "methods need the X-CSRF-Token header from GET /auth/session.",
        dependencies=[Depends(csrf_header_guard)],
        docs_url=None,  # Swagger UI would load from a CDN; the schema is at /openapi.json
        redoc_url=None,
        responses=ERROR_RESPONSES,
    )
    api.state.ctx = ctx

    @api.exception_handler(WebError)
    async def web_error(_request: Request, exc: WebError) -> Response:
        return JSONResponse({"detail": exc.message, "code": exc.code}, exc.status, headers=exc.headers)

    @api.exception_handler(InvalidInputError)
    async def stored_value_error(_request: Request, exc: InvalidInputError) -> Response:
        return JSONResponse({"detail": STORED_VALUE + str(exc), "code": "unprocessable"}, 422)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # FastAPI's "error parsing the body" (e.g. invalid UTF-8): invalid input
            return JSONResponse({"detail": MALFORMED, "code": "malformed_body"}, 422)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        return JSONResponse({"detail": str(exc.detail), "code": code}, exc.status_code, headers=headers)

    for router in routes.API_ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute):  # every error an operation describes gets its declared body
                route.responses = with_error_bodies(route.responses)
        api.include_router(router)
    return api


#: Statuses of a domain error that concern what the user entered: a form page shows them inline.
FORM_ERROR_STATUSES = frozenset({409, 413, 415, 422})


def _page_response(
    request: Request,
    status: int,
    message: str,
    *,
    code: str = "",
    details: list[str] | None = None,
    field_errors: list[tuple[str, str]] | None = None,
) -> Response:
    """An error answer of an HTML route: the form drawn again with its errors inline when the route has a
    form page and the errors concern the input, otherwise the error page; both keep the user's navigation.

    Runs in a worker thread (it reads the database).
    """
    ctx: WebContext = request.app.state.ctx
    with ctx.sessions() as db:
        user = optional_user(session_of(request.scope), db)
        page = form_page_of(request)
        if page is not None and field_errors is not None:
            try:
                return form_errors.rerender(request, page, db, user, field_errors, status_code=status)
            except WebError:
                pass  # the form's own page cannot be drawn (e.g. its record is gone): the error page instead
        context: dict[str, Any] = {
            "status": status,
            "code": code,
            "message": message,
            "details": details or [],
            "user": user,
        }
        return render(request, "error.html", context, status_code=status)


def _install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        if isinstance(exc, NotAuthenticatedError):
            return RedirectResponse("/login", status_code=303)
        message = NOT_FOUND_PAGE if exc.status == 404 else exc.message
        inline = (
            [(exc.field or form_errors.FORM_WIDE, exc.message)] if exc.status in FORM_ERROR_STATUSES else None
        )
        return await run_in_threadpool(
            _page_response, request, exc.status, message, code=exc.code, field_errors=inline
        )

    @app.exception_handler(InvalidInputError)
    async def stored_value_error(request: Request, exc: InvalidInputError) -> Response:
        return await run_in_threadpool(_page_response, request, 422, STORED_VALUE + str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        errors = [(form_errors.field_of(e), form_errors.plain_message(e)) for e in exc.errors()]
        return await run_in_threadpool(
            _page_response,
            request,
            422,
            "Some of what you entered could not be used:",
            code="invalid_input",
            details=_validation_messages(exc),
            field_errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # a body that could not be parsed at all is invalid input too
            return await run_in_threadpool(_page_response, request, 422, MALFORMED, code="malformed_body")
        message = NOT_FOUND_PAGE if exc.status_code == 404 else str(exc.detail)
        return await run_in_threadpool(_page_response, request, exc.status_code, message)


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, finish the jobs already handed to the background runner (photos being measured)."""
    yield
    await run_in_threadpool(app.state.ctx.jobs.close)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, migrate: bool = False
) -> FastAPI:
    """Build the ASGI app.

    Parameters
    ----------
    settings
        Configuration; read from the environment when omitted.
    engine
        Database engine to use instead of one built from ``settings.sqlalchemy_url``.
    migrate
        Run ``alembic upgrade head`` first (``needlecare serve`` does).
    """
    settings = settings or Settings()
    if migrate:
        upgrade(settings.sqlalchemy_url)
    ctx = WebContext.build(settings, engine, clinic_alerts=alerts.sync)
    app = FastAPI(
        title="needlecare",
        version=__version__,
        lifespan=_lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(csrf_form_guard)],
    )
    app.state.ctx = ctx
    _install_page_handlers(app)
    for router in routes.PAGE_ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    app.mount("/api/v1", _api_app(ctx))
    web = settings.web
    app.add_middleware(InputGuardMiddleware, max_body=web.max_text_body_bytes)
    app.add_middleware(SessionMiddleware, codec=ctx.codec, secure=web.cookie_secure)
    app.add_middleware(BodyLimitMiddleware, limit=web.max_upload_bytes + FORM_OVERHEAD_BYTES)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(HeaderLimitMiddleware, max_bytes=web.max_header_bytes, max_count=web.max_header_count)
    return app
