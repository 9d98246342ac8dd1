"""Treatment schemas: what the patient records about one microneedling session."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from needlecare.knowledge.treatment import MAX_DEPTH_MM, MAX_PASSES
from needlecare.web.validators import SafeText, TreatmentDate, clean_text

Device = Literal["roller", "pen", "rf", "stamp"]
Area = Literal["face", "neck", "chest", "body", "scalp"]


def _check_zone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a directory ("America")
        raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Berlin)") from exc
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


#: The IANA time zone names the schema lists (the zone database the server has).
ZONE_NAMES = sorted(zoneinfo.available_timezones())

TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=64, json_schema_extra={"enum": ZONE_NAMES}),
    AfterValidator(clean_text),
    AfterValidator(_check_zone),
]
OptionalText = Annotated[Annotated[str, Field(max_length=2000)] | None, BeforeValidator(_blank_to_none)]
OptionalSafeText = Annotated[
    Annotated[SafeText, Field(max_length=2000)] | None, BeforeValidator(_blank_to_none)
]


class TreatmentBase(BaseModel):
    """Fields shared by create and read. Depth in mm, Fitzpatrick skin type 1-6."""

    treated_on: dt.date
    device: Device
    depth_mm: float = Field(gt=0, le=MAX_DEPTH_MM, description="needle depth in mm")
    passes: int = Field(ge=1, le=MAX_PASSES)
    area: Area
    skin_type: int = Field(ge=1, le=6, description="Fitzpatrick skin type")
    sensitive: bool = False
    rosacea: bool = False
    bleeding: bool = Field(default=False, description="pinpoint bleeding during the treatment")
    prp: bool = Field(default=False, description="platelet-rich plasma applied")
    serum: bool = Field(default=False, description="serum applied during the treatment")
    cold_sore: bool = Field(default=False, description="the patient has had cold sores (herpes labialis)")
    timezone: TimeZone = "UTC"
    notes: OptionalText = None


class TreatmentCreate(TreatmentBase):
    """Record a treatment: dated from 2000-01-01 to today, notes without NUL characters or lone surrogates."""

    treated_on: TreatmentDate
    notes: OptionalSafeText = None


class TreatmentUpdate(BaseModel):
    """Partial update: only the fields sent are changed."""

    treated_on: TreatmentDate | None = None
    device: Device | None = None
    depth_mm: float | None = Field(default=None, gt=0, le=MAX_DEPTH_MM)
    passes: int | None = Field(default=None, ge=1, le=MAX_PASSES)
    area: Area | None = None
    skin_type: int | None = Field(default=None, ge=1, le=6)
    sensitive: bool | None = None
    rosacea: bool | None = None
    bleeding: bool | None = None
    prp: bool | None = None
    serum: bool | None = None
    cold_sore: bool | None = None
    timezone: TimeZone | None = None
    notes: OptionalSafeText = None


class TreatmentPublic(TreatmentBase):
    """A treatment as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: dt.datetime


class TreatmentDetail(TreatmentPublic):
    """A treatment with today's day number, expected course and today's aftercare (None outside the plan)."""

    today: dt.date
    day: int
    expected: dict[str, Any]
    today_plan: dict[str, Any] | None
