"""Tests of the photo loader: formats, orientation, colour management, refusals and their messages."""

from __future__ import annotations

import io
import math
import struct
import warnings
import zlib
from collections.abc import Callable
from pathlib import Path

import colour
import cv2
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loading_samples import (
    cmyk_ink_profile,
    colourful,
    encode,
    exif_with_orientation,
    jpeg_with_size,
    modified,
    png_with_size,
    rgb_matrix_profile,
)
from PIL import Image, ImageCms, ImageFile

from needlecare.imaging.errors import (
    CorruptImageError,
    NotAnImageError,
    PhotoError,
    TooLargeError,
    UnsupportedImageError,
)
from needlecare.imaging.loading import MAX_PIXELS, MAX_SIDE, MIN_SIDE, LoadedPhoto, load_photo

U8 = npt.NDArray[np.uint8]


def expect_error(
    source: str | Path | bytes | U8, error: type[PhotoError], code: str, *phrases: str, **kwargs: int
) -> PhotoError:
    """Load ``source``, assert the error type, its code and that the message contains every phrase."""
    with pytest.raises(error) as info:
        load_photo(source, **kwargs)
    assert info.value.code == code
    assert info.value.to_dict() == {"code": code, "message": str(info.value)}
    for phrase in phrases:
        assert phrase in info.value.message, info.value.message
    return info.value


def mean_abs_diff(a: U8, b: U8) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def assert_well_formed(photo: LoadedPhoto) -> None:
    assert photo.rgb.dtype == np.uint8
    assert photo.rgb.ndim == 3
    assert photo.rgb.shape[2] == 3
    assert photo.rgb.flags.c_contiguous


# --- formats --------------------------------------------------------------------------------------


def test_real_jpeg_loads_at_full_resolution(faces_dir: Path) -> None:
    photo = load_photo(faces_dir / "obama.jpg")
    assert_well_formed(photo)
    with Image.open(faces_dir / "obama.jpg") as im:
        reference = np.asarray(im.convert("RGB"))  # its ICC profile is sRGB: no conversion expected
    assert photo.rgb.shape == (1137, 910, 3)
    assert photo.full_size == (910, 1137)
    assert photo.scale == 1.0
    assert photo.format == "JPEG"
    assert photo.notes == ()
    np.testing.assert_array_equal(photo.rgb, reference)
    assert photo.rgb.flags.writeable


def test_every_test_photo_loads(faces_dir: Path) -> None:
    """No false alarms from the structure checks on real camera files."""
    files = sorted(p for p in faces_dir.iterdir() if p.suffix in (".jpg", ".png"))
    assert len(files) >= 15
    for path in files:
        photo = load_photo(path)
        assert_well_formed(photo)
        assert photo.rgb.shape[1::-1] == photo.full_size, path.name


def test_path_str_and_bytes_give_the_same_pixels(faces_dir: Path) -> None:
    path = faces_dir / "obama_small.jpg"
    from_path = load_photo(path)
    np.testing.assert_array_equal(load_photo(str(path)).rgb, from_path.rgb)
    np.testing.assert_array_equal(load_photo(path.read_bytes()).rgb, from_path.rgb)


@pytest.mark.parametrize(
    ("fmt", "params", "expected_format"),
    [
        ("PNG", {}, "PNG"),
        ("WEBP", {"lossless": True}, "WEBP"),
        ("TIFF", {}, "TIFF"),
        ("TIFF", {"compression": "tiff_lzw"}, "TIFF"),
        ("BMP", {}, "BMP"),
    ],
)
def test_lossless_formats_round_trip_exactly(
    fmt: str, params: dict[str, object], expected_format: str
) -> None:
    pixels = colourful(48, 72)
    photo = load_photo(encode(pixels, fmt, **params))
    assert_well_formed(photo)
    assert photo.format == expected_format
    assert photo.full_size == (72, 48)
    assert photo.notes == ()
    np.testing.assert_array_equal(photo.rgb, pixels)


def test_jpeg_decodes_like_pillow_and_close_to_its_source() -> None:
    pixels = colourful(64, 96, seed=3)
    data = encode(pixels, "JPEG", quality=95, subsampling=0)
    photo = load_photo(data)
    assert photo.format == "JPEG"
    with Image.open(io.BytesIO(data)) as im:
        np.testing.assert_array_equal(photo.rgb, np.asarray(im))
    assert mean_abs_diff(photo.rgb, pixels) < 2


