"""The front page: a welcome for visitors, the treatment list for patients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from needlecare.web.deps import CtxDep, DbDep, OptionalUser
from needlecare.web.templating import render
from needlecare.web.treatments import service as treatments
from needlecare.web.treatments import today

router = APIRouter(include_in_schema=False)


@router.get("/")
def home(
    request: Request,
    user: OptionalUser,
    db: DbDep,
    ctx: CtxDep,
    deleted: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Welcome page, or the patient's treatments with today's card of each active one first."""
    if user is None:
        return render(request, "welcome.html")
    mine = list(treatments.get_all(db, user=user))
    cards = today.active(db, mine, reminder_hour=ctx.settings.jobs.reminder_hour)
    context = {"user": user, "treatments": mine, "cards": cards, "deleted": deleted}
    return render(request, "home.html", context)
