"""Comparison of a follow-up photo with its baseline: registration, white-balance matching on the eyes and
on what surrounds the face, per-region deltas and a registered difference map."""

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
from needlecare.imaging.regions import eye_distance, eye_openings, surroundings
from needlecare.imaging.registration import Registration, register, register_similarity
from needlecare.imaging.relative_light import RelativeLight, relative_light

#: Difference between the two photos' light colours (OD chroma, ~ relative channel gain) above which the
#: photos count as taken under different light, when only each photo's own estimate is available.
LIGHTING_CHROMA_TOLERANCE = 0.06
#: A light change is matched only when it is at least this many standard errors
#: (:attr:`~needlecare.imaging.relative_light.RelativeLight.standard_error`, measured between independent
#: blocks of pixels) and at least the smallest change below for the pixels it was measured on.
MIN_MATCHED_SIGNIFICANCE = 3.0
#: Smallest light change matched on the eyes. Resampling (a camera move or a head turn in the image plane)
#: and 4:2:0 JPEG at quality 92, with the light unchanged, made the eyes' estimate read up to 0.019 on the
#: six test faces (3.2-5 of its block standard errors: a sub-pixel misregistration of iris and lids errs
#: alike over a whole eye); quality-60 copies read up to 0.018. A 10 % gain on one channel reads 0.095.
MIN_MATCHED_CHROMA = 0.03
#: Smallest light change matched on the surroundings (hair, clothing, background, teeth). Resampling alone
#: made their estimate read at most 0.002 on the six test faces (thousands of pixels); 4:2:0 JPEG at quality
#: 92 up to 0.011 (alex_lacamoire1.jpg: JPEG rounds the colour of a uniform background alike in every
#: block, 16-19 block standard errors), so this is about twice that, a fifth of what a 10 % gain reads.
MIN_MATCHED_CHROMA_SURROUNDINGS = 0.02
#: The same when either photo is heavily compressed (quality warning ``compressed``): a quality-60 copy
#: read up to 0.024 off its original on the six test faces (alex_lacamoire1.jpg; the others <= 0.003), so
#: this is about twice that, half of what a 10 % gain reads.
MIN_MATCHED_CHROMA_SURROUNDINGS_COMPRESSED = 0.05
#: Largest difference (any channel, beyond their combined noise) between the eyes' and the surroundings'
#: estimates for them to count as one light: the eyes' own floor (:data:`MIN_MATCHED_CHROMA`).
MAX_SOURCE_DISAGREEMENT = MIN_MATCHED_CHROMA
#: Noise of a light estimate is measured between square blocks (:func:`noise_block_px`) at least this many
#: pixels of the analysis frame wide (four standard deviations of its smoothing, pipeline
#: LINEAR_SMOOTHING_PX = 1.5 px) and at least this many pixels of the photo as taken (half a JPEG chroma
#: block of 4:2:0 subsampling, whose errors its pixels share).
NOISE_BLOCK_FRAME_PX, NOISE_BLOCK_NATIVE_PX = 6.0, 8.0

#: Fewest registered pixels, as a fraction of the follow-up's measured skin, for the whole-face change to be
#: the mean registered difference (:func:`_whole_face_delta`).
MIN_REGISTERED_FRACTION = 0.5

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


def noise_block_px(report: PhotoReport) -> float:
    """Side of the blocks over which a light estimate's noise is measured in *report*'s analysis frame, px
    (:data:`NOISE_BLOCK_FRAME_PX`, :data:`NOISE_BLOCK_NATIVE_PX`)."""
    frame = report.frame
    frame_per_native = eye_distance(frame.landmarks) / frame.native_eye_distance
    return max(NOISE_BLOCK_FRAME_PX, NOISE_BLOCK_NATIVE_PX * frame_per_native)


