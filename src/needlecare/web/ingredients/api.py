"""JSON API for the ingredient check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needlecare.web.deps import CurrentUser, DbDep
from needlecare.web.ingredients import schemas, service
from needlecare.web.treatments import service as treatments

router = APIRouter(tags=["ingredients"])


@router.post(
    "/ingredients/check",
    responses={
        404: {"description": "No such treatment of yours"},
        422: {"description": "No ingredient found, or invalid day"},
    },
)
def check_ingredients(body: schemas.IngredientCheckIn, user: CurrentUser, db: DbDep) -> dict[str, Any]:
    """Verdict for every ingredient on the label for that day after treatment, with reasons and sources.

    With ``treatment_id`` the waits are those of that recorded treatment (the same days as its aftercare
    plan); without it, the longer waits of an unknown treatment.
    """
    treatment = None
    if body.treatment_id is not None:
        treatment = treatments.get(db, user=user, treatment_id=body.treatment_id)
    return service.check(text=body.text, day=body.day, treatment=treatment)
