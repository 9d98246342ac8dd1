"""Tests for the redness-map pictures: colour tables, overlay, legend, side-by-side view, PNG writing."""

from __future__ import annotations

import os
from pathlib import Path

import colour
import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from needlecare.imaging import heatmap
from needlecare.imaging.heatmap import ImageWriteError, colormap_lut, render_overlay, side_by_side, write_png

U8 = npt.NDArray[np.uint8]
B = npt.NDArray[np.bool_]
F32 = npt.NDArray[np.float32]


def photo(height: int, width: int, seed: int = 0) -> U8:
    """A random-textured RGB photo."""
    rng = np.random.default_rng(seed)
    return rng.integers(20, 236, size=(height, width, 3), dtype=np.uint8)


def ellipse(height: int, width: int, cy: float, cx: float, ry: float, rx: float) -> B:
    yy, xx = np.mgrid[0:height, 0:width]
    mask: B = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
    return mask


def inner_boundary(mask: B) -> B:
    """Pixels of ``mask`` with a 4-neighbour outside it (image edges count as outside)."""
    padded = np.pad(mask, 1, constant_values=False)
    interior = (
        padded[1:-1, 1:-1] & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    )
    boundary: B = mask & ~interior
    return boundary


def erode(mask: B, steps: int) -> B:
    for _ in range(steps):
        mask = mask & ~inner_boundary(mask)
    return mask


def blend(pixel: U8, lut_colour: U8, alpha: float) -> U8:
    """The documented blend: rint((1 - alpha) * photo + alpha * colour)."""
    value = np.rint((1 - alpha) * pixel.astype(np.float64) + alpha * lut_colour.astype(np.float64))
    return value.astype(np.uint8)


# --- colour tables --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sequential", "diverging"])
def test_lut_shape_and_dtype(name: str) -> None:
    lut = colormap_lut(name)
    assert lut.shape == (256, 3)
    assert lut.dtype == np.uint8
    lut[:] = 0  # a copy: the shared table is not damaged
    assert colormap_lut(name).any()


def test_diverging_lut_is_blue_white_red() -> None:
    lut = colormap_lut("diverging").astype(int)
    for middle in (lut[127], lut[128]):
        assert middle.min() >= 235, middle
        assert middle.max() - middle.min() <= 15, middle
    low, high = lut[0], lut[255]
    assert low[2] > low[0] + 50
    assert low[2] > low[1]
    assert high[0] > high[2] + 50
    assert high[0] > high[1]


def cie_lightness(rgb: U8) -> npt.NDArray[np.float64]:
    lab = colour.XYZ_to_Lab(colour.sRGB_to_XYZ(rgb.astype(np.float64) / 255.0))
    lightness: npt.NDArray[np.float64] = lab[:, 0]
    return lightness


def test_sequential_lut_lightness_increases() -> None:
    lightness = cie_lightness(colormap_lut("sequential"))
    assert np.all(np.diff(lightness) > 0)
    assert lightness[0] < 5
    assert lightness[-1] > 90


def test_diverging_lut_lightness_peaks_in_the_middle() -> None:
    lightness = cie_lightness(colormap_lut("diverging"))
    assert np.all(np.diff(lightness[:128]) >= 0)
    assert np.all(np.diff(lightness[128:]) <= 0)


def test_unknown_lut_name() -> None:
    with pytest.raises(ValueError, match="unknown colour map"):
        colormap_lut("rainbow")


# --- overlay ----------------------------------------------------------------------------------------------


