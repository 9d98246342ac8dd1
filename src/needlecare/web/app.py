"""The FastAPI application: HTML pages at ``/``, the JSON API (own OpenAPI schema) at ``/api/v1``."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from needlecare import __version__
from needlecare.knowledge.common import InvalidInputError
from needlecare.settings import Settings
from needlecare.storage.migrate import upgrade
from needlecare.web import routes
from needlecare.web.context import WebContext
from needlecare.web.deps import csrf_form_guard, csrf_header_guard
from needlecare.web.errors import NotAuthenticatedError, WebError
from needlecare.web.headers import HeaderLimitMiddleware
from needlecare.web.input_guard import InputGuardMiddleware
from needlecare.web.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware, SessionMiddleware
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


def _api_app(ctx: WebContext) -> FastAPI:
    api = FastAPI(
        title="needlecare API",
        version=__version__,
        description="Decision support after microneedling, not a diagnosis. Cookie session auth; unsafe "
        "methods need the X-CSRF-Token header from GET /auth/session.",
        dependencies=[Depends(csrf_header_guard)],
        docs_url=None,  # Swagger UI would load from a CDN; the schema is at /openapi.json
        redoc_url=None,
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
        return await http_exception_handler(request, exc)

    for router in routes.API_ROUTERS:
        api.include_router(router)
    return api


def _install_page_handlers(app: FastAPI) -> None:
    @app.exception_handler(WebError)
    async def web_error(request: Request, exc: WebError) -> Response:
        if isinstance(exc, NotAuthenticatedError):
            return RedirectResponse("/login", status_code=303)
        message = NOT_FOUND_PAGE if exc.status == 404 else exc.message
        return render(
            request, "error.html", {"status": exc.status, "message": message}, status_code=exc.status
        )

    @app.exception_handler(InvalidInputError)
    async def stored_value_error(request: Request, exc: InvalidInputError) -> Response:
        context = {"status": 422, "message": STORED_VALUE + str(exc)}
        return render(request, "error.html", context, status_code=422)

    @app.exception_handler(RequestValidationError)
    async def invalid_form(request: Request, exc: RequestValidationError) -> Response:
        context: dict[str, Any] = {
            "status": 422,
            "message": "Some of what you entered could not be used:",
            "details": _validation_messages(exc),
        }
        return render(request, "error.html", context, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 400:  # a body that could not be parsed at all is invalid input too
            return render(request, "error.html", {"status": 422, "message": MALFORMED}, status_code=422)
        message = NOT_FOUND_PAGE if exc.status_code == 404 else str(exc.detail)
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "message": message},
            status_code=exc.status_code,
        )


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
    ctx = WebContext.build(settings, engine)
    app = FastAPI(
        title="needlecare",
        version=__version__,
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
    app.add_middleware(InputGuardMiddleware)
    app.add_middleware(SessionMiddleware, codec=ctx.codec, secure=settings.cookie_secure)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_upload_bytes + FORM_OVERHEAD_BYTES)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        HeaderLimitMiddleware, max_bytes=settings.max_header_bytes, max_count=settings.max_header_count
    )
    return app