def test_heic_written_by_pillow_heif_loads() -> None:
    pixels = colourful(64, 96, seed=4)
    data = encode(pixels, "HEIF", quality=95)
    assert data[4:12] == b"ftypheic"
    photo = load_photo(data)
    assert_well_formed(photo)
    assert photo.format == "HEIF"
    assert photo.full_size == (96, 64)
    assert mean_abs_diff(photo.rgb, pixels) < 4


def test_heic_orientation_is_applied() -> None:
    stored = colourful(40, 64, seed=5)
    photo = load_photo(encode(stored, "HEIF", quality=95, exif=exif_with_orientation(6)))
    assert photo.full_size == (40, 64)
    assert mean_abs_diff(photo.rgb, np.rot90(stored, -1)) < 4


def test_rgba_png_drops_alpha_and_keeps_colours() -> None:
    pixels = colourful(40, 40)
    rgba = np.dstack([pixels, np.linspace(0, 255, 40 * 40).reshape(40, 40).astype(np.uint8)])
    photo = load_photo(encode(rgba, "PNG"))
    np.testing.assert_array_equal(photo.rgb, pixels)
    assert photo.notes == ("alpha channel dropped",)


def test_real_png_with_alpha(faces_dir: Path) -> None:
    photo = load_photo(faces_dir / "32bit.png")
    assert "alpha channel dropped" in photo.notes
    with Image.open(faces_dir / "32bit.png") as im:
        assert im.mode == "RGBA"
        np.testing.assert_array_equal(photo.rgb, np.asarray(im)[:, :, :3])


def test_palette_png_is_expanded() -> None:
    pixels = colourful(40, 48, seed=6)
    palette_image = Image.fromarray(pixels).quantize(colors=64)
    photo = load_photo(encode(palette_image, "PNG"))
    np.testing.assert_array_equal(photo.rgb, np.asarray(palette_image.convert("RGB")))
    assert photo.notes == ()


def test_palette_png_with_transparency_drops_it_without_warning() -> None:
    palette_image = Image.fromarray(colourful(40, 48, seed=7)).quantize(colors=16)
    palette_image.info["transparency"] = 0
    photo = load_photo(encode(palette_image, "PNG", transparency=0))
    np.testing.assert_array_equal(photo.rgb, np.asarray(palette_image.convert("RGBA"))[:, :, :3])
    assert photo.notes == ("transparency dropped",)


def test_16_bit_png_is_reduced_to_8_bits() -> None:
    rng = np.random.default_rng(8)
    pixels16 = rng.integers(0, 65536, size=(36, 40, 3), dtype=np.uint16)
    photo = load_photo(png_16_bit(pixels16))
    assert photo.notes == ("16-bit PNG reduced to 8 bits",)
    # 8-bit value = round(v * 255 / 65535) within one level (Pillow keeps the high byte).
    exact = np.round(pixels16 * (255 / 65535))
    assert np.max(np.abs(photo.rgb - exact)) <= 1


def png_16_bit(pixels16: npt.NDArray[np.uint16]) -> bytes:
    """A 16-bit RGB PNG written by hand (Pillow cannot write 16-bit colour)."""
    height, width, _ = pixels16.shape
    rows = pixels16.astype(">u2").reshape(height, width * 3).tobytes()
    stride = width * 6
    raw = b"".join(b"\0" + rows[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    )


def test_16_bit_tiff_is_reduced_to_8_bits() -> None:
    pixels = colourful(40, 48, seed=14)
    pixels16 = pixels.astype(np.uint16) * 257  # exact 16-bit versions of the 8-bit values
    ok, encoded = cv2.imencode(".tiff", np.ascontiguousarray(pixels16[:, :, ::-1]))  # OpenCV writes BGR
    assert ok
    photo = load_photo(encoded.tobytes())
    assert photo.format == "TIFF"
    assert photo.notes == ("16-bit TIFF reduced to 8 bits",)
    np.testing.assert_array_equal(photo.rgb, pixels)


def test_multi_picture_jpeg_gives_its_first_picture() -> None:
    first, second = colourful(40, 64, seed=15), colourful(40, 64, seed=16)
    data = encode(Image.fromarray(first), "MPO", save_all=True, append_images=[Image.fromarray(second)])
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "MPO"
        expected = np.asarray(im.convert("RGB"))
    photo = load_photo(data, min_side=MIN_SIDE)
    assert photo.format == "JPEG"
    assert photo.scale == 1.0
    np.testing.assert_array_equal(photo.rgb, expected)
    assert mean_abs_diff(photo.rgb, first) < mean_abs_diff(photo.rgb, second)


def test_unsupported_format_is_named() -> None:
    gif = encode(Image.fromarray(colourful(40, 40)).quantize(16), "GIF")
    expect_error(gif, UnsupportedImageError, "unsupported", "GIF images are not supported", "JPEG, PNG, HEIC")


# --- min_side -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_side", "scale", "shape"),
    [
        (None, 1.0, (1137, 910)),
        (910, 1.0, (1137, 910)),  # 1/2 would give 455 < 910
        (5000, 1.0, (1137, 910)),  # never upscale
        (455, 0.5, (569, 455)),  # ceil(910 / 2) = 455
        (456, 1.0, (1137, 910)),
        (228, 0.25, (285, 228)),  # ceil(910 / 4) = 228
        (114, 0.125, (143, 114)),  # ceil(910 / 8) = 114
        (1, 0.125, (143, 114)),  # 1/8 is the smallest DCT scale
    ],
)
def test_min_side_picks_the_smallest_sufficient_dct_scale(
    faces_dir: Path, min_side: int | None, scale: float, shape: tuple[int, int]
) -> None:
    photo = load_photo(faces_dir / "obama.jpg", min_side=min_side)
    assert photo.scale == scale
    assert photo.rgb.shape == (*shape, 3)
    assert photo.full_size == (910, 1137)
    assert_well_formed(photo)


