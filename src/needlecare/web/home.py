"""The front page: a welcome for visitors, the treatment list for patients."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from needlecare.web.deps import DbDep, OptionalUser
from needlecare.web.templating import render
from needlecare.web.treatments import service as treatments

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(request: Request, user: OptionalUser, db: DbDep) -> Response:
    """Welcome page, or the patient's treatments."""
    if user is None:
        return render(request, "welcome.html")
    return render(request, "home.html", {"user": user, "treatments": treatments.get_all(db, user=user)})
