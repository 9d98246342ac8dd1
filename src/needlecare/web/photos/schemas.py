"""Photo schemas: the consent choice and the public view of a stored photo with its analysis."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from needlecare.storage.photo_analysis import PhotoAnalysis

Consent = Literal["private", "clinician", "research"]

#: What each consent choice means, as shown next to the choice (no choice is pre-selected).
CONSENT_CHOICES: dict[str, str] = {
    "private": "Only for my own tracking in this app. Nobody else sees it.",
    "clinician": "I may also share it with my practitioner (for example in an exported report).",
    "research": "It may also be used, de-identified, to improve the redness measurement.",
}


class PhotoPublic(BaseModel):
    """A stored photo: ``day`` since treatment, consent and analysis (``analyze_photo(...).to_dict()`` with
    the heatmap's colour scale, as stored; keys the stored analysis does not have are left out, not ``null``).

    ``analysis`` is ``null`` while ``analysis_status`` is ``pending`` (the analysis job has not finished);
    ``failed`` comes with ``analysis_error``.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    treatment_id: int
    taken_on: dt.date
    day: int
    is_baseline: bool
    consent: Consent
    width: int
    height: int
    analysis: PhotoAnalysis | None
    analysis_status: Literal["pending", "done", "failed"]
    analysis_error: str | None = None
    created_at: dt.datetime
    image_url: str = ""

    @classmethod
    def of(cls, photo: Any) -> PhotoPublic:
        """From a :class:`~needlecare.storage.models.Photo` row, with its image URL."""
        out = cls.model_validate(photo)
        out.image_url = f"/api/v1/photos/{photo.id}/image"
        return out


class BaselineLight(BaseModel):
    """How the checked photo's light compares with the treatment's baseline photo."""

    baseline_photo_id: int
    lighting_differs: bool
    comparable: bool = Field(
        description="False: other light and no colour card; the change cannot be trusted"
    )
    notes: list[str]


class PhotoCheck(BaseModel):
    """Result of the pre-upload check: nothing is stored."""

    quality: dict[str, Any]
    redness: dict[str, Any]
    baseline: BaselineLight | None = Field(
        default=None, description="Only when a treatment with a baseline photo was named"
    )
    advice: list[str] = Field(
        default_factory=list,
        description="What to change before saving, in plain words (empty: the photo is fine to save)",
    )