def measure_relative_light(
    follow_up: PhotoReport, baseline: PhotoReport, registration: Registration
) -> RelativeLight | None:
    """The follow-up's light relative to the baseline's, from the eyes and from the surroundings.

    The eyes are registered with the face (*registration*); the surroundings (hair, ears, clothing,
    background, teeth: :func:`~needlecare.imaging.regions.surroundings`) with one similarity transform
    refined by optical flow (:func:`~needlecare.imaging.registration.register_similarity`). When both are
    measured and agree (:func:`_agree`), the surroundings' estimate is used: it rests on thousands of pixels
    instead of a few dozen. When they disagree the eyes are trusted (the clothing or background may have
    changed); when the eyes cannot be measured (closed, covered, too small) the surroundings alone decide.

    Returns
    -------
    RelativeLight or None
        None when neither could be measured.
    """
    frame = follow_up.frame
    distance = eye_distance(frame.landmarks)
    block = noise_block_px(follow_up)
    eyes_mask = eye_openings(frame.landmarks, frame.index_map.shape, distance)
    eyes = relative_light(frame.linear, frame.rgb, registration.warp(baseline.frame.linear), eyes_mask, block)
    around = _surroundings_light(follow_up, baseline, block)
    if around is None or (eyes is not None and not _agree(eyes, around)):
        return eyes
    return around


def _surroundings_light(follow_up: PhotoReport, baseline: PhotoReport, block: float) -> RelativeLight | None:
    """The relative light measured on the surroundings of the face (see :func:`measure_relative_light`)."""
    frame = follow_up.frame
    whole = register_similarity(_grey(follow_up), _grey(baseline), frame.landmarks, baseline.frame.landmarks)
    if whole is None:
        return None
    warped = whole.warp(baseline.frame.linear)
    mask = surroundings(frame.landmarks, frame.index_map.shape, eye_distance(frame.landmarks))
    light = relative_light(frame.linear, frame.rgb, warped, mask, block, check_sclera=False)
    return None if light is None else replace(light, source="surroundings")


