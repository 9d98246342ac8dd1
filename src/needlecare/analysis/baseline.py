"""Comparison of a follow-up photo with its baseline: registration, white-balance matching on the eyes,
per-region deltas and a registered difference map."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from needlecare.analysis.report import BaselineComparison, PhotoReport
from needlecare.analysis.scoring import index_map, summarise
from needlecare.analysis.statistics import MIN_REGION_PIXELS, robust_mean
from needlecare.hints import Float64Array, FloatArray, Mask
from needlecare.imaging.redness import a_star_change
from needlecare.imaging.reference import ColourReference
from needlecare.imaging.regions import eye_distance, eye_openings
from needlecare.imaging.registration import Registration, register
from needlecare.imaging.relative_light import RelativeLight, relative_light

#: Difference between the two photos' light colours (OD chroma, ~ relative channel gain) above which the
#: photos count as taken under different light, when only each photo's own estimate is available.
LIGHTING_CHROMA_TOLERANCE = 0.06
#: A light-colour change measured on the registered eyes is corrected from this size on (~1 % gain; the
#: estimate's own error is up to ~0.01) and when it is at least this many standard errors.
MIN_MATCHED_CHROMA, MIN_MATCHED_SIGNIFICANCE = 0.01, 3.0
#: The same threshold when either photo is heavily compressed (quality warning ``compressed``): JPEG colour
#: blocks smear skin and iris colour into the small whites of the eyes, so that a quality-60 copy of a photo
#: measured up to 0.017 off its original on the test faces (0.018 for quality 92 against the uncompressed
#: original). A 10 % gain on one channel measures about 0.06.
MIN_MATCHED_CHROMA_COMPRESSED = 0.03

#: Why a comparison with more than one face in either photo is not comparable.
SEVERAL_FACES_NOTE = (
    "more than one face in a photo: the largest one was measured and may not be the patient's; a photo of "
    "the patient alone is needed for a comparison"
)


def register_baseline(follow_up: PhotoReport, baseline: PhotoReport) -> Registration:
    """The baseline's analysis frame registered onto the follow-up's (landmarks, then optical flow)."""
    return register(
        cv2.cvtColor(follow_up.frame.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32),
        cv2.cvtColor(baseline.frame.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32),
        follow_up.frame.landmarks,
        baseline.frame.landmarks,
    )


def match_white_balance(
    follow_up: PhotoReport, baseline: PhotoReport, registration: Registration
) -> tuple[PhotoReport, RelativeLight | None]:
    """Measure the follow-up's light relative to the baseline's on the eyes and, when it differs, re-measure
    the follow-up in the baseline's white balance.

    A follow-up with its own ColorChecker is already corrected and left as it is. Otherwise the relative
    light (:func:`~needlecare.imaging.relative_light.relative_light`) divides out of the follow-up's linear
    frame, composed with the baseline's chart correction when the baseline had one, so the two indices and
    the difference map compare skin under the same white balance. The follow-up's reference becomes
    ``in_photo``. Without a chart on either photo a light change below :data:`MIN_MATCHED_CHROMA` (or
    within :data:`MIN_MATCHED_SIGNIFICANCE` standard errors) is left alone, as the same light, and below
    :data:`MIN_MATCHED_CHROMA_COMPRESSED` when either photo is heavily compressed; with a charted baseline
    the follow-up is always brought onto the chart's scale.

    Returns
    -------
    (report, light)
        The (possibly re-measured) follow-up, and the relative light, or None when it could not be
        measured (eyes closed, covered or turned, or the photos disagree).
    """
    if follow_up.reference.kind == "colour_checker":
        return follow_up, None
    frame = follow_up.frame
    warped = registration.warp(baseline.frame.linear)
    eyes = eye_openings(frame.landmarks, frame.index_map.shape, eye_distance(frame.landmarks))
    light = relative_light(frame.linear, frame.rgb, warped, eyes)
    chart = baseline.reference.correction
    if light is None or not (chart is not None or _worth_matching(light, follow_up, baseline)):
        return follow_up, light
    correction = np.diag(np.exp(-light.chroma))
    if chart is not None:
        correction = chart @ correction
    values = index_map(frame.linear, correction, frame.valid)
    overall, regions = summarise(values, frame.valid, frame.regions)
    if overall is None:  # cannot happen: the same measurable pixels as before
        return follow_up, light
    detail = (
        f"white balance matched to the baseline photo on the registered eyes ({light.pixels} px; light "
        f"colour differed by {light.size:.3f})"
    )
    reference = ColourReference(
        kind="in_photo",
        detail=detail + (" and corrected with the baseline's ColorChecker" if chart is not None else ""),
        correction=correction,
        illuminant_chroma=baseline.reference.illuminant_chroma,
    )
    matched = replace(
        follow_up, index=overall, regions=regions, reference=reference, frame=replace(frame, index_map=values)
    )
    return matched, light


def _worth_matching(light: RelativeLight, follow_up: PhotoReport, baseline: PhotoReport) -> bool:
    """Whether *light* is a change of light rather than the estimate's own error (see
    :func:`match_white_balance`)."""
    smallest = MIN_MATCHED_CHROMA_COMPRESSED if _compressed(follow_up, baseline) else MIN_MATCHED_CHROMA
    return light.size >= smallest and light.size >= MIN_MATCHED_SIGNIFICANCE * light.standard_error


def _compressed(*reports: PhotoReport) -> bool:
    """Whether any of *reports* has the quality warning ``compressed``."""
    return any(w.code == "compressed" for report in reports for w in report.warnings)


def skin_colour(report: PhotoReport) -> Float64Array:
    """Mean linear sRGB (3,) of a photo's measured skin, in its colour reference's correction (if any)."""
    frame = report.frame
    mean = frame.linear[frame.valid].astype(np.float64).mean(axis=0)
    if report.reference.correction is not None:
        mean = report.reference.correction @ mean
    result: Float64Array = np.clip(mean, 1e-4, 1.0)
    return result


def compare_with_baseline(
    follow_up: PhotoReport,
    baseline: PhotoReport,
    registration: Registration,
    light: RelativeLight | None,
) -> BaselineComparison:
    """Follow-up minus baseline for the whole face, each region and each registered pixel.

    The baseline's index map is moved onto the follow-up's face with *registration*
    (:func:`register_baseline`), so that the difference map compares the same skin. The whole-face change is
    also given as the a* change it makes on the baseline's own skin colour
    (:func:`~needlecare.imaging.redness.a_star_change`), the unit of visibility thresholds, with the index
    rise that makes minimal visible redness on that skin
    (:func:`~needlecare.knowledge.visibility.visible_index_change`). *light* is the relative light measured
    on the eyes by :func:`match_white_balance` (None when it could not be); without it the photos' own light
    estimates are compared.
    """
    lighting_differs, difference, notes = _light(follow_up, baseline, light)
    comparable = _comparable(follow_up, baseline, lighting_differs, difference, notes)
    frame = follow_up.frame
    difference_map = (frame.index_map - registration.warp(baseline.frame.index_map)).astype(np.float32)
    known = np.isfinite(difference_map)
    regions = _region_deltas(follow_up, baseline, difference_map, known)
    from needlecare.knowledge.visibility import visible_index_change  # loads the evidence files (~0.1 s)

    delta = follow_up.index - baseline.index
    skin = skin_colour(baseline)
    visible = visible_index_change(skin)
    return BaselineComparison(
        photo=baseline.photo,
        index=baseline.index,
        delta=delta,
        delta_a_star=a_star_change(skin, delta),
        visible_delta=None if np.isnan(visible) else visible,
        regions=regions,
        lighting_differs=lighting_differs,
        comparable=comparable,
        notes=notes,
        difference_pixels=int(known.sum()),
        difference_mean=robust_mean(difference_map[known]),
        difference_map=difference_map,
    )


def _light(
    follow_up: PhotoReport, baseline: PhotoReport, light: RelativeLight | None
) -> tuple[bool, float, list[str]]:
    """``(lighting differs, colour difference, notes)``: from the eyes' relative light when measured, else
    from each photo's own light estimate (no verdict for heavily compressed photos)."""
    if light is not None:
        return _worth_matching(light, follow_up, baseline), light.size, []
    if _compressed(follow_up, baseline):
        # Each photo's own estimate from its sclera is then off by up to 0.2 on the test faces: no verdict.
        note = (
            "the light could not be compared: a heavily compressed photo's colours are too coarse on the "
            "whites of the eyes"
        )
        return False, float("nan"), [note]
    difference = float(
        np.abs(follow_up.reference.illuminant_chroma - baseline.reference.illuminant_chroma).max()
    )
    return difference > LIGHTING_CHROMA_TOLERANCE, difference, []