def test_min_side_does_not_resize_other_formats() -> None:
    pixels = colourful(200, 300)
    photo = load_photo(encode(pixels, "PNG"), min_side=50)
    assert photo.scale == 1.0
    np.testing.assert_array_equal(photo.rgb, pixels)


def test_min_side_must_be_positive(faces_dir: Path) -> None:
    with pytest.raises(ValueError, match="min_side"):
        load_photo(faces_dir / "obama.jpg", min_side=0)


def test_half_scale_decode_matches_downsampled_full_decode(faces_dir: Path) -> None:
    full = load_photo(faces_dir / "obama.jpg").rgb.astype(np.float64)
    half = load_photo(faces_dir / "obama.jpg", min_side=400)
    assert half.scale == 0.5
    h, w = full.shape[0] // 2, full.shape[1] // 2
    averaged = full[: 2 * h, : 2 * w].reshape(h, 2, w, 2, 3).mean(axis=(1, 3))
    diff = np.abs(half.rgb[:h, :w].astype(np.float64) - averaged)
    assert diff.mean() < 2.0
    assert np.percentile(diff, 99) < 12


@settings(max_examples=30, deadline=None)
@given(
    width=st.integers(MIN_SIDE, 400),
    height=st.integers(MIN_SIDE, 400),
    min_side=st.integers(1, 450),
)
def test_dct_scale_is_minimal_and_sufficient(width: int, height: int, min_side: int) -> None:
    photo = load_photo(encode(colourful(height, width), "JPEG", quality=80), min_side=min_side)
    short = min(width, height)
    assert photo.scale in (1.0, 0.5, 0.25, 0.125)
    assert photo.rgb.shape[:2] == (math.ceil(height * photo.scale), math.ceil(width * photo.scale))
    decoded_short = min(photo.rgb.shape[:2])
    if min_side <= short:
        assert decoded_short >= min_side
    else:
        assert photo.scale == 1.0
    if photo.scale > 0.125:
        assert math.ceil(short * photo.scale / 2) < min_side  # the next smaller scale would be too small


# --- EXIF orientation -----------------------------------------------------------------------------

#: How a viewer shows a stored picture for each EXIF orientation, written from the EXIF text ("the 0th row
#: is the visual ..., the 0th column is the visual ...") independently of Pillow's transpose table.
DISPLAY: dict[int, Callable[[U8], U8]] = {
    1: lambda x: x,
    2: lambda x: x[:, ::-1],  # 0th row top, 0th column right
    3: lambda x: x[::-1, ::-1],  # 0th row bottom, 0th column right
    4: lambda x: x[::-1, :],  # 0th row bottom, 0th column left
    5: lambda x: x.transpose(1, 0, 2),  # 0th row left, 0th column top
    6: lambda x: np.rot90(x, -1),  # 0th row right, 0th column top
    7: lambda x: np.rot90(x[:, ::-1], -1),  # 0th row right, 0th column bottom
    8: lambda x: np.rot90(x, 1),  # 0th row left, 0th column bottom
}


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_every_exif_orientation_is_applied_exactly(fmt: str, orientation: int) -> None:
    stored = colourful(40, 64, seed=orientation)
    params: dict[str, object] = {"exif": exif_with_orientation(orientation)}
    if fmt == "WEBP":
        params["lossless"] = True
    photo = load_photo(encode(stored, fmt, **params))
    expected = DISPLAY[orientation](stored)
    np.testing.assert_array_equal(photo.rgb, expected)
    assert photo.full_size == (expected.shape[1], expected.shape[0])
    assert photo.rgb.flags.c_contiguous