def test_overlay_shape_dtype_and_input_untouched() -> None:
    rgb = photo(300, 240)
    before = rgb.copy()
    index = np.full((300, 240), 0.2, dtype=np.float32)
    valid = ellipse(300, 240, 150, 120, 120, 90)
    out = render_overlay(rgb, index, valid, {"nose": erode(valid, 60)}, vmin=0.0, vmax=0.4, unit="OD_hb")
    assert out.dtype == np.uint8
    assert out.shape[0] == 300
    assert out.shape[2] == 3
    assert out.shape[1] > 240
    np.testing.assert_array_equal(rgb, before)
    assert out.base is not rgb


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    alpha=st.floats(0.0, 1.0),
    diverging=st.booleans(),
    fraction=st.floats(0.0, 1.0),
)
def test_pixels_outside_valid_are_unchanged(
    seed: int, alpha: float, diverging: bool, fraction: float
) -> None:
    rng = np.random.default_rng(seed)
    rgb = photo(64, 80, seed)
    valid = rng.random((64, 80)) < fraction
    index = rng.normal(0.0, 1.0, size=(64, 80)).astype(np.float32)
    out = render_overlay(
        rgb, index, valid, {}, vmin=-1.0, vmax=1.0, unit="EI", diverging=diverging, alpha=alpha
    )
    np.testing.assert_array_equal(out[:, :80][~valid], rgb[~valid])


@pytest.mark.parametrize("diverging", [False, True])
@pytest.mark.parametrize("alpha", [0.6, 0.25, 1.0])
def test_painted_pixels_take_the_lut_end_colours(diverging: bool, alpha: float) -> None:
    rgb = photo(120, 100, seed=3)
    index = np.zeros((120, 100), dtype=np.float32)
    index[10, 10] = 0.5  # = vmax
    index[20, 20] = 7.0  # above vmax: clipped to the top
    index[30, 30] = -0.5  # = vmin
    index[40, 40] = -9.0  # below vmin: clipped to the bottom
    valid = np.ones((120, 100), dtype=bool)
    out = render_overlay(
        rgb, index, valid, {}, vmin=-0.5, vmax=0.5, unit="OD_hb", diverging=diverging, alpha=alpha
    )
    lut = colormap_lut("diverging" if diverging else "sequential")
    for y, x in ((10, 10), (20, 20)):
        np.testing.assert_array_equal(out[y, x], blend(rgb[y, x], lut[255], alpha))
    for y, x in ((30, 30), (40, 40)):
        np.testing.assert_array_equal(out[y, x], blend(rgb[y, x], lut[0], alpha))
    # 0 is the middle of both scales here: rint(127.5) = 128, near white on the diverging map
    np.testing.assert_array_equal(out[60, 60], blend(rgb[60, 60], lut[128], alpha))


def test_asymmetric_diverging_scale_keeps_zero_white() -> None:
    rgb = photo(100, 100, seed=4)
    index = np.zeros((100, 100), dtype=np.float32)
    index[5, 5] = 0.5
    index[6, 6] = -0.1
    valid = np.ones((100, 100), dtype=bool)
    out = render_overlay(rgb, index, valid, {}, vmin=-0.1, vmax=0.5, unit="x", diverging=True, alpha=1.0)
    lut = colormap_lut("diverging")
    np.testing.assert_array_equal(out[50, 50], lut[128])
    np.testing.assert_array_equal(out[5, 5], lut[255])
    np.testing.assert_array_equal(out[6, 6], lut[0])


def test_intermediate_value_uses_the_matching_lut_entry() -> None:
    rgb = np.full((80, 80, 3), 100, dtype=np.uint8)
    index = np.full((80, 80), 0.1, dtype=np.float32)  # 1/4 of [0, 0.4] -> entry rint(63.75) = 64
    out = render_overlay(rgb, index, np.ones((80, 80), bool), {}, vmin=0.0, vmax=0.4, unit="u", alpha=0.5)
    np.testing.assert_array_equal(out[40, 40], blend(rgb[40, 40], colormap_lut("sequential")[64], 0.5))


def test_nan_pixels_are_untouched_even_when_valid() -> None:
    rgb = photo(90, 90, seed=5)
    index = np.full((90, 90), 0.3, dtype=np.float32)
    unknown = ellipse(90, 90, 45, 45, 20, 30)
    index[unknown] = np.nan
    index[0, :] = np.inf
    out = render_overlay(rgb, index, np.ones((90, 90), bool), {}, vmin=0.0, vmax=0.4, unit="OD_hb")
    np.testing.assert_array_equal(out[:, :90][unknown], rgb[unknown])
    np.testing.assert_array_equal(out[0, :90], rgb[0])
    assert not np.array_equal(out[50:60, 5:10], rgb[50:60, 5:10])  # finite valid pixels are painted


