"""Exact JPEG chroma block means: the decoders' rounding bias, its repair, the grid, the colour conversion."""

from __future__ import annotations

import io

import colour
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loading_samples import encode, exif_with_orientation
from PIL import Image

from needlecare.imaging.jpeg_chroma import (
    DEQUANTISE_MIN_STEP,
    ChromaGrid,
    chroma_grid,
    exact_block_means,
    restore_block_means,
    ycbcr_to_rgb,
)
from needlecare.imaging.loading import load_photo

U8 = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]
BLOCKS = 48  # per side: 2304 chroma blocks, so a mean rounding error is known to +-0.011 levels (1 SE)


def flat_blocks(seed: int = 0, block: int = 16) -> U8:
    """(768, 768, 3) image of ``block``-sized squares of skin-like colours whose chroma is spread over many
    quantisation steps, with +-1 level of noise: block means fall anywhere between the quantisation levels,
    and the noise is far too weak to survive quality 60, so the decoded blocks are flat."""
    rng = np.random.default_rng(seed)
    base = np.array([190.0, 135.0, 115.0])
    colours = base + rng.uniform(-20, 20, (BLOCKS, BLOCKS, 1)) + rng.uniform(-12, 12, (BLOCKS, BLOCKS, 3))
    noise = rng.uniform(-1, 1, (BLOCKS * block, BLOCKS * block, 3))
    pixels = np.repeat(np.repeat(colours, block, 0), block, 1) + noise
    return np.ascontiguousarray(np.rint(pixels).astype(np.uint8))


def jfif_ycbcr(rgb: U8) -> F64:
    """Full-range BT.601 Y'CbCr of 8-bit R'G'B' (what a JPEG encoder computes before rounding)."""
    matrix = np.array(
        [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]], dtype=np.float64
    )
    return np.asarray(rgb, np.float64) @ matrix.T + [0.0, 128.0, 128.0]


def encoder_ycbcr(rgb: U8) -> F64:
    """The integer Y'CbCr a libjpeg encoder computes from 8-bit R'G'B' (jccolor.c, 16-bit fixed point).

    Its rounding of near-ties is not symmetric, so on images of integer colours its chroma averages a few
    hundredths of a level off the exact conversion; the quantisation is measured against what it saw.
    """
    fix = lambda x: round(x * 65536)  # noqa: E731
    r, g, b = (np.asarray(rgb[..., i], np.int64) for i in range(3))
    half, offset = 1 << 15, 128 << 16
    y = (fix(0.299) * r + fix(0.587) * g + fix(0.114) * b + half) >> 16
    cb = (-fix(0.16874) * r - fix(0.33126) * g + fix(0.5) * b + offset + half - 1) >> 16
    cr = (fix(0.5) * r - fix(0.41869) * g - fix(0.08131) * b + offset + half - 1) >> 16
    return np.stack([y, cb, cr], axis=-1).astype(np.float64)


def block_means(image: npt.NDArray[np.floating] | U8, size: int) -> F64:
    """(n, n, C) means of the ``size`` x ``size`` blocks of an (H, W, C) array."""
    h, w = image.shape[0] // size, image.shape[1] // size
    blocks = np.asarray(image[: h * size, : w * size], np.float64).reshape(h, size, w, size, -1)
    return blocks.mean(axis=(1, 3))


