"""Form pages that show their errors inline: the form comes back filled in, each message next to its field.

A page route that handles a form registers, with :func:`shows_errors_on`, the template of its form and a
function that builds that template's context. When the route ends with invalid input (FastAPI's
:class:`~fastapi.exceptions.RequestValidationError`, or a :class:`~needlecare.web.errors.WebError` of a 4xx
status that concerns the input), :func:`rerender` draws the same form again with:

``values``
    What the user sent, field by field (a list for fields sent several times, such as ticked symptoms;
    files and the CSRF token left out), so nothing typed is lost.
``errors``
    ``{field name: plain-language message}``; a message that concerns no single field is under ``"form"``.
``error_summary``
    ``[(field name, label, message), ...]`` for the summary at the top of the form, in the form's order.

Messages are written for patients: "Please enter a date", not ``date_from_datetime_parsing``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from needlecare.storage.models import User
from needlecare.web.security import CSRF_FIELD
from needlecare.web.templating import render

#: Builds the form template's context: ``(request, db, user, path parameters) -> context``.
ContextBuilder = Callable[[Request, Session, User | None, Mapping[str, Any]], dict[str, Any]]

#: Where the form fields the request sent are kept for :func:`rerender` (``request.state``).
FORM_STATE_KEY = "submitted_form"

#: The key of a message that concerns the whole form rather than one field.
FORM_WIDE = "form"

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class FormPage:
    """How to draw a route's form again: its template, context and field labels."""

    template: str
    context: ContextBuilder
    labels: Mapping[str, str]
    default_field: str = FORM_WIDE


_PAGES: dict[Callable[..., Any], FormPage] = {}


def shows_errors_on(
    template: str,
    context: ContextBuilder,
    labels: Mapping[str, str] | None = None,
    *,
    default_field: str = FORM_WIDE,
) -> Callable[[F], F]:
    """Register the decorated route: its invalid input is shown inline on *template*.

    Parameters
    ----------
    template
        The form's template (it reads ``values``, ``errors`` and ``error_summary``).
    context
        Builds the rest of the template's context, as the route's GET page does.
    labels
        Field name → the label the form shows, for the error summary; unnamed fields are shown humanised.
    default_field
        The field a message that names none is shown next to (e.g. the photo of an upload form, whose
        errors are mostly about the file); the whole form by default.
    """

    def register(endpoint: F) -> F:
        _PAGES[endpoint] = FormPage(template, context, labels or {}, default_field)
        return endpoint

    return register


def form_page_of(request: Request) -> FormPage | None:
    """The registration of the route that handled *request*, if it shows its errors inline."""
    endpoint = request.scope.get("endpoint")
    return _PAGES.get(endpoint) if endpoint is not None else None


def remember_form(request: Request, form: FormData) -> None:
    """Keep the submitted fields on the request for :func:`rerender` (files and the CSRF token left out)."""
    values: dict[str, Any] = {}
    for key in dict.fromkeys(form.keys()):
        if key == CSRF_FIELD:
            continue
        kept = [v for v in form.getlist(key) if not isinstance(v, UploadFile)]
        if kept:
            values[key] = kept if len(kept) > 1 else kept[0]
    setattr(request.state, FORM_STATE_KEY, values)


def submitted_values(request: Request) -> dict[str, Any]:
    """The fields kept by :func:`remember_form` (empty when the request carried no form)."""
    values: dict[str, Any] = getattr(request.state, FORM_STATE_KEY, {})
    return dict(values)


#: Pydantic's bound errors: the context key of the bound and how the bound is said.
_BOUNDS = {
    "greater_than_equal": ("ge", "{} or more"),
    "greater_than": ("gt", "more than {}"),
    "less_than_equal": ("le", "{} or less"),
    "less_than": ("lt", "less than {}"),
}


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def plain_message(error: Mapping[str, Any]) -> str:
    """One pydantic error in plain words, without the field's name (it is shown next to the field).

    Parameters
    ----------
    error
        One item of ``ValidationError.errors()`` (``type``, ``msg``, ``ctx``).
    """
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == "missing":
        return "Please fill this in."
    if kind == "string_too_short":
        return (
            "Please fill this in."
            if ctx.get("min_length") == 1
            else f"Please write at least {ctx.get('min_length')} characters."
        )
    if kind == "string_too_long" or (kind == "too_long" and isinstance(error.get("input"), str)):
        return f"Please keep this to {ctx.get('max_length')} characters or fewer."
    if kind == "too_long":
        return f"Please choose at most {ctx.get('max_length')}."
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return f"Please enter {words.format(_number(ctx.get(key)))}."
    if kind in ("int_parsing", "int_from_float"):
        return "Please enter a whole number."
    if kind in ("float_parsing", "finite_number", "decimal_parsing"):
        return "Please enter a number."
    if kind.startswith("date") or kind.startswith("datetime"):
        return "Please enter a date (for example 2026-05-31)."
    if kind in ("literal_error", "enum"):
        return "Please choose one of the options."
    if kind == "bool_parsing":
        return "Please tick the box or leave it empty."
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return msg or "This value cannot be used."


def field_of(error: Mapping[str, Any]) -> str:
    """The form field an error belongs to (its first location after ``body``), or :data:`FORM_WIDE`."""
    loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
    return loc[0] if loc else FORM_WIDE


def humanise(name: str) -> str:
    """A field's name as words ("taken_on" → "Taken on")."""
    return name.replace("_", " ").capitalize()


def rerender(
    request: Request,
    page: FormPage,
    db: Session,
    user: User | None,
    errors: Sequence[tuple[str, str]],
    *,
    status_code: int,
) -> Response:
    """Draw *page*'s form again, filled in with what was sent, with *errors* (``(field, message)``) inline.

    The first message of each field is kept (pydantic may report several for one value).
    """
    by_field: dict[str, str] = {}
    for field_name, message in errors:
        by_field.setdefault(page.default_field if field_name == FORM_WIDE else field_name, message)
    context = page.context(request, db, user, request.path_params)
    stored: dict[str, Any] = context.get("values", {})
    sent = submitted_values(request)
    # A box left unticked is not sent at all: it is unticked, whatever the stored value says.
    values = {**{k: (False if isinstance(v, bool) else v) for k, v in stored.items()}, **sent}
    summary = [
        (name, page.labels.get(name) or ("" if name == FORM_WIDE else humanise(name)), message)
        for name, message in by_field.items()
    ]
    context.update({"values": values, "errors": by_field, "error_summary": summary})
    return render(request, page.template, context, status_code=status_code)
