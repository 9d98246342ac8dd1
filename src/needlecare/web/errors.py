"""Domain errors and their one mapping to HTTP: JSON on the API, a friendly page on HTML routes."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import Session

T = TypeVar("T")


class WebError(Exception):
    """Base of the errors a request can end with; ``status`` and ``code`` are the HTTP mapping.

    ``field`` names the form field the error concerns, when it concerns one: a form page shows the message
    next to that field (see :mod:`needlecare.web.form_errors`).
    """

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self, message: str, headers: dict[str, str] | None = None, *, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.field = field


class NotFoundError(WebError):
    """Missing or owned by someone else (we never tell which)."""

    status, code = 404, "not_found"


class NotAuthenticatedError(WebError):
    """No valid session."""

    status, code = 401, "not_authenticated"


class InvalidCredentialsError(WebError):
    """Wrong e-mail or password."""

    status, code = 401, "invalid_credentials"


class CsrfFailedError(WebError):
    """Unsafe request without the session's CSRF token."""

    status, code = 403, "csrf_failed"


class ConflictError(WebError):
    """The request clashes with existing data (e-mail already registered)."""

    status, code = 409, "conflict"


class PayloadTooLargeError(WebError):
    """Upload above the configured size limit."""

    status, code = 413, "too_large"


class UnsupportedMediaError(WebError):
    """Upload that is not a JPEG, PNG or HEIC image."""

    status, code = 415, "unsupported_media"


class UnprocessableError(WebError):
    """Well-formed request whose content cannot be used (e.g. no face in the photo)."""

    status, code = 422, "unprocessable"


class RateLimitedError(WebError):
    """Too many failed login attempts."""

    status, code = 429, "rate_limited"


class ForbiddenError(WebError):
    """A member whose role does not allow this (e.g. a patient opening the staff dashboard)."""

    status, code = 403, "forbidden"


class InvalidTokenError(WebError):
    """A signed link that was tampered with or is not one of ours."""

    status, code = 400, "invalid_token"


class GoneError(WebError):
    """A single-use link that has expired or was already used."""

    status, code = 410, "gone"


def one_or_not_found(db: Session, stmt: Select[T], message: str) -> T:
    """The single row *stmt* selects; :class:`NotFoundError` with *message* when there is none (also for rows
    of other users, whose ids are simply not found)."""
    found = db.scalars(stmt).one_or_none()
    if found is None:
        raise NotFoundError(message)
    return found
