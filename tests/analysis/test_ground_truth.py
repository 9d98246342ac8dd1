"""Synthetic ground truth on real faces (issue 2, "How it is measured").

Known haemoglobin is added in optical-density space under a feathered skin mask, and the index must follow
it; melanin, lips, exposure, white balance, JPEG compression and resolution must not move it. The index is in
OD_hb: haemoglobin added uniformly raises it by exactly the dose (tested below), so index changes are
"OD-haemoglobin equivalents" directly. (The feathered skin mask of the other tests covers only part of the
measured skin, so their response per dose is about 0.5; ratios are taken against that measured response.)
"""

from __future__ import annotations

import io
import itertools

import cv2
import numpy as np
import pytest
from face_fixtures import load_face
from PIL import Image
from synthetic import add_absorption, apply_gain, feathered

from needlecare import analyze_photo
from needlecare.analysis.pipeline import _largest_face
from needlecare.imaging.redness import chromophores
from needlecare.imaging.regions import LIPS_OUTER, _polygon_mask

DOSE = 0.1  # OD_hb (Δa* ≈ 1.3 on typical skin)
#: A moderate erythema (Δa* ≈ 3.8; COLIPA's minimal visible erythema is Δa* ≈ 2.5 ≈ 0.2 OD_hb), used where a
#: ratio to the haemoglobin response is asserted, so that the response stands well above landmark jitter.
RATIO_DOSE = 0.3
#: Issue 2 asks for <= 0.01 OD_hb after JPEG quality 60 or half resolution (measured max 0.0089 and 0.0075).
#: Quality 60 needs the loader's restoration of exact chroma block means (imaging/jpeg_chroma.py): decoders
#: round every flat chroma block's mean up by 1/8 level on average at quality 60, which read as +0.008 to
#: +0.014 OD_hb on these faces whatever the block alignment (0.0175 before). What is left is the random error
#: of quantising each block's mean, which depends on where the blocks fall: over the faces moved by a few
#: pixels it averages to within JPEG_MEAN_TOLERANCE of zero (measured max 0.004) with a spread of 0.003-0.007.
RESOLUTION_TOLERANCE, JPEG_TOLERANCE, JPEG_MEAN_TOLERANCE = 0.01, 0.01, 0.005
#: Block alignments (dx, dy in pixels cropped off the top left) for the bias check.
JPEG_SHIFTS = ((0, 0), (3, 5), (6, 10), (9, 2), (12, 13), (15, 7))
#: Issue targets (all met on the six faces; measured maxima): melanin <= 5 % of the haemoglobin response
#: (1.7 %), lips only <= 1 % of the response to the same dose over the whole skin (0.83 %), left cheek >= 50x
#: the right cheek (619x).
MELANIN_RATIO, LIPS_RATIO, CHEEK_RATIO = 0.05, 0.01, 50.0
EXPOSURE_TOLERANCE = 0.02  # OD_hb, the target (measured max 0.0027)
WHITE_BALANCE_TOLERANCE = 0.02  # OD_hb, the target with a colour reference (measured max 0.018)


