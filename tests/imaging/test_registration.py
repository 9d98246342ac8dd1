"""Numeric tests of the piecewise-affine landmark warp on synthetic maps and point clouds."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from scipy.spatial import ConvexHull

from needlecare.imaging.registration import piecewise_affine_maps, warp_map

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

#: Non-square so that a swapped (H, W) or (x, y) shows.
SHAPE = (120, 170)
#: Agreement of a warped smooth map with the exact transform (interior pixels).
RAMP_ATOL = 1e-3
#: cv2.remap quantises sub-pixel positions to 1/32 px, so a ramp's error is up to |gradient| / 64; the test
#: ramp's gradient keeps that below RAMP_ATOL.
RAMP_GRADIENT = np.array([0.02, -0.015])


def point_cloud(seed: int) -> F64:
    """Random landmarks inside a box (corners included) well inside the SHAPE frame, (N, 2) x, y px."""
    rng = np.random.default_rng(seed)
    x0, x1, y0, y1 = 25.0, 145.0, 20.0, 100.0
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    inner = rng.uniform([x0 + 2, y0 + 2], [x1 - 2, y1 - 2], size=(40, 2))
    result: F64 = np.concatenate([corners, inner])
    return result


def ramp(x: npt.ArrayLike, y: npt.ArrayLike) -> F64:
    result: F64 = 3.0 + RAMP_GRADIENT[0] * np.asarray(x) + RAMP_GRADIENT[1] * np.asarray(y)
    return result


def ramp_image(shape: tuple[int, int]) -> F32:
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    return ramp(xs, ys).astype(np.float32)


def similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> tuple[F64, F64]:
    """Matrix A (2, 2) and shift t (2,) of p -> A p + t, x, y px."""
    a = np.deg2rad(angle_deg)
    matrix: F64 = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return matrix, np.asarray(shift, dtype=np.float64)


def hull_depth(points: F64, shape: tuple[int, int]) -> F64:
    """(H, W) signed distance of each pixel inside the convex hull of *points* (> 0 inside, px)."""
    hull = ConvexHull(points)
    ys, xs = np.mgrid[0 : shape[0], 0 : shape[1]]
    pixels = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float64)
    # equations: unit outward normal n and offset c with n . p + c <= 0 inside.
    distance = -(pixels @ hull.equations[:, :2].T + hull.equations[:, 2])
    result: F64 = distance.min(axis=1).reshape(shape)
    return result


def transformed_case(seed: int) -> tuple[F64, F64, F64, F64]:
    """Source landmarks, target landmarks = A source + t, and the inverse transform (A^-1, t)."""
    source = point_cloud(seed)
    matrix, shift = similarity(angle_deg=12.0, scale=0.85, shift=(10.0, -4.0))
    # rotate about the box centre so the target stays inside the frame
    centre = np.array([85.0, 60.0])
    shift = shift + centre - matrix @ centre
    target = source @ matrix.T + shift
    assert target.min() > 1
    assert np.all(target.max(axis=0) < np.array(SHAPE[::-1]) - 1)
    return source, target, np.linalg.inv(matrix), shift


# --- maps -------------------------------------------------------------------------------------------------


def test_piecewise_affine_maps_types_and_shapes() -> None:
    points = point_cloud(0)
    map_x, map_y, inside = piecewise_affine_maps(points.astype(np.float32), points.astype(np.float32), SHAPE)
    assert map_x.shape == SHAPE
    assert map_y.shape == SHAPE
    assert inside.shape == SHAPE
    assert map_x.dtype == np.float32
    assert map_y.dtype == np.float32
    assert inside.dtype == np.bool_
    assert np.all(map_x[~inside] == -1)
    assert np.all(map_y[~inside] == -1)
    assert 0 < inside.sum() < inside.size


def test_inside_mask_is_the_landmark_hull() -> None:
    points = point_cloud(1)
    _, _, inside = piecewise_affine_maps(points, points, SHAPE)
    depth = hull_depth(points, SHAPE)
    assert np.all(inside[depth > 1e-6])
    assert not np.any(inside[depth < -1e-6])


def test_identity_maps_are_pixel_coordinates() -> None:
    points = point_cloud(2)
    map_x, map_y, inside = piecewise_affine_maps(points, points, SHAPE)
    ys, xs = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    np.testing.assert_allclose(map_x[inside], xs[inside], atol=1e-4)
    np.testing.assert_allclose(map_y[inside], ys[inside], atol=1e-4)


@pytest.mark.parametrize("seed", [3, 4])
def test_affine_landmarks_give_the_inverse_transform(seed: int) -> None:
    source, target, inverse, shift = transformed_case(seed)
    map_x, map_y, inside = piecewise_affine_maps(target, source, SHAPE)
    ys, xs = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    pixels = np.column_stack([xs[inside], ys[inside]]).astype(np.float64)
    expected = (pixels - shift) @ inverse.T
    np.testing.assert_allclose(map_x[inside], expected[:, 0], atol=1e-3)
    np.testing.assert_allclose(map_y[inside], expected[:, 1], atol=1e-3)


# --- warp_map ---------------------------------------------------------------------------------------------


def test_identical_landmarks_leave_map_unchanged_inside_and_nan_outside() -> None:
    points = point_cloud(5)
    values = np.random.default_rng(5).normal(size=SHAPE).astype(np.float32)
    warped = warp_map(values, points, points, SHAPE)
    assert warped.dtype == np.float32
    assert warped.shape == SHAPE
    _, _, inside = piecewise_affine_maps(points, points, SHAPE)
    np.testing.assert_allclose(warped[inside], values[inside], rtol=0, atol=1e-5)
    assert np.all(np.isnan(warped[~inside]))


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_affine_warp_of_a_ramp_is_the_ramp_at_inverse_coordinates(seed: int) -> None:
    source, target, inverse, shift = transformed_case(seed)
    warped = warp_map(ramp_image(SHAPE), source, target, SHAPE)
    ys, xs = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    interior = hull_depth(target, SHAPE) > 1.0
    assert interior.sum() > 0.3 * interior.size
    pixels = np.column_stack([xs[interior], ys[interior]]).astype(np.float64)
    back = (pixels - shift) @ inverse.T
    np.testing.assert_allclose(warped[interior], ramp(back[:, 0], back[:, 1]), rtol=0, atol=RAMP_ATOL)
    assert np.all(np.isnan(warped[hull_depth(target, SHAPE) < -1e-6]))


def test_nan_in_source_propagates_as_nan() -> None:
    points = point_cloud(9)
    values = ramp_image(SHAPE)
    unknown = np.zeros(SHAPE, dtype=bool)
    unknown[50:70, 60:90] = True
    values[unknown] = np.nan
    warped = warp_map(values, points, points, SHAPE)
    _, _, inside = piecewise_affine_maps(points, points, SHAPE)
    assert np.all(np.isnan(warped[unknown]))
    known = inside & ~unknown
    np.testing.assert_allclose(warped[known], values[known], rtol=0, atol=1e-5)


def test_nan_in_source_propagates_through_an_affine_warp() -> None:
    source, target, inverse, shift = transformed_case(10)
    values = ramp_image(SHAPE)
    values[45:75, 55:95] = np.nan
    warped = warp_map(values, source, target, SHAPE)
    ys, xs = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    pixels = np.column_stack([xs.ravel(), ys.ravel()]).astype(np.float64)
    back = ((pixels - shift) @ inverse.T).reshape(*SHAPE, 2)
    bx, by = back[..., 0], back[..., 1]
    interior = hull_depth(target, SHAPE) > 1.0
    # Target pixels whose source position lies in the unknown block are NaN, never 0 ...
    in_block = interior & (bx > 55) & (bx < 94) & (by > 45) & (by < 74)
    assert in_block.sum() > 500
    assert np.all(np.isnan(warped[in_block]))
    # ... and those whose bilinear footprint is clear of it keep the ramp's value.
    clear = interior & ((bx < 53) | (bx > 96) | (by < 43) | (by > 76))
    assert np.all(np.isfinite(warped[clear]))
    np.testing.assert_allclose(warped[clear], ramp(bx[clear], by[clear]), rtol=0, atol=RAMP_ATOL)


def test_source_entirely_nan_gives_all_nan() -> None:
    points = point_cloud(11)
    warped = warp_map(np.full(SHAPE, np.nan, dtype=np.float32), points, points, SHAPE)
    assert np.all(np.isnan(warped))


def test_refine_by_flow_undoes_a_small_misregistration() -> None:
    from needlecare.imaging.registration import refine_by_flow

    rng = np.random.default_rng(7)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (160, 200)).astype(np.float32), (0, 0), 2.0)
    ys, xs = np.mgrid[0:160, 0:200].astype(np.float32)
    shift = (0.7, -0.5)  # what landmark jitter leaves behind, px
    shifted = cv2.remap(texture, xs + shift[0], ys + shift[1], cv2.INTER_CUBIC)
    values = shifted / 255.0  # a map registered like the shifted image
    inner = (slice(20, 140), slice(20, 180))
    before = np.abs(values - texture / 255.0)[inner].mean()
    refined = refine_by_flow(texture, shifted, values.astype(np.float32))
    after = np.nanmean(np.abs(refined - texture / 255.0)[inner])
    assert after < 0.3 * before, (before, after)


def test_refine_by_flow_keeps_nan_as_unknown() -> None:
    from needlecare.imaging.registration import refine_by_flow

    rng = np.random.default_rng(8)
    texture = cv2.GaussianBlur(rng.uniform(0, 255, (120, 120)).astype(np.float32), (0, 0), 2.0)
    values = np.full((120, 120), 0.5, dtype=np.float32)
    values[:, :30] = np.nan
    refined = refine_by_flow(texture, texture.copy(), values)
    assert np.isnan(refined[:, :25]).all()
    assert np.allclose(refined[:, 40:], 0.5, atol=1e-5)


# --- Registration: landmark warp + optical flow, computed once ----------------------------------------------


def _textured(shape: tuple[int, int], seed: int) -> F32:
    """A smooth random grey texture (0-255) that optical flow can lock on to."""
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, shape).astype(np.float32)
    result: F32 = cv2.GaussianBlur(noise, (0, 0), 3.0) * 4 - 380
    return np.clip(result, 0, 255).astype(np.float32)


def test_registration_applies_the_same_warp_and_flow_as_the_two_step_functions() -> None:
    from needlecare.imaging.registration import refine_by_flow, register

    source_xy = point_cloud(3)
    target_xy = source_xy + np.random.default_rng(4).normal(0, 1.0, source_xy.shape)
    source_grey = _textured(SHAPE, 5)
    target_grey = _textured(SHAPE, 5)  # the same texture: flow refines the landmark warp's jitter away
    registration = register(target_grey, source_grey, target_xy, source_xy)
    values = ramp(*np.meshgrid(np.arange(SHAPE[1]), np.arange(SHAPE[0]))).astype(np.float32)
    two_step = refine_by_flow(
        target_grey,
        warp_map(source_grey, source_xy, target_xy, SHAPE),
        warp_map(values, source_xy, target_xy, SHAPE),
    )
    once = registration.warp(values)
    np.testing.assert_array_equal(np.isnan(once), np.isnan(two_step))
    np.testing.assert_allclose(once[np.isfinite(once)], two_step[np.isfinite(two_step)], atol=1e-5)


def test_registration_warps_several_channels_like_each_alone() -> None:
    from needlecare.imaging.registration import register

    source_xy = point_cloud(6)
    target_xy = source_xy * 1.03 - 2.0
    registration = register(_textured(SHAPE, 7), _textured(SHAPE, 8), target_xy, source_xy)
    rng = np.random.default_rng(9)
    stack = rng.uniform(0.1, 0.9, (*SHAPE, 3)).astype(np.float32)
    stack[50:55, 60:70, 1] = np.nan  # unknown in one channel: unknown in all after the warp
    together = registration.warp(stack)
    assert together.shape == (*SHAPE, 3)
    alone = [registration.warp(stack[..., c]) for c in range(3)]
    any_unknown = np.logical_or.reduce([np.isnan(a) for a in alone])
    np.testing.assert_array_equal(np.isnan(together).all(axis=2), any_unknown)
    for c in range(3):
        np.testing.assert_allclose(together[..., c][~any_unknown], alone[c][~any_unknown], atol=1e-6)