def test_region_outlines_follow_each_mask_boundary() -> None:
    height, width = 400, 360
    rgb = np.full((height, width, 3), 60, dtype=np.uint8)
    face = ellipse(height, width, 200, 180, 180, 160)
    regions = {
        "forehead": face & (np.mgrid[0:height, 0:width][0] < 120),
        "left_cheek": ellipse(height, width, 230, 100, 50, 45),
        "right_cheek": ellipse(height, width, 230, 260, 50, 45),
    }
    index = np.full((height, width), np.nan, dtype=np.float32)  # nothing painted: only outlines and labels
    plain = render_overlay(rgb, index, face, {}, vmin=0.0, vmax=1.0, unit="u")
    out = render_overlay(rgb, index, face, regions, vmin=0.0, vmax=1.0, unit="u")
    np.testing.assert_array_equal(plain[:, :width], rgb)
    changed = np.any(out[:, :width] != rgb, axis=-1)
    light = out[:, :width].min(axis=-1) >= 200
    for name, mask in regions.items():
        boundary = inner_boundary(mask)
        assert boundary.sum() > 100
        assert (light[boundary]).mean() >= 0.95, name
        # thin line: a band a few pixels inside the boundary is mostly untouched (only the label lies there)
        band = inner_boundary(erode(mask, 4))
        assert changed[band].mean() < 0.15, name
    # no outline where there is no region boundary
    nowhere = erode(~np.logical_or.reduce(list(regions.values())), 3)
    nowhere[:40, :] = False  # ignore where the forehead label might sit
    assert changed[nowhere].mean() < 0.01


def test_region_labels_are_drawn_at_the_centroid() -> None:
    height, width = 300, 300
    rgb = np.full((height, width, 3), 128, dtype=np.uint8)
    region = ellipse(height, width, 150, 150, 100, 100)
    out = render_overlay(
        rgb, np.full((height, width), np.nan, np.float32), region, {"chin": region}, vmin=0, vmax=1, unit="u"
    )[:, :width]
    centre = out[140:160, 120:180]
    assert (centre.min(axis=-1) >= 220).any(), "light text"
    assert (centre.max(axis=-1) <= 40).any(), "dark outline behind it"


def test_region_mask_shape_is_checked() -> None:
    rgb = photo(60, 60)
    with pytest.raises(ValueError, match="region 'nose'"):
        render_overlay(
            rgb,
            np.zeros((60, 60), np.float32),
            np.ones((60, 60), bool),
            {"nose": np.ones((30, 30), bool)},
            vmin=0,
            vmax=1,
            unit="u",
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vmin": 1.0, "vmax": 1.0}, "vmin < vmax"),
        ({"vmin": 0.0, "vmax": float("nan")}, "vmin < vmax"),
        ({"vmin": 0.0, "vmax": 1.0, "diverging": True}, "centred on 0"),
        ({"vmin": 0.0, "vmax": 1.0, "alpha": 1.5}, "alpha"),
    ],
)
def test_bad_scale_is_rejected(kwargs: dict[str, float], message: str) -> None:
    rgb = photo(60, 60)
    with pytest.raises(ValueError, match=message):
        render_overlay(rgb, np.zeros((60, 60), np.float32), np.ones((60, 60), bool), {}, unit="u", **kwargs)  # type: ignore[arg-type]


def test_bad_arrays_are_rejected() -> None:
    rgb = photo(60, 60)
    index = np.zeros((60, 60), np.float32)
    valid = np.ones((60, 60), bool)
    with pytest.raises(ValueError, match="rgb"):
        render_overlay(rgb[..., 0], index, valid, {}, vmin=0, vmax=1, unit="u")
    with pytest.raises(ValueError, match="index_map"):
        render_overlay(rgb, index[:, :50], valid, {}, vmin=0, vmax=1, unit="u")
    with pytest.raises(ValueError, match="valid"):
        render_overlay(rgb, index, valid.astype(np.uint8), {}, vmin=0, vmax=1, unit="u")  # type: ignore[arg-type]