def ycbcr_decode(data: bytes, scale: int = 1) -> U8:
    with Image.open(io.BytesIO(data)) as im:
        im.draft("YCbCr", (im.width // scale, im.height // scale))
        return np.asarray(im.convert("YCbCr") if im.mode != "YCbCr" else im).copy()


def chroma_bias(rgb: U8, truth: F64, block: int) -> F64:
    """Mean (Cb, Cr) error of the blocks of a decoded R'G'B' image against the true block means."""
    return (block_means(jfif_ycbcr(rgb), block)[..., 1:] - truth).reshape(-1, 2).mean(axis=0)


@pytest.mark.parametrize(("quality", "rounding"), [(60, 1 / 8), (65, 1 / 4)])
def test_decoders_round_flat_block_means_and_loading_restores_them(quality: int, rounding: float) -> None:
    pixels = flat_blocks()
    truth = block_means(encoder_ycbcr(pixels), 16)[..., 1:]
    data = encode(pixels, "JPEG", quality=quality)  # 4:2:0, the standard tables: Q = 14 or 12
    plain = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    # Every flat block is decoded as round_half_up(128 + k Q / 8): on average `rounding` too high.
    assert chroma_bias(plain, truth, 16) == pytest.approx([rounding, rounding], abs=0.035)
    loaded = load_photo(data)
    assert np.abs(chroma_bias(loaded.rgb, truth, 16)).max() <= 0.035
    assert any("exact block means" in note for note in loaded.notes)


def test_restored_block_means_lie_on_the_quantisation_grid() -> None:
    data = encode(flat_blocks(seed=1), "JPEG", quality=60)
    with Image.open(io.BytesIO(data)) as im:
        grid = chroma_grid(im)
    assert grid == ChromaGrid((14 / 8, 14 / 8), (16, 16))
    exact = exact_block_means(ycbcr_decode(data, 8), grid)
    assert exact.shape == (BLOCKS, BLOCKS, 2)
    k = (exact - 128) / (14 / 8)
    np.testing.assert_allclose(k, np.rint(k), atol=1e-9)
    truth = block_means(encoder_ycbcr(flat_blocks(seed=1)), 16)[..., 1:]
    # Each block is within half a step (plus the encoder's rounding of its samples) of the truth...
    assert np.abs(exact - truth).max() <= 14 / 16 + 0.5
    restored = restore_block_means(ycbcr_decode(data), exact, 16)
    np.testing.assert_allclose(block_means(restored, 16)[..., 1:], exact, atol=1e-4)
    # ... and luma is left alone.
    np.testing.assert_array_equal(restored[..., 0], ycbcr_decode(data)[..., 0])


def test_blocks_cut_by_the_image_edge_are_left_as_decoded() -> None:
    pixels = flat_blocks(seed=2)[:100, :90]  # 6 x 5 whole 16 x 16 blocks, then cut ones
    data = encode(pixels, "JPEG", quality=60)
    with Image.open(io.BytesIO(data)) as im:
        grid = chroma_grid(im)
    assert grid is not None
    decoded = ycbcr_decode(data)
    exact = exact_block_means(ycbcr_decode(data, 8), grid)
    restored = restore_block_means(decoded, exact, grid.block)
    np.testing.assert_array_equal(restored[96:], decoded[96:])
    np.testing.assert_array_equal(restored[:, 80:], decoded[:, 80:])
    assert not np.array_equal(restored[:96, :80], decoded[:96, :80])


@pytest.mark.parametrize(("subsampling", "block"), [(0, (8, 8)), (1, (16, 8)), (2, (16, 16))])
def test_chroma_grid_follows_the_subsampling(subsampling: int, block: tuple[int, int]) -> None:
    data = encode(flat_blocks(), "JPEG", quality=60, subsampling=subsampling)
    with Image.open(io.BytesIO(data)) as im:
        assert chroma_grid(im) == ChromaGrid((1.75, 1.75), block)


def test_jpegs_not_coded_as_ycbcr_have_no_chroma_grid() -> None:
    rgb_coded = encode(flat_blocks(), "JPEG", quality=60, keep_rgb=True)
    cmyk = encode(Image.fromarray(flat_blocks()).convert("CMYK"), "JPEG", quality=60)
    for data in (rgb_coded, cmyk):
        with Image.open(io.BytesIO(data)) as im:
            assert chroma_grid(im) is None
    # An RGB-coded JPEG is loaded as libjpeg decodes it, untouched.
    plain = np.asarray(Image.open(io.BytesIO(rgb_coded)).convert("RGB"))
    np.testing.assert_array_equal(load_photo(rgb_coded).rgb, plain)


def test_fine_quantisation_is_decoded_as_usual() -> None:
    data = encode(flat_blocks(), "JPEG", quality=75)  # Q = 9: 1.125 levels, below DEQUANTISE_MIN_STEP
    with Image.open(io.BytesIO(data)) as im:
        grid = chroma_grid(im)
    assert grid is not None
    assert not grid.coarse
    assert min(grid.steps) < DEQUANTISE_MIN_STEP
    loaded = load_photo(data)
    np.testing.assert_array_equal(loaded.rgb, np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert not any("exact block means" in note for note in loaded.notes)
    with pytest.raises(ValueError, match="one level"):
        exact_block_means(ycbcr_decode(data, 8), ChromaGrid((0.5, 0.5), (16, 16)))


def test_progressive_and_baseline_files_load_the_same() -> None:
    pixels = flat_blocks(seed=3)
    baseline = load_photo(encode(pixels, "JPEG", quality=60))
    progressive = load_photo(encode(pixels, "JPEG", quality=60, progressive=True))
    np.testing.assert_array_equal(progressive.rgb, baseline.rgb)


def test_restoration_comes_before_the_exif_rotation() -> None:
    pixels = flat_blocks(seed=4)[:, :400]
    upright = load_photo(encode(pixels, "JPEG", quality=60)).rgb
    stored = np.ascontiguousarray(np.rot90(pixels, 1))  # stored turned left; orientation 6 turns it back
    rotated = load_photo(encode(stored, "JPEG", quality=60, exif=exif_with_orientation(6)))
    assert rotated.rgb.shape == upright.shape
    truth = block_means(encoder_ycbcr(stored), 16)[..., 1:]
    # The blocks are the stored file's: compare in its orientation.
    back = np.ascontiguousarray(np.rot90(rotated.rgb, 1))
    assert np.abs(chroma_bias(back, truth, 16)).max() <= 0.05


@pytest.mark.parametrize("min_side", [384, 192, 96])
def test_dct_scaled_decodes_are_restored_too(min_side: int) -> None:
    pixels = flat_blocks(seed=5)
    data = encode(pixels, "JPEG", quality=60)
    loaded = load_photo(data, min_side=min_side)
    size = round(16 * loaded.scale)
    assert loaded.scale == min_side / 768
    assert size >= 2
    truth = block_means(encoder_ycbcr(pixels), 16)[..., 1:]
    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (768 * size // 16,) * 2)
        plain = np.asarray(im.convert("RGB"))
    assert chroma_bias(plain, truth, size) == pytest.approx([1 / 8, 1 / 8], abs=0.035)
    assert np.abs(chroma_bias(loaded.rgb, truth, size)).max() <= 0.035


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 255), min_size=3 * 64, max_size=3 * 64))
def test_ycbcr_to_rgb_matches_colour_science(values: list[int]) -> None:
    ycc = np.array(values, np.uint8).reshape(8, 8, 3)
    reference = colour.YCbCr_to_RGB(
        ycc,
        K=colour.WEIGHTS_YCBCR["ITU-R BT.601"],
        in_bits=8,
        in_legal=False,
        in_int=True,
        out_bits=8,
        out_legal=False,
        out_int=False,
    )
    expected = np.clip(np.rint(reference * 255), 0, 255)
    assert np.abs(ycbcr_to_rgb(ycc.astype(np.float32)).astype(int) - expected).max() <= 1


def test_ycbcr_to_rgb_matches_libjpeg_within_one_level() -> None:
    rng = np.random.default_rng(6)
    data = encode(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "JPEG", quality=90)
    libjpeg = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    ours = ycbcr_to_rgb(ycbcr_decode(data).astype(np.float32)).astype(int)
    assert np.abs(ours - libjpeg).max() <= 1
    assert (ours == libjpeg).mean() > 0.9


def test_an_mpo_first_picture_is_restored_like_a_jpeg() -> None:
    pixels = flat_blocks(seed=7)
    second = Image.fromarray(np.ascontiguousarray(pixels[::-1]))
    mpo = encode(Image.fromarray(pixels), "MPO", save_all=True, append_images=[second], quality=60)
    loaded = load_photo(mpo)
    assert any("exact block means" in note for note in loaded.notes)
    np.testing.assert_array_equal(loaded.rgb, load_photo(encode(pixels, "JPEG", quality=60)).rgb)
