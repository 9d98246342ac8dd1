"""ColorChecker Classic reference: a synthetic chart composited into real face photos is found, read and
corrected; photos without one are rejected by the cheap screen; the correction takes global white balance and
exposure out of the chart's colours and out of the redness index.

The chart is rendered in linear light with the layout of the real card (approximate: 279 x 210 mm, i.e.
11 x 8.25 in; 4 x 6 patches of 41 mm at a 46-mm pitch on the black frame, i.e. 5-mm gaps), the reference
colours of ``ColorChecker24 - After November 2014`` (colour-science) converted to linear sRGB, lit at 85 %,
seen in mild perspective, blurred by the lens and composited into the photo before sRGB encoding to 8 bits.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import colour
import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.imaging.checker import chart_crop, might_contain_checker, read_patches, screen_image
from needlecare.imaging.colour import linear_to_srgb, to_linear
from needlecare.imaging.reference import ColourReference, colour_checker_reference

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

CARD_MM = (279.4, 209.6)
PATCH_MM, PITCH_MM = 41.0, 46.0
FRAME_LINEAR = 0.02  # reflectance of the matte black frame (L* ~ 15)
LIGHT = 0.85  # the white patch (linear 0.88) at code ~226: room for +30 % before it clips
PHOTO_EXTENSIONS = {".jpg", ".jpeg", ".png"}
#: Global lighting changes, applied to the whole composited photo in linear light: white balance 10-15 % on
#: red or blue, exposure x0.7 and x1.3.
LIGHTING = {
    "red +15 %": (1.15, 1.0, 1.0),
    "red -10 %": (0.90, 1.0, 1.0),
    "blue +12 %": (1.0, 1.0, 1.12),
    "blue -15 %": (1.0, 1.0, 0.85),
    "warm (red +10 %, blue -10 %)": (1.10, 1.0, 0.90),
    "exposure x0.7": (0.7, 0.7, 0.7),
    "exposure x1.3": (1.3, 1.3, 1.3),
}
#: Largest change of a corrected grey patch under those changes (linear units).
GREY_TOLERANCE = 0.01
#: Largest error of a corrected patch against its reference value (linear units); patches out of the sRGB
#: gamut (cyan) or clipped (white under x1.3) are rendered wrongly by construction and are excluded.
COLOUR_TOLERANCE = 0.02


@cache
def reference_linear() -> F64:
    """(24, 3): the chart's reference colours in linear sRGB (D50 -> D65 by Bradford)."""
    chart = colour.CCS_COLOURCHECKERS["ColorChecker24 - After November 2014"]
    xyz = colour.xyY_to_XYZ(np.array(list(chart.data.values())))
    rgb = colour.XYZ_to_RGB(
        xyz, "sRGB", illuminant=chart.illuminant, chromatic_adaptation_transform="Bradford"
    )
    return np.asarray(rgb, dtype=np.float64)


def patch_squares(inner: float = 1.0) -> F32:
    """(24, 4, 2) patch corners in card millimetres (chart order), shrunk about their centres by ``inner``."""
    left = (CARD_MM[0] - (5 * PITCH_MM + PATCH_MM)) / 2
    top = (CARD_MM[1] - (3 * PITCH_MM + PATCH_MM)) / 2
    half = inner * PATCH_MM / 2
    squares = []
    for index in range(24):
        row, column = divmod(index, 6)
        cx = left + column * PITCH_MM + PATCH_MM / 2
        cy = top + row * PITCH_MM + PATCH_MM / 2
        squares.append(
            [[cx - half, cy - half], [cx + half, cy - half], [cx + half, cy + half], [cx - half, cy + half]]
        )
    return np.asarray(squares, dtype=np.float32)


