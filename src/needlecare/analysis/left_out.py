"""Why a photo's change from its baseline is not trusted, said once for every page, export and record.

The comparison itself decides (:func:`needlecare.analysis.baseline.compare_with_baseline`, stored as
``baseline.comparable``); this module words its verdict: the reason, and what to do for the next photo.
"""

from __future__ import annotations

from dataclasses import dataclass

from needlecare.storage.photo_analysis import PhotoAnalysis


@dataclass(frozen=True)
class LeftOut:
    """A photo left out of the recovery curve: a short *label* (tables), the *reason* in plain words, and
    the *advice* for the next photo."""

    label: str
    reason: str
    advice: str

    def __str__(self) -> str:
        return f"{self.reason} {self.advice}"


SEVERAL_FACES = LeftOut(
    "more than one face",
    "More than one face is in this photo: the largest one was measured and it may not be the patient's, so "
    "the photo is not compared with the baseline photo and is left out of the recovery curve.",
    "Take a photo of yourself alone.",
)
OTHER_LIGHT = LeftOut(
    "other light than the baseline",
    "This photo was taken under different light from the baseline photo, neither has a colour card, and "
    "neither the eyes nor what surrounds the face (hair, clothing, background) showed the change of light "
    "clearly enough to correct it, so the change from baseline mixes skin and light; the photo is left out "
    "of the recovery curve.",
    "Take the next photo in the same place and light as the baseline, looking at the camera.",
)


def left_out(analysis: PhotoAnalysis | None) -> LeftOut | None:
    """Why *analysis* is left out of the recovery curve, or None when its change from baseline is trusted
    (or it has no comparison)."""
    if analysis is None or analysis.baseline is None or analysis.comparable:
        return None
    return SEVERAL_FACES if analysis.several_faces else OTHER_LIGHT