# --- legend -----------------------------------------------------------------------------------------------


def bar_column(legend: U8) -> int:
    """Column through the middle of the colour bar: the one with the most distinct colours."""
    counts = [len(np.unique(legend[:, x], axis=0)) for x in range(legend.shape[1])]
    runs = np.flatnonzero(np.asarray(counts) == max(counts))
    return int(runs[len(runs) // 2])


@pytest.mark.parametrize("diverging", [False, True])
@pytest.mark.parametrize("size", [(300, 260), (900, 700)])
def test_legend_bar_holds_the_lut_in_order(diverging: bool, size: tuple[int, int]) -> None:
    height, width = size
    rgb = photo(height, width)
    out = render_overlay(
        rgb,
        np.zeros((height, width), np.float32),
        np.zeros((height, width), bool),
        {},
        vmin=-2.0,
        vmax=2.0,
        unit="OD_hb",
        diverging=diverging,
    )
    legend = out[:, width:]
    lut = colormap_lut("diverging" if diverging else "sequential").astype(int)
    column = legend[:, bar_column(legend)].astype(int)
    # each pixel's exact LUT entry (or -1 if it is not a LUT colour), top to bottom
    matches = (column[:, None, :] == lut[None, :, :]).all(axis=-1)
    entries = np.where(matches.any(axis=1), matches.argmax(axis=1), -1)
    bar = entries[entries >= 0]
    assert len(bar) >= 0.6 * height
    assert bar[0] == 255
    assert bar[-1] == 0
    assert np.all(np.diff(bar) <= 0)  # the gradient in order
    assert len(np.unique(bar)) >= min(200, 0.5 * len(bar))  # a smooth gradient, not a few bands


def test_legend_has_tick_labels_along_the_bar() -> None:
    height, width = 600, 500
    out = render_overlay(
        photo(height, width),
        np.zeros((height, width), np.float32),
        np.zeros((height, width), bool),
        {},
        vmin=0.0,
        vmax=0.4,
        unit="OD_hb",
    )
    legend = out[:, width:]
    x_bar = bar_column(legend)
    text_rows = np.flatnonzero((legend[:, x_bar + 1 :].min(axis=-1) >= 200).any(axis=1))
    groups = np.split(text_rows, np.flatnonzero(np.diff(text_rows) > 2) + 1)
    assert len(groups) >= 4  # >= 3 tick labels plus the unit underneath
    assert groups[-1].min() > 0.85 * height  # the unit sits at the bottom


def test_legend_scales_with_image_size() -> None:
    widths = []
    for size in (300, 2000):
        rgb = np.zeros((size, size, 3), np.uint8)
        out = render_overlay(
            rgb,
            np.zeros((size, size), np.float32),
            np.zeros((size, size), bool),
            {},
            vmin=0,
            vmax=1,
            unit="u",
        )
        widths.append(out.shape[1] - size)
    assert widths[1] >= 4 * widths[0]


def test_title_band_is_dark_at_top_left_only() -> None:
    rgb = np.full((400, 400, 3), 200, dtype=np.uint8)
    index = np.full((400, 400), np.nan, np.float32)
    valid = np.zeros((400, 400), bool)
    out = render_overlay(rgb, index, valid, {}, vmin=0, vmax=1, unit="u", title="day 3")[:, :400]
    assert out[2, 2].max() < 100  # dark band in the corner
    changed = np.any(out != rgb, axis=-1)
    rows, cols = np.nonzero(changed)
    assert rows.max() < 60
    assert cols.max() < 200
    assert (out[:60, :200].min(axis=-1) >= 220).any()  # light title text


# --- side by side -----------------------------------------------------------------------------------------


def ramp(height: int, width: int) -> U8:
    """Horizontal ramp in red, vertical ramp in green, constant blue."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    image = np.stack([40 + 160 * xx / (width - 1), 30 + 180 * yy / (height - 1), np.full_like(xx, 90)], -1)
    return np.rint(image).astype(np.uint8)


def test_side_by_side_sizes_and_contents() -> None:
    left = photo(200, 150, seed=7)
    right = ramp(100, 60)  # half the height: scaled 2x to 200 x 120
    gap = 10
    out = side_by_side(left, right, labels=("baseline 2026-11-01", "follow-up"), gap=gap)
    assert out.dtype == np.uint8
    band = out.shape[0] - 200
    assert band > 0
    assert out.shape == (200 + band, 150 + gap + 120, 3)
    np.testing.assert_array_equal(out[band:, :150], left)
    scaled = out[band:, 150 + gap :].astype(float)
    expected = ramp(200, 120).astype(float)
    # bilinear upscaling of a linear ramp reproduces the ramp away from the edges
    np.testing.assert_allclose(scaled[2:-2, 2:-2], expected[2:-2, 2:-2], atol=3)
    gap_columns = out[band:, 150 : 150 + gap]
    assert len(np.unique(gap_columns.reshape(-1, 3), axis=0)) == 1  # plain dark background
    assert gap_columns.max() < 80
    for x0, x1 in ((0, 150), (150 + gap, out.shape[1])):
        assert (out[:band, x0:x1].min(axis=-1) >= 200).any()  # a light label over each picture


def test_side_by_side_scales_the_shorter_left_one() -> None:
    left = ramp(50, 40)
    right = photo(150, 90, seed=8)
    out = side_by_side(left, right, labels=("a", "b"), gap=0)
    band = out.shape[0] - 150
    assert out.shape[1] == 120 + 90
    np.testing.assert_array_equal(out[band:, 120:], right)


def test_side_by_side_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="gap"):
        side_by_side(photo(10, 10), photo(10, 10), labels=("a", "b"), gap=-1)
    with pytest.raises(ValueError, match="right"):
        side_by_side(photo(10, 10), np.zeros((10, 10), np.uint8), labels=("a", "b"))


# --- PNG ----------------------------------------------------------------------------------------------------


def test_write_png_round_trip_and_no_temp_files(tmp_path: Path) -> None:
    image = photo(37, 53, seed=9)
    target = tmp_path / "nested" / "dir" / "map.png"
    write_png(target, image)
    with Image.open(target) as png:
        assert png.format == "PNG"
        assert png.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(png), image)
    assert os.listdir(target.parent) == ["map.png"]
    # replacing an existing file
    write_png(str(target), image[::-1])
    with Image.open(target) as png:
        np.testing.assert_array_equal(np.asarray(png), image[::-1])
    assert os.listdir(target.parent) == ["map.png"]


def test_write_png_to_a_directory_fails_cleanly(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    target.mkdir()
    with pytest.raises(ImageWriteError, match="directory"):
        write_png(target, photo(10, 10))
    assert os.listdir(tmp_path) == ["out.png"]
    assert target.is_dir()
    assert os.listdir(target) == []


def test_write_png_under_a_file_fails_cleanly(tmp_path: Path) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("x")
    with pytest.raises(OSError, match="cannot write PNG"):
        write_png(blocker / "map.png", photo(10, 10))
    assert os.listdir(tmp_path) == ["not_a_dir"]


def test_write_png_failure_leaves_old_file_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "map.png"
    old = photo(12, 12, seed=1)
    write_png(target, old)
    before = target.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(heatmap.os, "replace", broken_replace)
    with pytest.raises(ImageWriteError, match="No space left"):
        write_png(target, photo(12, 12, seed=2))
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["map.png"]


def test_write_png_rejects_non_rgb(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint8"):
        write_png(tmp_path / "x.png", np.zeros((4, 4, 3), np.float32))  # type: ignore[arg-type]
    assert os.listdir(tmp_path) == []
