"""Ingredient check: the knowledge layer's ``check_ingredients`` with errors mapped to 422."""

from __future__ import annotations

from typing import Any

from needlecare.knowledge.ingredients import IngredientInputError, check_ingredients
from needlecare.knowledge.treatment_course import params_of
from needlecare.storage.models import Treatment
from needlecare.web.errors import UnprocessableError


def check(*, text: str, day: int, treatment: Treatment | None = None) -> dict[str, Any]:
    """``check_ingredients(text, day, treatment=...).to_dict()`` with the waits of the patient's recorded
    *treatment* (the cautious side of every wait without one); :class:`UnprocessableError` for text with no
    ingredient."""
    params = params_of(treatment) if treatment is not None else None
    try:
        return check_ingredients(text, day, treatment=params).to_dict()
    except IngredientInputError as exc:
        raise UnprocessableError(str(exc)) from exc