def _grey(report: PhotoReport) -> FloatArray:
    """The report's analysis frame in grey levels (0-255), (H, W) float32."""
    return cv2.cvtColor(report.frame.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def _agree(eyes: RelativeLight, around: RelativeLight) -> bool:
    """Whether the eyes and the surroundings saw the same change of light (:data:`MAX_SOURCE_DISAGREEMENT`
    beyond :data:`MIN_MATCHED_SIGNIFICANCE` combined standard errors)."""
    noise = float(np.hypot(eyes.standard_error, around.standard_error))
    difference = float(np.abs(eyes.chroma - around.chroma).max())
    return difference <= MAX_SOURCE_DISAGREEMENT + MIN_MATCHED_SIGNIFICANCE * noise


def match_white_balance(
    follow_up: PhotoReport, baseline: PhotoReport, registration: Registration
) -> tuple[PhotoReport, RelativeLight | None]:
    """Measure the follow-up's light relative to the baseline's and, when it differs, re-measure the
    follow-up in the baseline's white balance.

    A follow-up with its own ColorChecker is already corrected and left as it is. Otherwise the relative
    light (:func:`measure_relative_light`) divides out of the follow-up's linear frame, composed with the
    baseline's chart correction when the baseline had one, so the two indices and the difference map
    compare skin under the same white balance. The follow-up's reference becomes ``in_photo``. Without a
    chart on either photo a light change is matched only when it stands out of the estimate's noise
    (:func:`_worth_matching`); with a charted baseline the follow-up is always brought onto the chart's
    scale.

    Returns
    -------
    (report, light)
        The (possibly re-measured) follow-up, and the relative light, or None when it could not be
        measured (eyes closed, covered or turned and nothing around the face to go by, or the photos
        disagree).
    """
    if follow_up.reference.kind == "colour_checker":
        return follow_up, None
    frame = follow_up.frame
    light = measure_relative_light(follow_up, baseline, registration)
    chart = baseline.reference.correction
    if light is None or not (chart is not None or _worth_matching(light, _compressed(follow_up, baseline))):
        return follow_up, light
    correction = np.diag(np.exp(-light.chroma))
    if chart is not None:
        correction = chart @ correction
    values = index_map(frame.linear, correction, frame.valid)
    overall, regions = summarise(values, frame.valid, frame.regions)
    if overall is None:  # cannot happen: the same measurable pixels as before
        return follow_up, light
    detail = (
        f"white balance matched to the baseline photo on the registered {_SOURCE_WORDS[light.source]} "
        f"({light.pixels} px; light colour differed by {light.size:.3f})"
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


def _compressed(*reports: PhotoReport) -> bool:
    """Whether any of *reports* has the quality warning ``compressed``."""
    return any(w.code == "compressed" for report in reports for w in report.warnings)


#: How the pixels a light estimate rests on are named in the reports.
_SOURCE_WORDS = {"eyes": "eyes", "surroundings": "hair, clothing, background and teeth around the face"}


def _worth_matching(light: RelativeLight, compressed: bool) -> bool:
    """Whether *light* is a change of light rather than the estimate's own error: at least
    :data:`MIN_MATCHED_SIGNIFICANCE` standard errors and the smallest change for its source
    (:data:`MIN_MATCHED_CHROMA`, :data:`MIN_MATCHED_CHROMA_SURROUNDINGS`, or
    :data:`MIN_MATCHED_CHROMA_SURROUNDINGS_COMPRESSED` when either photo is heavily *compressed*)."""
    smallest = MIN_MATCHED_CHROMA
    if light.source == "surroundings":
        smallest = (
            MIN_MATCHED_CHROMA_SURROUNDINGS_COMPRESSED if compressed else MIN_MATCHED_CHROMA_SURROUNDINGS
        )
    return light.size >= smallest and light.size >= MIN_MATCHED_SIGNIFICANCE * light.standard_error


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
    by :func:`match_white_balance` (None when it could not be); without it the photos' own light
    estimates are compared.
    """
    lighting_differs, difference, notes = _light(follow_up, baseline, light)
    source = None if light is None else light.source
    comparable = _comparable(follow_up, baseline, lighting_differs, (difference, source), notes)
    frame = follow_up.frame
    difference_map = (frame.index_map - registration.warp(baseline.frame.index_map)).astype(np.float32)
    known = np.isfinite(difference_map)
    regions = _region_deltas(follow_up, baseline, difference_map, known)
    from needlecare.knowledge.visibility import visible_index_change  # loads the evidence files (~0.1 s)

    delta = _whole_face_delta(follow_up, baseline, difference_map, known)
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
        return _worth_matching(light, _compressed(follow_up, baseline)), light.size, []
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
    follow_up: PhotoReport,
    baseline: PhotoReport,
    lighting_differs: bool,
    light: tuple[float, str | None],
    notes: list[str],
) -> bool:
    """Whether the change from the baseline can be trusted; the reasons are appended to *notes*. *light* is
    the colour difference of the light and what the relative light was measured on (None: not measured)."""
    difference, source = light
    kinds = {follow_up.reference.kind, baseline.reference.kind}
    matched = follow_up.reference.kind == "in_photo"
    comparable = True
    if lighting_differs:
        notes.append(f"the photos were taken under different light (colour difference {difference:.2f})")
    if matched:
        where = _SOURCE_WORDS[source or "eyes"]
        notes.append(f"the follow-up was matched to the baseline photo's white balance on the {where}")
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


def _whole_face_delta(
    follow_up: PhotoReport, baseline: PhotoReport, difference_map: FloatArray, known: Mask
) -> float:
    """Follow-up minus baseline for the whole face: the robust mean of the registered difference, which
    compares the same skin, when it covers at least :data:`MIN_REGISTERED_FRACTION` of the follow-up's
    measured skin; else the difference of the two photos' own indices (each over its own skin mask, so
    the landmarks' jitter between the photos adds to it)."""
    registered = int(known.sum())
    if registered >= max(MIN_REGION_PIXELS, MIN_REGISTERED_FRACTION * int(follow_up.frame.valid.sum())):
        mean = robust_mean(difference_map[known])
        if mean is not None:
            return mean
    return follow_up.index - baseline.index


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