def _comparable(
    follow_up: PhotoReport, baseline: PhotoReport, lighting_differs: bool, difference: float, notes: list[str]
) -> bool:
    """Whether the change from the baseline can be trusted; the reasons are appended to *notes*."""
    kinds = {follow_up.reference.kind, baseline.reference.kind}
    matched = follow_up.reference.kind == "in_photo"
    comparable = True
    if lighting_differs:
        notes.append(f"the photos were taken under different light (colour difference {difference:.2f})")
    if matched:
        notes.append("the follow-up was matched to the baseline photo's white balance on the eyes")
    elif "none" in kinds:
        notes.append(
            "at least one photo has no colour reference: its index depends on the camera's white balance"
        )
        comparable = not lighting_differs
    elif len(kinds) > 1:
        notes.append("the photos use different colour references; compare with care")
    if lighting_differs and comparable and not matched:
        notes.append(f"both photos were corrected with their colour references ({', '.join(sorted(kinds))})")
    if not follow_up.quality_ok or not baseline.quality_ok:
        notes.append("a quality warning applies to at least one photo")
    if follow_up.faces_found > 1 or baseline.faces_found > 1:
        # The largest face was measured, and it may be someone else's: never a change from the baseline.
        comparable = False
        notes.append(SEVERAL_FACES_NOTE)
    return comparable


def _region_deltas(
    follow_up: PhotoReport, baseline: PhotoReport, difference_map: FloatArray, known: Mask
) -> dict[str, dict[str, float | None]]:
    """Each region's baseline index and change.

    A region's delta compares the same skin: the robust mean of the registered difference over the region.
    Subtracting the two region means instead would add the landmark jitter of two separate masks.
    """
    frame = follow_up.frame
    regions: dict[str, dict[str, float | None]] = {}
    for name, score in follow_up.regions.items():
        base = baseline.regions[name].index
        registered = known & frame.regions[name]
        if registered.sum() >= MIN_REGION_PIXELS:
            delta = robust_mean(difference_map[registered])
        else:
            delta = None if score.index is None or base is None else score.index - base
        regions[name] = {"baseline": base, "delta": delta}
    return regions
