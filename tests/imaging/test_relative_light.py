"""The follow-up's light relative to its baseline on the registered eyes: synthetic eyes with known gains."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.imaging.relative_light import MAX_SPREAD, MIN_PIXELS, RelativeLight, relative_light

SHAPE = (60, 120)


def _eyes() -> tuple[np.ndarray, np.ndarray]:
    """A baseline 'eye region' in linear light (sclera- and iris-like textured patches) and its mask."""
    rng = np.random.default_rng(0)
    linear = np.empty((*SHAPE, 3), np.float32)
    linear[:] = [0.55, 0.5, 0.48]  # sclera
    linear[:, 40:80] = [0.12, 0.08, 0.05]  # iris
    linear *= rng.uniform(0.9, 1.1, SHAPE)[..., None].astype(np.float32)  # smooth-ish shading texture
    mask = np.zeros(SHAPE, bool)
    mask[5:55, 5:115] = True
    return linear, mask


def _encode(linear: np.ndarray) -> np.ndarray:
    return np.clip(np.round(linear ** (1 / 2.2) * 255), 0, 255).astype(np.uint8)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.8, 1.25), st.floats(0.8, 1.25), st.floats(0.5, 1.0))
def test_recovers_the_chroma_of_a_white_balance_gain(red: float, blue: float, exposure: float) -> None:
    baseline, eyes = _eyes()
    gains = np.array([red, 1.0, blue]) * exposure
    follow_up = (baseline * gains).astype(np.float32)
    light = relative_light(follow_up, _encode(follow_up), baseline, eyes)
    assert light is not None  # exposure <= 1 keeps the brightest sclera below clipping
    expected = np.log(gains) - np.log(gains).mean()
    np.testing.assert_allclose(light.chroma, expected, atol=2e-3)
    assert abs(light.chroma.sum()) < 1e-9  # exposure removed
    assert light.size == pytest.approx(float(np.abs(expected).max()), abs=2e-3)


def test_pixels_that_changed_surface_are_left_out() -> None:
    """A moved gaze swaps iris and sclera in part of the eye: those pixels do not bias the estimate."""
    baseline, eyes = _eyes()
    gains = np.array([1.1, 1.0, 0.9])
    follow_up = (baseline * gains).astype(np.float32)
    follow_up[:, 80:92] = np.array([0.12, 0.08, 0.05]) * gains  # iris moved right by 12 px
    light = relative_light(follow_up, _encode(follow_up), baseline, eyes)
    assert light is not None
    np.testing.assert_allclose(light.chroma, np.log(gains) - np.log(gains).mean(), atol=2e-3)


def test_refuses_too_few_pixels_and_disagreeing_ones() -> None:
    baseline, eyes = _eyes()
    tiny = np.zeros(SHAPE, bool)
    tiny[10:14, 10:14] = True  # 16 px < MIN_PIXELS
    assert MIN_PIXELS * 4 > 16
    assert relative_light(baseline, _encode(baseline), baseline, tiny) is None
    rng = np.random.default_rng(1)
    scrambled = (baseline * rng.uniform(0.8, 1.25, (*SHAPE, 3))).astype(np.float32)  # no common gain
    assert relative_light(scrambled, _encode(scrambled), baseline, eyes) is None
    unknown = np.full_like(baseline, np.nan)
    assert relative_light(baseline, _encode(baseline), unknown, eyes) is None


def test_same_light_gives_zero_with_a_small_error_bar() -> None:
    baseline, eyes = _eyes()
    light = relative_light(baseline, _encode(baseline), baseline, eyes)
    assert light is not None
    assert light.size < 1e-6
    assert light.spread <= MAX_SPREAD
    assert light.standard_error < 1e-3


def test_standard_error_shrinks_with_pixels() -> None:
    few = RelativeLight(chroma=np.zeros(3), pixels=100, spread=0.01)
    many = RelativeLight(chroma=np.zeros(3), pixels=400, spread=0.01)
    assert many.standard_error == pytest.approx(few.standard_error / 2)


def test_whites_that_turned_red_are_not_taken_for_a_change_of_light(monkeypatch: pytest.MonkeyPatch) -> None:
    """Irritated eyes: the sclera reddens a little (3 %), the iris does not. The spread alone would let it
    pass as a change of light; the sclera/iris check refuses it."""
    from needlecare.imaging import relative_light as module

    baseline, eyes = _eyes()
    gains = np.array([1.05, 1.0, 0.95])
    follow_up = (baseline * gains).astype(np.float32)
    redder = np.array([1.0, 0.97, 0.97], dtype=np.float32)
    follow_up[:, :40] *= redder  # the whites, left and right of the iris
    follow_up[:, 80:] *= redder
    assert relative_light(follow_up, _encode(follow_up), baseline, eyes) is None
    monkeypatch.setattr(module, "_sclera_agrees_with_iris", lambda *_: True)
    fooled = relative_light(follow_up, _encode(follow_up), baseline, eyes)
    assert fooled is not None  # without the check, red eyes would shift the estimate
    # the same light change with unchanged whites is measured
    plain = (baseline * gains).astype(np.float32)
    light = relative_light(plain, _encode(plain), baseline, eyes)
    assert light is not None
    np.testing.assert_allclose(light.chroma, np.log(gains) - np.log(gains).mean(), atol=2e-3)


def test_block_standard_error_counts_errors_that_neighbours_share() -> None:
    """Pixels of one block that err alike (smoothing, resampling, JPEG colour blocks) are one piece of
    evidence: the standard error measured between blocks is that of the block offsets over sqrt(blocks),
    far above what the pixels' own spread over sqrt(pixels) claims."""
    from needlecare.imaging.relative_light import block_standard_error

    rng = np.random.default_rng(5)
    ys, xs = np.mgrid[0:40, 0:40]
    ys, xs = ys.ravel(), xs.ravel()
    offsets = rng.normal(0, 0.01, (5, 5, 3))  # one error per 8 x 8 block
    chroma = offsets[ys // 8, xs // 8] + rng.normal(0, 1e-4, (len(ys), 3))
    error, blocks = block_standard_error(chroma, ys, xs, 8.0)
    assert blocks == 25
    pixel_error = 1.25 * 1.4826 * np.median(np.abs(chroma - np.median(chroma, axis=0)), axis=0).max() / 40
    assert error > 3 * pixel_error
    assert 0.002 < error < 0.006  # ~1.25 x 0.01 / 5
    few, count = block_standard_error(chroma[:16], ys[:16], xs[:16], 8.0)  # two blocks
    assert count < 4
    assert few == float("inf")  # too few blocks to measure