def marked_photo(height: int, width: int) -> U8:
    """Green picture with a red block in the top-left corner and a blue one in the top-right corner."""
    pixels = np.zeros((height, width, 3), dtype=np.uint8)
    pixels[:] = (40, 160, 60)
    pixels[:16, :16] = (230, 20, 20)
    pixels[:16, -16:] = (20, 20, 230)
    return pixels


def corner_colour(rgb: U8, corner: str, size: int = 6) -> str:
    """'red', 'blue' or 'green': the dominant channel of a corner patch."""
    rows = slice(0, size) if corner[0] == "t" else slice(-size, None)
    cols = slice(0, size) if corner[1] == "l" else slice(-size, None)
    mean = rgb[rows, cols].reshape(-1, 3).mean(axis=0)
    return ("red", "green", "blue")[int(np.argmax(mean))]


# Where the stored top-left (red) and top-right (blue) markers appear when the photo is upright.
MARKERS = {
    1: ("tl", "tr"),
    3: ("br", "bl"),
    6: ("tr", "br"),
    8: ("bl", "tl"),
}


@pytest.mark.parametrize("orientation", sorted(MARKERS))
@pytest.mark.parametrize("min_side", [None, 24])
def test_jpeg_orientation_markers_end_up_upright(orientation: int, min_side: int | None) -> None:
    stored = marked_photo(96, 160)
    data = encode(stored, "JPEG", quality=92, exif=exif_with_orientation(orientation))
    photo = load_photo(data, min_side=min_side)
    rotated = orientation in (6, 8)
    assert photo.full_size == ((96, 160) if rotated else (160, 96))
    assert photo.scale == (1.0 if min_side is None else 0.25)  # ceil(96 / 8) = 12 < 24 <= ceil(96 / 4)
    assert photo.rgb.shape[:2] == ((photo.full_size[1] * photo.scale), (photo.full_size[0] * photo.scale))
    red, blue = MARKERS[orientation]
    marker = max(2, round(6 * photo.scale))
    assert corner_colour(photo.rgb, red, marker) == "red"
    assert corner_colour(photo.rgb, blue, marker) == "blue"
    others = {"tl", "tr", "bl", "br"} - {red, blue}
    assert all(corner_colour(photo.rgb, c, marker) == "green" for c in others)


def test_tiff_orientation_tag_is_applied() -> None:
    stored = colourful(40, 64, seed=12)
    photo = load_photo(encode(stored, "TIFF", tiffinfo={0x0112: 8}))
    np.testing.assert_array_equal(photo.rgb, DISPLAY[8](stored))
    assert photo.full_size == (40, 64)


@pytest.mark.parametrize(
    "exif",
    [
        b"Exif\0\0MM\0*\0\0\0\x08\0\x05" + b"\xff" * 30,  # entries promised, not there
        b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x03\0\x01\0\0\0\x06",  # cut inside the entry
    ],
)
def test_photo_with_broken_exif_still_loads_without_warnings(exif: bytes) -> None:
    stored = colourful(40, 64, seed=13)
    data = encode(stored, "JPEG", quality=95, subsampling=0, exif=exif)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        photo = load_photo(data)
    assert caught == []
    assert photo.full_size == (64, 40)
    assert mean_abs_diff(photo.rgb, stored) < 2


def test_invalid_orientation_value_is_ignored() -> None:
    stored = colourful(40, 64)
    photo = load_photo(encode(stored, "PNG", exif=exif_with_orientation(9)))
    np.testing.assert_array_equal(photo.rgb, stored)


# --- colour management ----------------------------------------------------------------------------

PATCHES = np.array([[200, 120, 90], [120, 180, 140], [60, 80, 200], [250, 250, 250]], dtype=np.uint8)


def patch_image(patches: U8) -> U8:
    """Each patch colour as a 10 x 40 band."""
    return np.ascontiguousarray(np.repeat(np.repeat(patches[:, None, :], 40, axis=1), 10, axis=0))


