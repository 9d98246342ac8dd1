"""Check-in schemas: a 0-4 self-rating and ticked symptom ids; the stored triage verdict."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.triage import SYMPTOMS
from needlecare.web.validators import EventDate


def rating_labels() -> dict[int, str]:
    """The 0-4 self-rating choices, worded with the Patient Self-Assessment anchors of ``grading.yaml``."""
    anchors = evidence().grading.scales["psa"].anchors
    return {int(n): f"{n} – {text}" for n, text in sorted(anchors.items())}


#: Urgency -> headline shown above the verdict (what to do, in plain words).
URGENCY_HEADLINES: dict[str, str] = {
    "emergency": "EMERGENCY: get medical help now — call your local emergency number (112 / 911 / 999).",
    "same_day": "Contact your practitioner or a doctor today.",
    "within_48h": "Contact your practitioner within the next 48 hours.",
    "routine": "Keep watching; mention it at your next contact with your practitioner.",
    "expected": "This is expected at this stage of recovery.",
}


def _known_symptoms(values: list[str]) -> list[str]:
    unknown = [s for s in values if s not in SYMPTOMS]
    if unknown:
        raise ValueError(f"unknown symptom {unknown[0]!r}; known: {', '.join(sorted(SYMPTOMS))}")
    return list(dict.fromkeys(values))


SymptomList = Annotated[list[str], Field(max_length=len(SYMPTOMS)), AfterValidator(_known_symptoms)]


class CheckInCreate(BaseModel):
    """One daily check-in. ``checked_on`` defaults to today in the treatment's time zone."""

    self_rating: int = Field(ge=0, le=4, description="self-rated redness, 0 (none) to 4 (severe)")
    symptoms: SymptomList = Field(default_factory=list)
    checked_on: EventDate | None = None


class ClinicContact(BaseModel):
    """A clinic's emergency contact, shown with an urgent verdict."""

    clinic_id: int
    name: str
    emergency_contact: str


class CheckInPublic(BaseModel):
    """A stored check-in with its triage verdict (``urgency``, ``reasons`` with sources, ``disclaimer``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    treatment_id: int
    checked_on: dt.date
    day: int
    self_rating: int
    symptoms: list[str]
    triage: dict[str, Any]
    created_at: dt.datetime
    clinic_contacts: list[ClinicContact] = Field(
        default_factory=list,
        description="For a verdict more urgent than routine: the emergency contact of each clinic the "
        "patient joined (an emergency verdict still means calling the local emergency number first)",
    )
