"""Ingredient check schemas."""

from __future__ import annotations

from pydantic import BaseModel, Field

#: Longest label text accepted, in characters (a long INCI list is ~2 000).
MAX_TEXT = 20_000


class IngredientCheckIn(BaseModel):
    """An INCI list and the day after treatment to judge it for."""

    text: str = Field(min_length=1, max_length=MAX_TEXT, description="pasted INCI list")
    day: int = Field(ge=0, le=3650, description="days since treatment, 0 = treatment day")
    treatment_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="one of your treatments: its waits apply (without it: the longer waits, as if unknown)",
    )
