"""The ingredient check page: paste a label, get verdicts for today (or a chosen day) after treatment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from needlecare.web.deps import MAX_ID, CurrentUser, DbDep
from needlecare.web.errors import UnprocessableError
from needlecare.web.ingredients import schemas, service
from needlecare.web.templating import render
from needlecare.web.treatments import service as treatments

router = APIRouter(include_in_schema=False)


@router.get("/ingredients")
def ingredients_page(
    request: Request,
    user: CurrentUser,
    db: DbDep,
    treatment: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The form; the day is prefilled from the chosen (or latest) treatment."""
    chosen = None
    if treatment is not None:
        chosen = treatments.get(db, user=user, treatment_id=treatment)
    else:
        chosen = next(iter(treatments.get_all(db, user=user)), None)
    day = max(0, treatments.day_number(chosen, treatments.today(chosen))) if chosen else 0
    return render(request, "ingredients.html", {"user": user, "day": day, "text": "", "t": chosen})


@router.post("/ingredients")
def check(
    request: Request,
    text: Annotated[str, Form(min_length=1, max_length=schemas.MAX_TEXT)],
    day: Annotated[int, Form(ge=0, le=3650)],
    user: CurrentUser,
    db: DbDep,
    treatment: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Verdicts for the pasted label, with the waits of the chosen treatment."""
    chosen = treatments.get(db, user=user, treatment_id=treatment) if treatment is not None else None
    context: dict[str, object] = {"user": user, "day": day, "text": text, "t": chosen}
    try:
        context["report"] = service.check(text=text, day=day, treatment=chosen)
    except UnprocessableError as exc:
        context["error"] = exc.message
        return render(request, "ingredients.html", context, status_code=422)
    return render(request, "ingredients.html", context)