@pytest.mark.parametrize(
    ("name", "colourspace", "gamma"),
    [("Display P3 test", "Display P3", None), ("Adobe RGB test", "Adobe RGB (1998)", 563 / 256)],
)
def test_icc_profile_is_converted_to_srgb(name: str, colourspace: str, gamma: float | None) -> None:
    icc = rgb_matrix_profile(name, colourspace, gamma)
    photo = load_photo(encode(patch_image(PATCHES), "PNG", icc_profile=icc))
    expected = 255 * colour.RGB_to_RGB(
        PATCHES / 255,
        colour.RGB_COLOURSPACES[colourspace],
        colour.RGB_COLOURSPACES["sRGB"],
        apply_cctf_decoding=True,
        apply_cctf_encoding=True,
    )
    got = photo.rgb[::10, 0].astype(np.float64)
    np.testing.assert_allclose(got, expected, atol=1.5)
    assert np.max(np.abs(got - PATCHES)) > 10  # the conversion really changed the values
    assert photo.notes == (f"ICC profile '{name}' converted to sRGB",)


def test_icc_profile_is_converted_in_jpeg_too() -> None:
    icc = rgb_matrix_profile("Display P3 test", "Display P3")
    photo = load_photo(encode(patch_image(PATCHES), "JPEG", quality=95, icc_profile=icc), min_side=20)
    assert photo.notes == ("ICC profile 'Display P3 test' converted to sRGB",)
    plain = load_photo(encode(patch_image(PATCHES), "JPEG", quality=95), min_side=20)
    assert plain.notes == ()
    # P3 -> sRGB makes the skin-like patch redder (R 200 -> 213).
    assert photo.scale == 0.5
    assert int(photo.rgb[2, 10, 0]) - int(plain.rgb[2, 10, 0]) >= 8


def test_srgb_profile_leaves_pixels_unchanged() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = colourful(40, 40)
    photo = load_photo(encode(pixels, "PNG", icc_profile=icc))
    np.testing.assert_array_equal(photo.rgb, pixels)
    assert photo.notes == ()


def test_unreadable_icc_profile_is_ignored_with_a_note() -> None:
    pixels = colourful(40, 40)
    photo = load_photo(encode(pixels, "PNG", icc_profile=b"this is not an ICC profile" * 4))
    np.testing.assert_array_equal(photo.rgb, pixels)
    assert photo.notes == ("colour profile unreadable and ignored: colours assumed to be sRGB",)


def test_icc_profile_of_the_wrong_colour_space_is_ignored() -> None:
    cmyk_icc = cmyk_ink_profile("Test inks", [(0, 160, 220), (230, 0, 120), (255, 230, 0), (30, 30, 30)])
    pixels = colourful(40, 40)
    photo = load_photo(encode(pixels, "PNG", icc_profile=cmyk_icc))
    np.testing.assert_array_equal(photo.rgb, pixels)
    assert photo.notes == ("ICC profile 'Test inks' does not match the image's colours and was ignored",)


INKS = [(0, 160, 220), (230, 0, 120), (255, 230, 0), (30, 30, 30)]


def cmyk_quadrants() -> Image.Image:
    """64 x 64 CMYK image: pure cyan, magenta, yellow quadrants and bare paper."""
    cmyk = np.zeros((64, 64, 4), dtype=np.uint8)
    cmyk[:32, :32] = (255, 0, 0, 0)
    cmyk[:32, 32:] = (0, 255, 0, 0)
    cmyk[32:, :32] = (0, 0, 255, 0)
    return Image.frombytes("CMYK", (64, 64), cmyk.tobytes())


def quadrant_colours(rgb: U8) -> npt.NDArray[np.float64]:
    return np.array(
        [rgb[8:24, 8:24].mean(axis=(0, 1)) for rgb in (rgb[:32, :32], rgb[:32, 32:], rgb[32:, :32])]
    )


def test_cmyk_jpeg_without_profile_keeps_hues() -> None:
    photo = load_photo(encode(cmyk_quadrants(), "JPEG", quality=95))
    assert photo.format == "JPEG"
    np.testing.assert_allclose(
        quadrant_colours(photo.rgb), [[0, 255, 255], [255, 0, 255], [255, 255, 0]], atol=4
    )
    np.testing.assert_allclose(photo.rgb[40:60, 40:60].mean(axis=(0, 1)), [255, 255, 255], atol=2)
    assert photo.notes == ("converted from CMYK without a colour profile (colours approximate)",)