def skin_weight(face) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A feathered weight over the inner skin (eroded, so that it is 1 well inside the measured skin only)."""
    distance = face.regions.eye_distance
    return feathered(face.regions.skin, int(0.1 * distance), 0.04 * distance)


def whole_skin_weight(face) -> np.ndarray:  # type: ignore[no-untyped-def]
    """A weight that is 1 over the whole skin mask, feathered outward beyond it."""
    distance = face.regions.eye_distance
    radius = round(0.04 * distance)
    grown = cv2.dilate(face.regions.skin.astype(np.uint8), np.ones((2 * radius + 1,) * 2, np.uint8))
    return np.maximum(cv2.GaussianBlur(grown.astype(np.float32), (0, 0), 0.02 * distance), face.regions.skin)


def index_of(rgb: np.ndarray) -> float:
    return analyze_photo(rgb).index


def response_per_od(face) -> float:  # type: ignore[no-untyped-def]
    """Index change per OD_hb added over the skin of *face*."""
    reddened = add_absorption(face.rgb, skin_weight(face), chromophores().haemoglobin, DOSE)
    return (index_of(reddened) - index_of(face.rgb)) / DOSE


def test_index_rises_strictly_with_added_haemoglobin(face) -> None:  # type: ignore[no-untyped-def]
    weight = skin_weight(face)
    doses = [0.0, 0.02, 0.05, 0.1, 0.15, 0.25]
    indices = [index_of(add_absorption(face.rgb, weight, chromophores().haemoglobin, d)) for d in doses]
    assert all(b > a for a, b in itertools.pairwise(indices)), indices
    # roughly linear: the response per OD at the highest dose is within 35 % of that at 0.05
    slope_low = (indices[2] - indices[0]) / 0.05
    slope_high = (indices[-1] - indices[0]) / 0.25
    assert slope_high == pytest.approx(slope_low, rel=0.35)
    # below 1 because the eroded, feathered weight covers only part of the measured skin
    assert 0.3 < slope_low < 1.2


def test_melanin_barely_moves_the_index(face) -> None:  # type: ignore[no-untyped-def]
    weight = skin_weight(face)
    base = index_of(face.rgb)
    haemoglobin = index_of(add_absorption(face.rgb, weight, chromophores().haemoglobin, RATIO_DOSE)) - base
    melanin = index_of(add_absorption(face.rgb, weight, chromophores().melanin, RATIO_DOSE)) - base
    assert abs(melanin) <= MELANIN_RATIO * haemoglobin, (melanin, haemoglobin)


def test_reddening_only_the_lips_leaves_the_skin_index(face) -> None:  # type: ignore[no-untyped-def]
    """The lips get the same dose as the whole skin gets in the comparison; the index answers the skin dose
    one for one (asserted here) and the lips dose by less than 1 % of it."""
    lips = _polygon_mask(face.rgb.shape[:2], _largest_face(face.rgb)[0].xy[list(LIPS_OUTER)])
    weight = feathered(lips, 0, 0.01 * face.regions.eye_distance)
    base = index_of(face.rgb)
    lips_only = index_of(add_absorption(face.rgb, weight, chromophores().haemoglobin, RATIO_DOSE)) - base
    skin = (
        index_of(add_absorption(face.rgb, whole_skin_weight(face), chromophores().haemoglobin, RATIO_DOSE))
        - base
    )
    assert skin == pytest.approx(RATIO_DOSE, rel=0.05)
    assert abs(lips_only) <= LIPS_RATIO * skin, (lips_only, skin)


@pytest.mark.parametrize("gain", [0.7, 1.4])
def test_exposure_does_not_move_the_index(face, gain: float) -> None:  # type: ignore[no-untyped-def]
    # The ground truth starts from the photo at 0.7x exposure so that 1.4x does not blow out the skin (at 1.4x
    # several of the original portraits clip 40 % of the skin; see test_overexposure_is_flagged).
    start = apply_gain(face.rgb, (0.7, 0.7, 0.7))
    change = index_of(apply_gain(start, (gain, gain, gain))) - index_of(start)
    assert abs(change) <= EXPOSURE_TOLERANCE, change


def test_overexposure_is_flagged_when_skin_clips(faces_dir) -> None:  # type: ignore[no-untyped-def]
    face = load_face(faces_dir, "alex_lacamoire1.jpg")
    report = analyze_photo(apply_gain(face.rgb, (1.4, 1.4, 1.4)))
    assert "highlights_clipped" in report.to_dict()["quality"]["warnings"]
    assert report.quality_ok is False


@pytest.mark.parametrize("gains", [(1.15, 1.0, 1.0), (1.0, 1.0, 1.12), (0.9, 1.0, 1.1)])
def test_white_balance_without_reference_is_flagged(face, gains) -> None:  # type: ignore[no-untyped-def]
    report = analyze_photo(apply_gain(face.rgb, gains))
    assert report.to_dict()["quality"]["colour_reference"] == "none"


@pytest.mark.parametrize("gains", [(1.15, 1.0, 1.0), (1.0, 1.0, 1.12), (0.9, 1.0, 1.1), (1.1, 1.0, 0.9)])
def test_white_balance_is_matched_to_the_baseline_on_the_eyes(face, gains) -> None:  # type: ignore[no-untyped-def]
    """The in-photo reference: a follow-up under light of another colour, compared with its baseline, is
    re-measured in the baseline's white balance from the registered eyes; index and region deltas stay within
    the issue's 0.02 OD_hb (measured max 0.018) of the same photo under the baseline's own light. Starts at
    0.8x exposure so that 1.15x red does not clip skin (clipping is flagged separately)."""
    start = apply_gain(face.rgb, (0.8, 0.8, 0.8))
    base = analyze_photo(start)
    same = analyze_photo(start, baseline=base)
    other = analyze_photo(apply_gain(start, gains), baseline=base)
    assert same.reference.kind == "none"  # nothing to correct under the same light
    assert other.to_dict()["quality"]["colour_reference"] == "in_photo"
    assert other.baseline is not None
    assert same.baseline is not None
    assert other.baseline.lighting_differs
    assert other.baseline.comparable
    assert abs(other.index - same.index) <= WHITE_BALANCE_TOLERANCE, other.index - same.index
    for name, region in other.baseline.regions.items():
        expected = same.baseline.regions[name]["delta"]
        assert region["delta"] is not None
        assert expected is not None
        assert abs(region["delta"] - expected) <= WHITE_BALANCE_TOLERANCE, (name, region["delta"] - expected)


def test_change_in_a_star_matches_the_photos_own_a_star(face) -> None:  # type: ignore[no-untyped-def]
    """The whole-face change, also given as the a* change on the baseline's skin colour, agrees with the a*
    change measured directly on the photos (mean a* of the skin pixels), within 15 %."""
    from needlecare.imaging.redness import a_star

    before = analyze_photo(face.rgb)
    reddened = add_absorption(face.rgb, whole_skin_weight(face), chromophores().haemoglobin, RATIO_DOSE)
    after = analyze_photo(reddened, baseline=before)
    assert after.baseline is not None
    assert after.baseline.delta_a_star is not None
    skin = face.regions.skin & (face.rgb.max(axis=2) < 250)
    measured = float(a_star(reddened)[skin].mean() - a_star(face.rgb)[skin].mean())
    assert measured > 2.0  # 0.3 OD_hb: clearly visible redness
    assert after.baseline.delta_a_star == pytest.approx(measured, rel=0.15)
    assert after.to_dict()["baseline"]["delta_a_star"] == after.baseline.delta_a_star
    # the reported "just visible" rise, added to the photo, raises its measured a* by COLIPA's 2.5
    rise = after.baseline.visible_delta
    assert rise is not None
    just_visible = add_absorption(face.rgb, whole_skin_weight(face), chromophores().haemoglobin, rise)
    measured = float(a_star(just_visible)[skin].mean() - a_star(face.rgb)[skin].mean())
    assert measured == pytest.approx(2.5, rel=0.15)


def test_jpeg_quality_60_and_half_resolution(face) -> None:  # type: ignore[no-untyped-def]
    base = index_of(face.rgb)
    buffer = io.BytesIO()
    Image.fromarray(face.rgb).save(buffer, "JPEG", quality=60)
    compressed = analyze_photo(buffer.getvalue())
    assert "compressed" in compressed.to_dict()["quality"]["warnings"]  # the report says what it cannot do
    jpeg = compressed.index
    height, width = face.rgb.shape[:2]
    half = np.asarray(Image.fromarray(face.rgb).resize((width // 2, height // 2), Image.Resampling.LANCZOS))
    assert abs(jpeg - base) <= JPEG_TOLERANCE, ("jpeg", jpeg - base)
    assert abs(index_of(half) - base) <= RESOLUTION_TOLERANCE, ("half", index_of(half) - base)


def test_jpeg_quality_60_has_no_systematic_bias(face) -> None:  # type: ignore[no-untyped-def]
    errors = []
    for dx, dy in JPEG_SHIFTS:
        rgb = np.ascontiguousarray(face.rgb[dy:, dx:])
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", quality=60)
        errors.append(analyze_photo(buffer.getvalue()).index - index_of(rgb))
    assert abs(float(np.mean(errors))) <= JPEG_MEAN_TOLERANCE, errors


def test_a_compressed_copy_is_compared_with_its_original_as_the_same_light(face) -> None:  # type: ignore[no-untyped-def]
    """JPEG colour blocks smear skin and iris colour into the whites of the eyes; taken for a change of light,
    that once read obama2's own quality-60 copy as 0.055 less red than the original."""
    buffer = io.BytesIO()
    Image.fromarray(face.rgb).save(buffer, "JPEG", quality=60)
    report = analyze_photo(buffer.getvalue(), baseline=face.rgb).to_dict()
    assert report["quality"]["colour_reference"] == "none"
    assert report["baseline"]["lighting_differs"] is False
    assert abs(report["baseline"]["delta"]) <= JPEG_TOLERANCE


def test_left_cheek_reddening_is_local(face) -> None:  # type: ignore[no-untyped-def]
    distance = face.regions.eye_distance
    weight = feathered(face.regions.regions["left_cheek"], int(0.05 * distance), 0.03 * distance)
    before = analyze_photo(face.rgb)
    after = analyze_photo(add_absorption(face.rgb, weight, chromophores().haemoglobin, 0.2), baseline=before)
    assert after.baseline is not None
    regions = after.baseline.regions
    left, right = regions["left_cheek"]["delta"], regions["right_cheek"]["delta"]
    assert left is not None
    assert right is not None
    assert left > 0.05
    assert abs(left) >= CHEEK_RATIO * abs(right), (left, right)
