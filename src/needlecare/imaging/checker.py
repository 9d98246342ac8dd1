"""Finding a ColorChecker Classic in a photo and reading its 24 patches.

Used by :func:`needlecare.imaging.reference.colour_checker_reference`.

Three steps, cheapest first:

1. :func:`might_contain_checker`, a screen of a few ms on a reduced grey image: a grid of at least 12
   similar, square, bright-on-dark blobs (the patches on the chart's black frame). Photos without one stop
   here.
2. colour-checker-detection's segmentation (OpenCV only) on the region around that grid, scaled to
   :data:`WORKING_SIDE`: patch contours and the rectangle of the patch cluster. Its own sampler is not used:
   it samples a fixed grid over the cluster's bounding rectangle, which misses the patches of a chart seen
   in perspective, and it warps onto a canvas of ``working_height`` while placing the grid on
   ``working_width / aspect_ratio`` (rows sampled off the chart read as zeros when the two differ).
3. :func:`read_patches`: the detected patch centres are assigned to the 6 x 4 grid, a homography from the
   grid to the image is fitted to them, and each patch is averaged over the central part of its predicted
   quadrilateral, in linear light. The chart's orientation is left open: the caller tries the four
   readings (as seen, turned by 180 degrees, mirrored either way) against the reference values.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from needlecare.hints import Float64Array, FloatArray, ImageU8, Mask

#: Patch grid of the ColorChecker Classic: columns, rows.
GRID = (6, 4)
#: Fewest patch-like blobs (screen) or matched patches (grid fit) for a chart.
MIN_PATCHES = 12
#: Long side (px) of the reduced grey image the screen looks at.
SCREEN_SIDE = 640
#: Block size (px, screen scale) of the screen's adaptive threshold.
SCREEN_BLOCK = 11
#: Smallest patch side (px, screen scale) the screen accepts.
MIN_PATCH_SIDE = 6
#: Largest patch side, as a fraction of the screen image's long side.
MAX_PATCH_FRACTION = 0.12
#: Two blobs are grid neighbours when their centres are this many (mean) blob sides apart: one pitch,
#: i.e. a patch plus a gap, foreshortened or not.
NEIGHBOUR_DISTANCE = (1.0, 1.8)
#: Margin around the screened grid, as a fraction of its long side, for patches the screen missed.
CROP_MARGIN = 0.35
#: Long side (px) of the crop handed to the segmentation; its settings (21-px threshold block, 3x3
#: morphology) need patches of some 50 px to keep the dark gaps between them open.
WORKING_SIDE = 560
#: Bilateral-filter passes and spatial sigma (px) of the segmentation's denoising: the library's 5 passes
#: of sigma 5 take ~5x as long and find no more charts (tested on composited photos).
BILATERAL_ITERATIONS, BILATERAL_SIGMA = 2, 3.0
#: Aspect ratio of the 6 x 4 patch cluster and the factor by which its apparent ratio may differ (the
#: library's default 1.1 is already exceeded by a chart tilted ~25 degrees, foreshortened by 10 %).
ASPECT_RATIO, ASPECT_TOLERANCE = 6 / 4, 1.35
#: A detected patch centre further than this (cells) from its grid node is not used.
MAX_NODE_DISTANCE = 0.35
#: Half-side of the square averaged in each patch, in local pitches (the patch spans ~0.87 pitch): its
#: corners stay within 0.3 pitch of the patch centre along the chart's axes at any rotation.
SAMPLED_HALF = 0.21


def screen_image(rgb: ImageU8) -> tuple[ImageU8, int]:
    """Grey image reduced by the integer factor that brings its long side nearest to :data:`SCREEN_SIDE`
    (2/3 to 4/3 of it, or less for a smaller image), and the factor.

    Parameters
    ----------
    rgb : (H, W, 3) uint8

    Returns
    -------
    gray : (H // f, W // f) uint8
    factor : int
        ``f``; the image is cropped to a multiple of it first, which keeps OpenCV on its fast
        area-averaging path (~4 ms for a 12-MP photo).
    """
    height, width = rgb.shape[:2]
    factor = max(1, round(max(height, width) / SCREEN_SIDE))
    # Grey first: one channel to average instead of three (the two orders differ by rounding only).
    gray: ImageU8 = cv2.cvtColor(
        rgb[: height - height % factor, : width - width % factor], cv2.COLOR_RGB2GRAY
    )
    if factor > 1:
        gray = cv2.resize(gray, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
    return gray, factor


def _largest_group(neighbours: Mask) -> list[int]:
    """Indices of the largest connected group of a symmetric (N, N) adjacency matrix."""
    unvisited = np.ones(len(neighbours), dtype=bool)
    best: list[int] = []
    for start in range(len(neighbours)):
        if not unvisited[start] or not neighbours[start].any():
            continue
        group, frontier = [start], [start]
        unvisited[start] = False
        while frontier:
            linked = np.flatnonzero(neighbours[frontier].any(axis=0) & unvisited)
            unvisited[linked] = False
            group.extend(linked.tolist())
            frontier = linked.tolist()
        if len(group) > len(best):
            best = group
    return best


def might_contain_checker(gray: ImageU8) -> tuple[int, int, int, int] | None:
    """Cheap screen: a grid of at least :data:`MIN_PATCHES` similar, square, bright-on-dark blobs.

    Parameters
    ----------
    gray : (H, W) uint8
        Grey image, long side at most a few hundred px (:func:`screen_image`).

    Returns
    -------
    (x0, y0, x1, y1) or None
        Bounding box (px, end exclusive) of the largest grid of patch-like blobs, or None.
    """
    binary = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, SCREEN_BLOCK, 2)
    _count, _labels, stats, centroids = cv2.connectedComponentsWithStats(binary, connectivity=4)
    x, y, w, h, area = stats[1:].T
    patch_like = (
        (area >= MIN_PATCH_SIDE**2)
        & (np.maximum(w, h) <= MAX_PATCH_FRACTION * max(gray.shape))
        & (w < 1.4 * h)
        & (h < 1.4 * w)
        & (area > 0.45 * w * h)  # a square turned by 45 degrees fills half its bounding box
    )
    if patch_like.sum() < MIN_PATCHES:
        return None
    x, y, w, h = x[patch_like], y[patch_like], w[patch_like], h[patch_like]
    centre = centroids[1:][patch_like]
    side = np.sqrt(area[patch_like].astype(np.float64))
    distance = np.linalg.norm(centre[:, None, :] - centre[None, :, :], axis=2)
    mean_side = (side[:, None] + side[None, :]) / 2
    similar = np.abs(np.log(side[:, None] / side[None, :])) < np.log(1.3)
    low, high = NEIGHBOUR_DISTANCE
    group = _largest_group(similar & (distance > low * mean_side) & (distance < high * mean_side))
    if len(group) < MIN_PATCHES:
        return None
    chosen = np.asarray(group)
    return (
        int(x[chosen].min()),
        int(y[chosen].min()),
        int((x[chosen] + w[chosen]).max()),
        int((y[chosen] + h[chosen]).max()),
    )


def chart_crop(rgb: ImageU8, box: tuple[int, int, int, int], factor: int) -> ImageU8:
    """The photo around a screened grid, landscape, long side :data:`WORKING_SIDE`.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
        The photo.
    box : (x0, y0, x1, y1)
        From :func:`might_contain_checker`, in screen pixels.
    factor : int
        Screen reduction factor (:func:`screen_image`).

    Returns
    -------
    (h, w, 3) uint8
        The box widened by :data:`CROP_MARGIN` on every side, turned by 90 degrees if it was portrait (as
        the library would), resized so that ``w == WORKING_SIDE``.
    """
    height, width = rgb.shape[:2]
    x0, y0, x1, y1 = (v * factor for v in box)
    margin = CROP_MARGIN * max(x1 - x0, y1 - y0)
    crop = rgb[
        max(0, int(y0 - margin)) : min(height, int(y1 + margin)),
        max(0, int(x0 - margin)) : min(width, int(x1 + margin)),
    ]
    if crop.shape[0] > crop.shape[1]:
        crop = cv2.rotate(crop, cv2.ROTATE_90_CLOCKWISE)
    scale = WORKING_SIDE / crop.shape[1]
    size = (WORKING_SIDE, max(1, round(crop.shape[0] * scale)))
    resized: ImageU8 = cv2.resize(crop, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    return resized


def _segment(crop: ImageU8) -> tuple[list[FloatArray], FloatArray]:
    """colour-checker-detection's segmentation: cluster rectangles ((4, 2) each) and patch centres (N, 2)."""
    from colour_checker_detection import segmenter_default

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = segmenter_default(
            crop.astype(np.float32) / 255,  # already sRGB-encoded: segment what the eye sees
            apply_cctf_encoding=False,
            additional_data=True,
            working_width=crop.shape[1],
            working_height=int(crop.shape[1] / ASPECT_RATIO),
            aspect_ratio=ASPECT_RATIO,
            aspect_ratio_minimum=ASPECT_RATIO / ASPECT_TOLERANCE,
            aspect_ratio_maximum=ASPECT_RATIO * ASPECT_TOLERANCE,
            bilateral_filter_iterations=BILATERAL_ITERATIONS,
            bilateral_filter_kwargs={"sigmaColor": 5, "sigmaSpace": BILATERAL_SIGMA},
        )
    rectangles = [np.asarray(r, dtype=np.float32) for r in data.rectangles]
    swatches = np.asarray(data.swatches, dtype=np.float32).reshape(-1, 4, 2)
    return rectangles, swatches.mean(axis=1)


def _lattice_nodes(points: Float64Array) -> Float64Array:
    """Grid node (column, row) of each patch centre, NaN for centres off the grid; (N, 2).

    ``points`` are in cell units along the grid's axes, so that neighbouring patches are about one unit
    apart. Starting from the most central point, a neighbour 0.6-1.5 pitches away along one axis (within
    ~25 degrees) is one node further along it: local steps follow the changing pitch and the shear of a
    chart seen in perspective, and a missed patch is bridged by its other neighbours. Then the 6 x 4 block of
    nodes holding most points is kept; all NaN unless the lattice spans it, or which patch is which is
    unknown.
    """
    columns, rows = GRID
    nodes = np.full(points.shape, np.nan)
    if len(points) < 2:
        return nodes
    delta = points[None, :, :] - points[:, None, :]
    distance = np.linalg.norm(delta, axis=2)
    np.fill_diagonal(distance, np.inf)
    pitch = float(np.median(distance.min(axis=1)))
    along_u = np.abs(delta[..., 0]) > 2 * np.abs(delta[..., 1])
    along_v = np.abs(delta[..., 1]) > 2 * np.abs(delta[..., 0])
    linked = (distance > 0.6 * pitch) & (distance < 1.5 * pitch) & (along_u | along_v)
    start = int(np.argmin(np.linalg.norm(points - np.median(points, axis=0), axis=1)))
    nodes[start] = 0
    frontier = [start]
    while frontier:
        current = frontier.pop()
        for other in np.flatnonzero(linked[current] & np.isnan(nodes[:, 0])):
            axis = np.array([along_u[current, other], along_v[current, other]])
            nodes[other] = nodes[current] + np.sign(delta[current, other]) * axis
            frontier.append(int(other))
    placed = np.isfinite(nodes[:, 0])
    for axis, count in ((0, columns), (1, rows)):
        index = nodes[placed, axis] - nodes[placed, axis].min()
        lines = np.bincount(index.astype(int), minlength=count)
        first = int(np.argmax([lines[s : s + count].sum() for s in range(len(lines) - count + 1)]))
        if lines[first] == 0 or lines[first + count - 1] == 0:
            return np.full(points.shape, np.nan)
        index -= first
        index[(index < 0) | (index >= count)] = np.nan
        nodes[placed, axis] = index
    nodes[~np.isfinite(nodes).all(axis=1)] = np.nan
    return nodes


def _grid_homography(rectangle: FloatArray, centres: FloatArray) -> Float64Array | None:
    """Homography from grid coordinates (cell units; cell (c, r) spans c..c+1, r..r+1) to crop pixels.

    The cluster rectangle (whose size is only approximate: scaled-up contours, merged patches) gives the
    grid's axes; the detected patch centres are put on a lattice along them, which must span 6 x 4 cells;
    the homography fitted to them (RANSAC, then least squares on every centre it places within
    :data:`MAX_NODE_DISTANCE` of a node) follows perspective. None with fewer than :data:`MIN_PATCHES`
    placed centres.
    """
    corners = rectangle.astype(np.float32)
    if np.linalg.norm(corners[0] - corners[3]) < np.linalg.norm(corners[1] - corners[0]):
        corners = np.roll(corners, -1, axis=0)  # corners[3] -> corners[0] along a long (6-patch) side
    columns, rows = GRID
    cell_corners = np.array([[columns, 0], [columns, rows], [0, rows], [0, 0]], dtype=np.float32)
    to_cells = cv2.getPerspectiveTransform(corners, cell_corners)
    cells = cv2.perspectiveTransform(centres.reshape(-1, 1, 2), to_cells).reshape(-1, 2).astype(np.float64)
    on_chart = (np.abs(cells[:, 0] - columns / 2) < columns / 2 + 0.5) & (
        np.abs(cells[:, 1] - rows / 2) < rows / 2 + 0.5
    )
    cells, image = cells[on_chart], centres[on_chart]
    if len(cells) < MIN_PATCHES:
        return None
    node = _lattice_nodes(cells)
    placed = np.isfinite(node).all(axis=1)
    if placed.sum() < MIN_PATCHES:
        return None
    to_grid, _ = cv2.findHomography(image[placed], node[placed] + 0.5, cv2.RANSAC, MAX_NODE_DISTANCE / 2)
    if to_grid is None:
        return None
    # Every centre the fitted homography puts near a node (one per node), then a least-squares refit.
    grid = cv2.perspectiveTransform(image.reshape(-1, 1, 2).astype(np.float64), to_grid).reshape(-1, 2)
    node = np.floor(grid)
    offset = np.linalg.norm(grid - node - 0.5, axis=1)
    inside = (node[:, 0] >= 0) & (node[:, 0] < columns) & (node[:, 1] >= 0) & (node[:, 1] < rows)
    best: dict[tuple[int, int], int] = {}
    for index in np.flatnonzero(inside & (offset < MAX_NODE_DISTANCE)):
        key = (int(node[index, 0]), int(node[index, 1]))
        if key not in best or offset[index] < offset[best[key]]:
            best[key] = int(index)
    if len(best) < MIN_PATCHES:
        return None
    grid_points = np.array([[c + 0.5, r + 0.5] for c, r in best], dtype=np.float32)
    homography, _ = cv2.findHomography(grid_points, image[list(best.values())].astype(np.float32), 0)
    return None if homography is None else np.asarray(homography, dtype=np.float64)


def _sample(linear: FloatArray, homography: Float64Array) -> Float64Array | None:
    """Mean linear colour around the centre of each of the 6 x 4 cells, (4, 6, 3); None if off the crop.

    The averaged square is upright in the image, with a half-side of :data:`SAMPLED_HALF` local pitches:
    whatever the chart's rotation it stays inside the patch (~0.43 pitch from its centre to its edge).
    """
    columns, rows = GRID
    nodes = np.array([[c + 0.5, r + 0.5] for r in range(rows) for c in range(columns)], dtype=np.float64)
    centre, right, below = (
        cv2.perspectiveTransform((nodes + step).reshape(-1, 1, 2), homography).reshape(-1, 2)
        for step in ((0.0, 0.0), (1.0, 0.0), (0.0, 1.0))
    )
    pitch = np.minimum(np.linalg.norm(right - centre, axis=1), np.linalg.norm(below - centre, axis=1))
    half = SAMPLED_HALF * pitch
    low = np.ceil(centre - half[:, None]).astype(int)
    high = np.floor(centre + half[:, None]).astype(int)
    height, width = linear.shape[:2]
    if (low < 0).any() or (high[:, 0] >= width).any() or (high[:, 1] >= height).any() or (high <= low).any():
        return None
    means = [
        linear[y0 : y1 + 1, x0 : x1 + 1].reshape(-1, 3).mean(axis=0)
        for (x0, y0), (x1, y1) in zip(low, high, strict=True)
    ]
    return np.asarray(means, dtype=np.float64).reshape(rows, columns, 3)


def read_patches(crop: ImageU8, linear: FloatArray) -> list[Float64Array]:
    """The patch colours of every chart found in a crop, as (4, 6, 3) grids of linear RGB.

    Parameters
    ----------
    crop : (h, w, 3) uint8
        From :func:`chart_crop`.
    linear : (h, w, 3) float32
        The same crop in linear light, 0-1.

    Returns
    -------
    list of (4, 6, 3) float64
        Row ``r``, column ``c`` of the grid as found; which corner is the chart's first patch (brown, dark
        skin) is not known yet: it is one of the four corners, the grid possibly mirrored.
    """
    rectangles, centres = _segment(crop)
    grids = []
    for rectangle in rectangles:
        homography = _grid_homography(rectangle, centres)
        if homography is None:
            continue
        sampled = _sample(linear, homography)
        if sampled is not None:
            grids.append(sampled)
    return grids