def test_cmyk_jpeg_with_profile_uses_it() -> None:
    icc = cmyk_ink_profile("Test inks", INKS)
    photo = load_photo(encode(cmyk_quadrants(), "JPEG", quality=95, icc_profile=icc))
    np.testing.assert_allclose(quadrant_colours(photo.rgb), np.array(INKS[:3], dtype=np.float64), atol=4)
    np.testing.assert_allclose(photo.rgb[40:60, 40:60].mean(axis=(0, 1)), [255, 255, 255], atol=2)
    assert photo.notes == ("converted from CMYK with ICC profile 'Test inks' to sRGB",)


# --- grayscale ------------------------------------------------------------------------------------

GRAY_PHRASES = ("black and white", "no colour to measure", "Please send a colour photo")


def gray_pixels() -> U8:
    return colourful(48, 48)[:, :, 1].copy()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: encode(gray_pixels(), "JPEG"), id="L-jpeg"),
        pytest.param(lambda: encode(gray_pixels(), "PNG"), id="L-png"),
        pytest.param(lambda: encode(Image.fromarray(gray_pixels()).convert("1"), "PNG"), id="1-bit-png"),
        pytest.param(
            lambda: encode(Image.fromarray(gray_pixels().astype(np.uint16) * 257), "PNG"), id="I16-png"
        ),
        pytest.param(lambda: encode(Image.fromarray(gray_pixels()).convert("LA"), "PNG"), id="LA-png"),
        pytest.param(
            lambda: encode(Image.fromarray(gray_pixels()).convert("RGB"), "JPEG"), id="gray-rgb-jpeg"
        ),
        pytest.param(lambda: encode(Image.fromarray(gray_pixels()).convert("RGB"), "PNG"), id="gray-rgb-png"),
        pytest.param(
            lambda: encode(Image.fromarray(gray_pixels()).convert("RGB").quantize(32), "PNG"),
            id="gray-palette",
        ),
        pytest.param(lambda: encode(Image.fromarray(gray_pixels()).convert("RGB"), "HEIF"), id="gray-heic"),
        pytest.param(lambda: gray_pixels(), id="HxW-array"),
        pytest.param(lambda: np.dstack([gray_pixels()] * 3), id="HxWx3-gray-array"),
    ],
)
def test_grayscale_is_refused(make: Callable[[], bytes | U8]) -> None:
    expect_error(make(), UnsupportedImageError, "unsupported", *GRAY_PHRASES)


def test_real_photo_converted_to_gray_is_refused(faces_dir: Path, tmp_path: Path) -> None:
    with Image.open(faces_dir / "obama.jpg") as im:
        path = tmp_path / "gray.jpg"
        im.convert("L").convert("RGB").save(path, quality=90)
    expect_error(path, UnsupportedImageError, "unsupported", *GRAY_PHRASES)


def test_nearly_gray_but_coloured_photo_is_accepted() -> None:
    pixels = np.dstack([gray_pixels()] * 3)
    pixels[20:30, 20:30, 0] += 12  # a small reddish patch is colour to measure
    np.testing.assert_array_equal(load_photo(pixels).rgb, pixels)


# --- not images -----------------------------------------------------------------------------------

NOT_AN_IMAGE = ("not a photo we can read", "JPEG, PNG, HEIC, WebP or TIFF")


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"Dear clinic, here is my photo.\n" * 20, id="text"),
        pytest.param(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 5, id="pdf"),
        pytest.param(np.random.default_rng(11).bytes(4096), id="random-bytes"),
        pytest.param(b"\0" * 1000, id="zeros"),
    ],
)
def test_non_images_are_refused(data: bytes) -> None:
    expect_error(data, NotAnImageError, "not_an_image", *NOT_AN_IMAGE)


def test_empty_data_and_zero_byte_file(tmp_path: Path) -> None:
    expect_error(b"", NotAnImageError, "not_an_image", "The file is empty", "send the photo again")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    expect_error(empty, NotAnImageError, "not_an_image", "The file is empty")


def test_text_file_on_disk_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a photo")
    expect_error(path, NotAnImageError, "not_an_image", *NOT_AN_IMAGE)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.jpg"
    expect_error(missing, NotAnImageError, "not_an_image", f"cannot read {missing}: no such file")
    expect_error(str(missing), NotAnImageError, "not_an_image", "no such file", "Check the file name")
    expect_error(tmp_path, NotAnImageError, "not_an_image", f"cannot read {tmp_path}: it is a folder")


def test_wrong_source_type_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="path, bytes or a numpy array"):
        load_photo(12345)  # type: ignore[arg-type]


# --- corrupt --------------------------------------------------------------------------------------


