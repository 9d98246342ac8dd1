"""Jinja2 templates (autoescaped) and the one render helper every page uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from needlecare.knowledge.curve import CLASSIFICATION_WORDS
from needlecare.web.middleware import session_of
from needlecare.web.treatments.labels import DEVICE_NAMES

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
#: The devices by name on every page ("Microneedling pen", not "pen").
templates.env.globals["device_names"] = DEVICE_NAMES
#: Recovery-curve classifications in the patient's words, the same on every page.
templates.env.globals["classification_words"] = CLASSIFICATION_WORDS

#: Shown on every page that carries a clinical verdict.
DISCLAIMER = "Decision support, not a diagnosis. If you are worried, contact your practitioner or a doctor."


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """Render template *name* with the CSRF token, the current user (if any) and the disclaimer."""
    data: dict[str, Any] = {
        "csrf_token": session_of(request.scope).csrf,
        "disclaimer": DISCLAIMER,
        "user": None,
    }
    data.update(context or {})
    response = templates.TemplateResponse(request, name, data, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response