def render_chart(px_per_mm: float, order: npt.NDArray[np.intp] | None = None) -> F32:
    """The card in linear light, (h, w, 3) float32; ``order`` rearranges the patches (a different chart)."""
    width, height = round(CARD_MM[0] * px_per_mm), round(CARD_MM[1] * px_per_mm)
    card = np.full((height, width, 3), FRAME_LINEAR, dtype=np.float32)
    colours = np.clip(reference_linear(), 0.0, 1.0)  # cyan's red is out of gamut
    if order is not None:
        colours = colours[order]
    for square, rgb in zip(patch_squares() * px_per_mm, colours, strict=True):
        (x0, y0), (x1, y1) = np.round(square[0]).astype(int), np.round(square[2]).astype(int)
        card[y0:y1, x0:x1] = rgb
    return card


def composite(
    photo: U8,
    *,
    fraction: float = 0.3,
    corner: str = "br",
    warp: float = 0.04,
    seed: int = 0,
    turn: int = 0,
    angle: float = 0.0,
    order: npt.NDArray[np.intp] | None = None,
) -> tuple[F32, F64]:
    """Paste the chart into a corner of the photo, in linear light.

    Parameters
    ----------
    fraction : chart width / photo width.
    corner : "tl", "tr", "bl" or "br".
    warp : corner jitter (fraction of the chart width): a mild perspective.
    turn : 0 upright, 2 upside down, -1 mirrored (as by a selfie camera).
    angle : rotation in the photo's plane, degrees.
    order : patch colours rearranged (see :func:`render_chart`).

    Returns
    -------
    linear : (H, W, 3) float32, the composited photo in linear light.
    card_to_photo : (3, 3) homography from card millimetres to photo pixels.
    """
    rng = np.random.default_rng(seed)
    height, width = photo.shape[:2]
    chart_w = fraction * width
    chart_h = chart_w * CARD_MM[1] / CARD_MM[0]
    margin = 0.03 * width
    x0 = width - margin - chart_w if "r" in corner else margin
    y0 = height - margin - chart_h if "b" in corner else margin
    target = np.array([[x0, y0], [x0 + chart_w, y0], [x0 + chart_w, y0 + chart_h], [x0, y0 + chart_h]])
    if angle:
        turn_by = np.deg2rad(angle)
        rotation = np.array([[np.cos(turn_by), -np.sin(turn_by)], [np.sin(turn_by), np.cos(turn_by)]])
        centre = target.mean(axis=0)
        target = (target - centre) @ rotation.T + centre
        low, high = target.min(axis=0), target.max(axis=0)  # back inside the photo, off its edges
        target += np.maximum(0, margin - low) - np.maximum(0, high - (np.array([width, height]) - margin))
    target = (target + rng.uniform(-warp, warp, target.shape) * chart_w).astype(np.float32)
    if turn == 2:
        target = np.roll(target, 2, axis=0)
    elif turn == -1:
        target = target[[1, 0, 3, 2]]
    card_mm = np.array([[0, 0], [CARD_MM[0], 0], [CARD_MM[0], CARD_MM[1]], [0, CARD_MM[1]]], dtype=np.float32)
    card_to_photo = cv2.getPerspectiveTransform(card_mm, target)
    supersample = 2 * chart_w / CARD_MM[0]  # px per mm, twice the photo's
    chart = render_chart(supersample, order) * LIGHT
    to_photo = card_to_photo @ np.diag([1 / supersample, 1 / supersample, 1.0])
    warped = cv2.warpPerspective(chart, to_photo, (width, height), flags=cv2.INTER_AREA)
    cover = cv2.warpPerspective(np.ones(chart.shape[:2], np.float32), to_photo, (width, height))
    warped, cover = cv2.GaussianBlur(warped, (0, 0), 1.0), cv2.GaussianBlur(cover, (0, 0), 1.0)
    linear = to_linear(photo) * (1 - cover[..., None]) + warped
    return linear.astype(np.float32), np.asarray(card_to_photo, dtype=np.float64)


