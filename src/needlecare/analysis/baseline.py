"""Comparison of a follow-up photo with its baseline: per-region deltas and a registered difference map."""

from __future__ import annotations

import cv2
import numpy as np

from needlecare.analysis.report import BaselineComparison, PhotoReport
from needlecare.analysis.statistics import MIN_REGION_PIXELS, robust_mean
from needlecare.imaging.registration import refine_by_flow, warp_map

#: Difference between the two photos' light colours (OD chroma, ~ relative channel gain) above which the
#: photos count as taken under different light.
LIGHTING_CHROMA_TOLERANCE = 0.06


def compare_with_baseline(follow_up: PhotoReport, baseline: PhotoReport) -> BaselineComparison:
    """Follow-up minus baseline for the whole face, each region and each registered pixel.

    The baseline's index map is warped onto the follow-up's face with a piecewise-affine landmark
    registration, so that the difference map compares the same skin.
    """
    chroma_difference = float(
        np.abs(follow_up.reference.illuminant_chroma - baseline.reference.illuminant_chroma).max()
    )
    lighting_differs = chroma_difference > LIGHTING_CHROMA_TOLERANCE
    kinds = {follow_up.reference.kind, baseline.reference.kind}
    notes: list[str] = []
    comparable = True
    if lighting_differs:
        notes.append(
            f"the photos were taken under different light (colour difference {chroma_difference:.2f})"
        )
    if "none" in kinds:
        notes.append(
            "at least one photo has no colour reference: its index depends on the camera's white balance"
        )
        comparable = not lighting_differs
    elif len(kinds) > 1:
        notes.append("the photos use different colour references; compare with care")
    if lighting_differs and comparable:
        notes.append(f"both photos were corrected with their colour references ({', '.join(sorted(kinds))})")
    if not follow_up.quality_ok or not baseline.quality_ok:
        notes.append("a quality warning applies to at least one photo")

    frame = follow_up.frame
    shape = frame.index_map.shape
    warped = warp_map(baseline.frame.index_map, baseline.frame.landmarks, frame.landmarks, shape)
    # Landmarks jitter by a fraction of a pixel between photos: align the skin images themselves as well.
    target_grey = cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    source_grey = warp_map(
        cv2.cvtColor(baseline.frame.rgb, cv2.COLOR_RGB2GRAY).astype(np.float32),
        baseline.frame.landmarks,
        frame.landmarks,
        shape,
    )
    warped = refine_by_flow(target_grey, source_grey, warped)
    difference = (frame.index_map - warped).astype(np.float32)
    known = np.isfinite(difference)

    # A region's delta compares the same skin: the robust mean of the registered difference over the region.
    # Subtracting the two region means instead would add the landmark jitter of two separate masks.
    regions: dict[str, dict[str, float | None]] = {}
    for name, score in follow_up.regions.items():
        base = baseline.regions[name].index
        registered = known & frame.regions[name]
        if registered.sum() >= MIN_REGION_PIXELS:
            delta = robust_mean(difference[registered])
        else:
            delta = None if score.index is None or base is None else score.index - base
        regions[name] = {"baseline": base, "delta": delta}
    return BaselineComparison(
        photo=baseline.photo,
        index=baseline.index,
        delta=follow_up.index - baseline.index,
        regions=regions,
        lighting_differs=lighting_differs,
        comparable=comparable,
        notes=notes,
        difference_pixels=int(known.sum()),
        difference_mean=robust_mean(difference[known]),
        difference_map=difference,
    )
