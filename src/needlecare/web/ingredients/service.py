"""Ingredient check: the knowledge layer's ``check_ingredients`` with errors mapped to 422."""

from __future__ import annotations

from typing import Any

from needlecare.knowledge.ingredients import IngredientInputError, check_ingredients
from needlecare.web.errors import UnprocessableError


def check(*, text: str, day: int) -> dict[str, Any]:
    """``check_ingredients(text, day).to_dict()``; :class:`UnprocessableError` for text with no ingredient."""
    try:
        return check_ingredients(text, day).to_dict()
    except IngredientInputError as exc:
        raise UnprocessableError(str(exc)) from exc