def encode(linear: F32, gains: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> U8:
    """Apply per-channel gains in linear light, clip, encode as 8-bit sRGB."""
    lit = np.clip(linear * np.asarray(gains, dtype=np.float32), 0.0, 1.0)
    return np.round(linear_to_srgb(lit) * 255).astype(np.uint8)


def corrected_patches(rgb: U8, card_to_photo: F64, reference: ColourReference) -> F64:
    """(24, 3): each patch's mean linear colour (central half of the patch), corrected by the reference."""
    assert reference.correction is not None
    squares = cv2.perspectiveTransform(patch_squares(0.5).reshape(-1, 1, 2), card_to_photo).reshape(24, 4, 2)
    linear = to_linear(rgb)
    means = []
    for square in squares:
        (x0, y0), (x1, y1) = np.ceil(square.min(axis=0)).astype(int), np.floor(square.max(axis=0)).astype(int)
        means.append(linear[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0))
    return np.asarray(means, dtype=np.float64) @ reference.correction.T


def load_rgb(path: Path) -> U8:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert bgr is not None, path
    return np.ascontiguousarray(bgr[..., ::-1])


def face_photos(faces_dir: Path) -> list[Path]:
    photos = sorted(p for p in faces_dir.iterdir() if p.suffix.lower() in PHOTO_EXTENSIONS)
    assert len(photos) >= 10, faces_dir
    return photos


@pytest.fixture(scope="module")
def obama(faces_dir: Path) -> U8:
    return load_rgb(faces_dir / "obama.jpg")


@pytest.fixture(scope="module")
def chart_photo(obama: U8) -> tuple[F32, F64, ColourReference]:
    """obama.jpg with the chart at 30 % of its width in the bottom-right corner, and its reference."""
    linear, card_to_photo = composite(obama, fraction=0.3, corner="br", seed=1)
    reference = colour_checker_reference(encode(linear))
    assert reference is not None
    return linear, card_to_photo, reference


def test_every_face_photo_is_rejected_by_the_screen(faces_dir: Path) -> None:
    for path in face_photos(faces_dir):
        rgb = load_rgb(path)
        assert might_contain_checker(screen_image(rgb)[0]) is None, path.name
        assert colour_checker_reference(rgb) is None, path.name


@pytest.mark.parametrize(
    ("name", "fraction", "corner", "warp", "turn", "angle"),
    [
        ("obama.jpg", 0.3, "br", 0.04, 0, 0),
        ("obama.jpg", 0.3, "tl", 0.04, 2, 0),
        ("biden2.jpg", 0.25, "tr", 0.05, 0, 0),
        ("obama-1080p.jpg", 0.4, "bl", 0.06, -1, 0),
        ("two_people.jpg", 0.3, "tr", 0.06, 0, 20),
        ("biden.jpg", 0.35, "bl", 0.03, 0, -90),
        ("alex_lacamoire1.jpg", 0.3, "br", 0.03, 0, 45),
    ],
)
def test_chart_is_found_and_read_in_a_face_photo(
    faces_dir: Path, name: str, fraction: float, corner: str, warp: float, turn: int, angle: float
) -> None:
    photo = load_rgb(faces_dir / name)
    linear, card_to_photo = composite(
        photo, fraction=fraction, corner=corner, warp=warp, seed=7, turn=turn, angle=angle
    )
    rgb = encode(linear)
    reference = colour_checker_reference(rgb)
    assert reference is not None
    assert reference.kind == "colour_checker"
    error = np.abs(corrected_patches(rgb, card_to_photo, reference) - reference_linear())
    error[17, 0] = 0.0  # cyan's red: negative in the reference, rendered as 0
    assert error.max() < COLOUR_TOLERANCE, error.max(axis=1)


@pytest.mark.parametrize("gains", LIGHTING.values(), ids=LIGHTING.keys())
def test_lighting_change_is_taken_out_by_the_correction(
    chart_photo: tuple[F32, F64, ColourReference], gains: tuple[float, float, float]
) -> None:
    linear, card_to_photo, base_reference = chart_photo
    base = corrected_patches(encode(linear), card_to_photo, base_reference)
    rgb = encode(linear, gains)
    reference = colour_checker_reference(rgb)
    assert reference is not None
    assert reference.kind == "colour_checker"
    corrected = corrected_patches(rgb, card_to_photo, reference)
    assert np.abs(corrected[18:24] - base[18:24]).max() < GREY_TOLERANCE
    clipped = (np.clip(reference_linear() * LIGHT * np.asarray(gains), 0, None) > 0.91).any(axis=1)
    error = np.abs(corrected - reference_linear())
    error[17, 0] = 0.0
    assert error[~clipped].max() < COLOUR_TOLERANCE, error.max(axis=1)


#: White-balance gains of 10-15 % on red or blue alone (a combined warm shift partly cancels in the index).
WHITE_BALANCE = {name: gains for name, gains in LIGHTING.items() if name.startswith(("red", "blue"))}


def test_redness_index_is_white_balance_free_with_a_chart(
    obama: U8, chart_photo: tuple[F32, F64, ColourReference]
) -> None:
    from needlecare import analyze_photo

    linear = chart_photo[0]
    base = analyze_photo(encode(linear))
    assert base.reference.kind == "colour_checker"
    plain = analyze_photo(obama)
    assert plain.reference.kind != "colour_checker"
    for name, gains in WHITE_BALANCE.items():
        report = analyze_photo(encode(linear, gains))
        assert report.reference.kind == "colour_checker", name
        assert abs(report.index - base.index) <= 0.02, (name, report.index - base.index)
        # the same change without a chart moves the index by an order of magnitude more
        without = analyze_photo(encode(to_linear(obama), gains))
        assert abs(without.index - plain.index) > 0.1, (name, without.index - plain.index)


def test_a_grid_of_other_colours_is_not_taken_for_the_chart(obama: U8) -> None:
    # The same card with its patches shuffled passes the screen and the segmentation, but no orientation of
    # it fits the reference (residual, grey order).
    order = np.random.default_rng(5).permutation(24)
    linear, _ = composite(obama, fraction=0.3, corner="br", seed=1, order=order)
    rgb = encode(linear)
    gray, factor = screen_image(rgb)
    box = might_contain_checker(gray)
    assert box is not None
    crop = chart_crop(rgb, box, factor)
    assert len(read_patches(crop, to_linear(crop))) == 1
    assert colour_checker_reference(rgb) is None


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    red=st.floats(0.85, 1.15),
    blue=st.floats(0.85, 1.15),
    exposure=st.floats(0.7, 1.15),  # the white patch stays below clipping
)
def test_corrected_greys_do_not_depend_on_the_light(
    chart_photo: tuple[F32, F64, ColourReference], red: float, blue: float, exposure: float
) -> None:
    linear, card_to_photo, base_reference = chart_photo
    base = corrected_patches(encode(linear), card_to_photo, base_reference)
    rgb = encode(linear, (red * exposure, exposure, blue * exposure))
    reference = colour_checker_reference(rgb)
    assert reference is not None
    corrected = corrected_patches(rgb, card_to_photo, reference)
    assert np.abs(corrected[18:24] - base[18:24]).max() < GREY_TOLERANCE


def test_follow_up_without_a_chart_is_brought_onto_a_charted_baseline(
    obama: U8, chart_photo: tuple[F32, F64, ColourReference]
) -> None:
    """The baseline holds the chart, the follow-ups do not: matched on the eyes to the baseline's light and
    corrected with the baseline's chart, they land on the chart's scale whatever their own white balance."""
    from needlecare import analyze_photo

    # both at 0.8x exposure, so that +15 % red does not clip skin (clipping is flagged separately)
    baseline = analyze_photo(encode(chart_photo[0] * 0.8))
    assert baseline.reference.kind == "colour_checker"
    dimmer = to_linear(obama) * 0.8
    follow_ups = {name: analyze_photo(encode(dimmer, gains), baseline=baseline) for name, gains in
                  {"same": (1.0, 1.0, 1.0), **WHITE_BALANCE}.items()}  # fmt: skip
    for name, report in follow_ups.items():
        assert report.reference.kind == "in_photo", name
        assert "baseline's ColorChecker" in report.reference.detail
        assert report.baseline is not None
        assert report.baseline.comparable
        # the same face in the same scene: the chart-corrected indices agree
        assert abs(report.index - baseline.index) <= 0.02, (name, report.index - baseline.index)