@pytest.fixture
def truncation_setting_is_restored() -> object:
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    yield None
    assert before is False
    assert ImageFile.LOAD_TRUNCATED_IMAGES is before


CORRUPT = ("damaged or incomplete", "send the photo again")


def xor_range(start_fraction: float, length: int) -> Callable[[bytearray], None]:
    def edit(buf: bytearray) -> None:
        start = int(len(buf) * start_fraction)
        for i in range(start, start + length):
            buf[i] ^= 0xFF

    return edit


def test_jpeg_cut_in_half(faces_dir: Path, truncation_setting_is_restored: object) -> None:
    data = (faces_dir / "obama.jpg").read_bytes()
    expect_error(data[: len(data) // 2], CorruptImageError, "corrupt", *CORRUPT, "ends")
    expect_error(data[: len(data) // 2], CorruptImageError, "corrupt", *CORRUPT, min_side=100)


def test_jpeg_without_end_marker(faces_dir: Path, truncation_setting_is_restored: object) -> None:
    data = (faces_dir / "obama.jpg").read_bytes()
    expect_error(data[:-2], CorruptImageError, "corrupt", *CORRUPT)


def test_jpeg_header_only(faces_dir: Path) -> None:
    data = (faces_dir / "obama.jpg").read_bytes()
    expect_error(data[:40], CorruptImageError, "corrupt", *CORRUPT)


def test_jpeg_with_damaged_bytes_in_the_image_data(truncation_setting_is_restored: object) -> None:
    data = encode(colourful(128, 128), "JPEG", quality=90)
    sos = data.index(b"\xff\xda")
    middle = (sos + len(data)) // 2

    def damage(buf: bytearray) -> None:
        buf[middle : middle + 2] = b"\xff\x3a"  # bit errors that form a marker no scan may contain

    expect_error(modified(data, damage), CorruptImageError, "corrupt", *CORRUPT, "damaged bytes")


def test_jpeg_with_restart_markers_out_of_order(truncation_setting_is_restored: object) -> None:
    data = encode(colourful(128, 128), "JPEG", quality=90, restart_marker_blocks=2)
    sos = data.index(b"\xff\xda")
    first_rst = data.index(b"\xff\xd0", sos)
    load_photo(data)  # intact file loads

    def damage(buf: bytearray) -> None:
        buf[first_rst + 1] = 0xD3

    expect_error(modified(data, damage), CorruptImageError, "corrupt", *CORRUPT)


def test_truncation_is_found_even_if_pillow_is_set_to_accept_it(
    faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another part of the process may set LOAD_TRUNCATED_IMAGES; the structure checks still refuse."""
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    jpeg = (faces_dir / "obama.jpg").read_bytes()
    png = encode(colourful(120, 160, seed=9), "PNG")
    expect_error(jpeg[: len(jpeg) // 2], CorruptImageError, "corrupt", *CORRUPT)
    expect_error(png[: len(png) // 2], CorruptImageError, "corrupt", *CORRUPT)


def test_png_cut_in_half(truncation_setting_is_restored: object) -> None:
    data = encode(colourful(120, 160, seed=9), "PNG")
    expect_error(data[: len(data) // 2], CorruptImageError, "corrupt", *CORRUPT, "ends")


@pytest.mark.parametrize("start", [0.3, 0.5, 0.7])
@pytest.mark.parametrize("length", [1, 16])
def test_png_with_flipped_bytes(start: float, length: int, truncation_setting_is_restored: object) -> None:
    data = encode(np.random.default_rng(10).integers(0, 256, (120, 160, 3), dtype=np.uint8), "PNG")
    expect_error(modified(data, xor_range(start, length)), CorruptImageError, "corrupt", *CORRUPT)


def test_png_with_damaged_header(truncation_setting_is_restored: object) -> None:
    data = encode(colourful(40, 40), "PNG")

    def break_ihdr(buf: bytearray) -> None:
        buf[20] ^= 0x01  # a bit in the IHDR height: its CRC no longer matches

    expect_error(modified(data, break_ihdr), CorruptImageError, "corrupt", *CORRUPT, "header")


def test_truncated_heic(truncation_setting_is_restored: object) -> None:
    data = encode(colourful(64, 64), "HEIF", quality=90)
    expect_error(data[: len(data) // 2], CorruptImageError, "corrupt", *CORRUPT)


# --- sizes ----------------------------------------------------------------------------------------


def no_warnings(call: Callable[[], object]) -> None:
    """Run ``call`` and fail if it emitted any warning, even one Pillow would normally show once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    assert [str(w.message) for w in caught] == []


def expect_too_large(data: bytes, *phrases: str) -> None:
    pixel_limit_before = Image.MAX_IMAGE_PIXELS

    def call() -> None:
        expect_error(
            data,
            TooLargeError,
            "too_large",
            "too large",
            f"{MAX_PIXELS // 1_000_000} megapixels",
            f"{MAX_SIDE} pixels per side",
            "normal resolution",
            *phrases,
        )

    no_warnings(call)
    assert pixel_limit_before == Image.MAX_IMAGE_PIXELS


def test_png_claiming_50000_by_50000_is_a_bomb() -> None:
    expect_too_large(png_with_size(50_000, 50_000))


def test_png_just_over_the_pixel_limit_is_refused_from_the_header() -> None:
    side = math.isqrt(MAX_PIXELS) + 1  # above Pillow's own warning threshold (89 MP), below its error
    assert side * side > Image.MAX_IMAGE_PIXELS
    expect_too_large(png_with_size(side, side), f"{side} x {side} pixels")


def test_png_with_one_absurd_side_is_refused() -> None:
    expect_too_large(png_with_size(MAX_SIDE + 1, 40), f"{MAX_SIDE + 1} x 40 pixels")


def test_jpeg_claiming_30000_by_30000_is_refused_even_with_draft() -> None:
    expect_too_large(jpeg_with_size(30_000, 30_000))
    with pytest.raises(TooLargeError):
        load_photo(jpeg_with_size(30_000, 30_000), min_side=100)


def test_limits_are_checked_before_decoding() -> None:
    # The image data is that of a 40 x 40 picture: decoding would fail as corrupt, so too_large proves the
    # header check came first.
    expect_error(png_with_size(3000, 3000), CorruptImageError, "corrupt", *CORRUPT)
    expect_error(png_with_size(MAX_SIDE, MAX_PIXELS // MAX_SIDE + 1), TooLargeError, "too_large")


@pytest.mark.parametrize(("width", "height"), [(20, 100), (100, MIN_SIDE - 1), (8, 8)])
def test_tiny_images_are_refused(width: int, height: int) -> None:
    expect_error(
        encode(colourful(height, width), "PNG"),
        UnsupportedImageError,
        "unsupported",
        "too small",
        f"{width} x {height} pixels",
        f"at least {MIN_SIDE} pixels",
    )


def test_smallest_accepted_size() -> None:
    pixels = colourful(MIN_SIDE, MIN_SIDE)
    np.testing.assert_array_equal(load_photo(encode(pixels, "PNG")).rgb, pixels)


# --- arrays ---------------------------------------------------------------------------------------


def test_rgb_array_is_returned_as_is() -> None:
    pixels = colourful(40, 50)
    photo = load_photo(pixels)
    assert photo.rgb is pixels
    assert photo == LoadedPhoto(pixels, 1.0, (50, 40), "array", ())


def test_rgba_array_drops_alpha() -> None:
    rgba = np.dstack([colourful(40, 50), np.full((40, 50), 7, dtype=np.uint8)])
    photo = load_photo(rgba)
    np.testing.assert_array_equal(photo.rgb, rgba[:, :, :3])
    assert photo.rgb.flags.c_contiguous
    assert photo.notes == ("alpha channel dropped",)


def test_non_contiguous_array_is_made_contiguous() -> None:
    pixels = colourful(40, 50)
    flipped = pixels[:, ::-1]
    photo = load_photo(flipped)
    assert photo.rgb.flags.c_contiguous
    np.testing.assert_array_equal(photo.rgb, flipped)


@pytest.mark.parametrize(
    ("array", "phrase"),
    [
        (colourful(40, 40).astype(np.float32), "dtype uint8"),
        (colourful(40, 40).astype(np.uint16), "dtype uint8"),
        (colourful(40, 40)[:, :, :2], "shape (height, width, 3)"),
        (colourful(40, 40)[None], "shape (height, width, 3)"),
    ],
)
def test_bad_arrays_are_refused(array: npt.NDArray[np.generic], phrase: str) -> None:
    expect_error(array, UnsupportedImageError, "unsupported", phrase)  # type: ignore[arg-type]


def test_array_limits() -> None:
    expect_error(colourful(20, 40), UnsupportedImageError, "unsupported", "too small")
    big = np.broadcast_to(np.array([200, 100, 50], dtype=np.uint8), (40, MAX_SIDE + 1, 3))
    expect_error(big, TooLargeError, "too_large", "too large")
