"""Treatment schemas: what the patient records about one microneedling session."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

Device = Literal["roller", "pen", "rf", "stamp"]
Area = Literal["face", "neck", "chest", "body", "scalp"]


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Berlin)") from exc
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_check_zone)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none), Field(max_length=2000)]


class TreatmentBase(BaseModel):
    """Fields shared by create and read. Depth in mm, Fitzpatrick skin type 1-6."""

    treated_on: dt.date
    device: Device
    depth_mm: float = Field(gt=0, le=5, description="needle depth in mm")
    passes: int = Field(ge=1, le=50)
    area: Area
    skin_type: int = Field(ge=1, le=6, description="Fitzpatrick skin type")
    sensitive: bool = False
    rosacea: bool = False
    bleeding: bool = Field(default=False, description="pinpoint bleeding during the treatment")
    prp: bool = Field(default=False, description="platelet-rich plasma applied")
    serum: Annotated[str | None, BeforeValidator(_blank_to_none), Field(max_length=200)] = None
    timezone: TimeZone = "UTC"
    notes: OptionalText = None


class TreatmentCreate(TreatmentBase):
    """Record a treatment."""


class TreatmentUpdate(BaseModel):
    """Partial update: only the fields sent are changed."""

    treated_on: dt.date | None = None
    device: Device | None = None
    depth_mm: float | None = Field(default=None, gt=0, le=5)
    passes: int | None = Field(default=None, ge=1, le=50)
    area: Area | None = None
    skin_type: int | None = Field(default=None, ge=1, le=6)
    sensitive: bool | None = None
    rosacea: bool | None = None
    bleeding: bool | None = None
    prp: bool | None = None
    serum: Annotated[str | None, BeforeValidator(_blank_to_none), Field(max_length=200)] = None
    timezone: TimeZone | None = None
    notes: OptionalText = None


class TreatmentPublic(TreatmentBase):
    """A treatment as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: dt.datetime
