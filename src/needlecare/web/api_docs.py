"""What the API declares about its errors: the two error bodies and every status any operation may answer.

Every error answer is JSON of one of two shapes: :class:`ErrorBody` (a sentence and a machine-readable
``code``) or, for input that does not fit the schema, :class:`ValidationErrorBody` (one entry per problem,
as FastAPI writes them).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorBody(BaseModel):
    """An error: what went wrong in a sentence, and a stable code (``not_found``, ``rate_limited``...)."""

    detail: str
    code: str


class FieldError(BaseModel):
    """One problem with the input: where (``loc``), what (``msg``) and its kind (``type``)."""

    model_config = ConfigDict(extra="allow")

    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorBody(BaseModel):
    """Input that does not fit the schema (or holds a value no field may take)."""

    detail: list[FieldError] = Field(min_length=1)


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description, **extra}


#: Status codes any operation may answer, with their bodies (merged into every operation's responses).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _error("Not logged in"),
    403: _error("Missing or wrong X-CSRF-Token header, or a role that may not do this"),
    404: _error("No such resource for this user"),
    405: _error("Method not allowed on this path; the Allow header lists the methods that are"),
    409: _error("The request clashes with existing data"),
    413: _error("Request body or photo too large"),
    415: _error("Not a JPEG, PNG or HEIC photo"),
    422: {
        "model": ValidationErrorBody | ErrorBody,
        "description": "Input that does not fit the schema, or content that cannot be used",
    },
    429: _error(
        "Too many requests",
        headers={"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}},
    ),
    431: _error("Request headers too many or too large"),
}


def with_error_bodies(responses: dict[int | str, dict[str, Any]]) -> dict[int | str, dict[str, Any]]:
    """*responses* of one operation with the error body model added to each error status it describes
    without one (its own description is kept)."""
    out = dict(responses)
    for status, spec in responses.items():
        common = ERROR_RESPONSES.get(status)
        if common is not None and "model" not in spec and "content" not in spec:
            out[status] = {**common, **spec}
    return out
