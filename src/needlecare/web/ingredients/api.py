"""JSON API for the ingredient check."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needlecare.web.deps import CurrentUser
from needlecare.web.ingredients import schemas, service

router = APIRouter(tags=["ingredients"])


@router.post("/ingredients/check", responses={422: {"description": "No ingredient found, or invalid day"}})
def check_ingredients(body: schemas.IngredientCheckIn, user: CurrentUser) -> dict[str, Any]:
    """Verdict for every ingredient on the label for that day after treatment, with reasons and sources."""
    return service.check(text=body.text, day=body.day)
