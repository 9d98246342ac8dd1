"""``analyze_photo``: from a photo to a per-region redness report, optionally against a baseline photo.

Steps: decode once at reduced resolution (JPEG DCT scaling) -> detect faces on a smaller copy (largest
wins; tiles when none is found) -> face mesh (on the decode reduced further for a large face) -> crop and
scale the face to a fixed eye distance (the analysis frame, which makes the measurement independent of
photo resolution) -> skin mask and regions -> colour reference -> per-pixel haemoglobin index -> robust
region statistics -> quality checks -> baseline comparison.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace

import cv2
import numpy as np

from needlecare.analysis.baseline import compare_with_baseline, match_white_balance, register_baseline
from needlecare.analysis.report import AnalysisFrame, FaceGeometry, PhotoReport
from needlecare.analysis.scoring import index_map, summarise
from needlecare.hints import FloatArray, ImageU8, Mask
from needlecare.imaging import parallel
from needlecare.imaging.colour import channel_extremes, optical_density, to_linear
from needlecare.imaging.errors import NoFaceError, PhotoError
from needlecare.imaging.face import FaceBox, FaceLandmarks, detect_faces, face_mesh, head_pose
from needlecare.imaging.loading import LoadedPhoto, load_photo
from needlecare.imaging.quality import QualityWarning, check_quality, compression_warning
from needlecare.imaging.redness import (
    UNITS,
    chromophores,
)
from needlecare.imaging.reference import (
    ColourReference,
    colour_checker_reference,
    grey_world_reference,
    in_photo_reference,
)
from needlecare.imaging.regions import build_regions, eye_distance

Source = str | os.PathLike[str] | bytes | ImageU8

#: Eye distance of the analysis frame, px.
FRAME_EYE_DISTANCE = 128.0
#: Decode JPEGs at the smallest DCT scale whose shorter side is at least this (px): 1/2 for 12-MP photos.
#: Decoding a JPEG costs mostly its entropy decoding, which every DCT scale pays in full (12 MP here:
#: 1/8 scale 20 ms, 1/4 22 ms, 1/2 25 ms, full 33 ms), so one decode at 1/2 is cheaper than a reduced
#: decode to find the face followed by a second one at the scale the face needs.
DECODE_MIN_SIDE = 1440
#: Decode again at a larger DCT scale when the decoded eye distance is below this (px): only faces whose
#: eye distance is under 1/30 of the photo's shorter side, e.g. < 96 px in a 12-MP photo. Measured on
#: 12-MP photos of one face: decoded eye distances of 50-75 px moved the index by <= 0.006 OD_hb and the
#: regions by <= 0.011 from the full-resolution measurement, as much as 1/4 and 1/2 scales did at larger
#: eye distances (0.004-0.009); at 25-38 px the regions moved by up to 0.024.
REDECODE_BELOW_EYE_DISTANCE = 48.0
#: Faces are detected on the decoded photo reduced by an integer factor to a long side of at most this
#: (px): the detectors see 128-192 px inputs, so more pixels only cost their resizing.
DETECT_MAX_SIDE = 1280
#: A face whose decoded eye distance is estimated (:data:`EYES_PER_BOX_WIDTH` times the detector's box
#: width) at 2 or 4 times this or more is measured on the decoded photo reduced by that integer factor
#: (area averaging), so that large faces cost no more than the frame needs; the frame is then enlarged by
#: at most 128 / 112.
MIN_REDUCED_EYE_DISTANCE = 112.0
#: Eye distance per detector box width, the lowest ratio found on the test faces (0.33-0.54, mostly
#: 0.36-0.41), so that the estimate rather errs low.
EYES_PER_BOX_WIDTH = 0.33
#: When the detectors find no face that the mesh accepts on the whole photo, they look again in
#: overlapping tiles of this fraction of the photo's width and height (a 3 x 3 grid), where a small face
#: (a phone on a table, a rear camera at arm's length) is larger in their input.
TILE_FRACTION = 0.5
#: Gaussian smoothing of the linear analysis frame before logarithms, px (frame scale).
LINEAR_SMOOTHING_PX = 1.5
#: Margin around the landmark bounding box in the analysis frame (fraction of its size).
FRAME_MARGIN = 0.08
#: Percentiles of skin shading outside which pixels are not measured (highlights below, shadows above).
LIGHT_PERCENTILE, SHADED_PERCENTILE = 10.0, 92.0
CLIPPED_CODE = 250


def _detection_image(rgb: ImageU8) -> tuple[ImageU8, int]:
    """*rgb* reduced by an integer factor to a long side <= :data:`DETECT_MAX_SIDE`, and the factor."""
    factor = -(-max(rgb.shape[:2]) // DETECT_MAX_SIDE)
    if factor <= 1:
        return rgb, 1
    height, width = rgb.shape[0] // factor, rgb.shape[1] // factor
    whole = rgb[: height * factor, : width * factor]
    return cv2.resize(whole, (width, height), interpolation=cv2.INTER_AREA), factor


def _scaled(box: FaceBox, factor: float, dx: float = 0.0, dy: float = 0.0) -> FaceBox:
    return FaceBox((box.x + dx) * factor, (box.y + dy) * factor, box.w * factor, box.h * factor, box.score)


def _tile_boxes(small: ImageU8) -> list[FaceBox]:
    """Faces found in the 3 x 3 overlapping tiles of *small* (:data:`TILE_FRACTION`), in its pixels,
    largest first; boxes found in two tiles are kept once."""
    height, width = small.shape[:2]
    tile_h, tile_w = round(height * TILE_FRACTION), round(width * TILE_FRACTION)
    boxes: list[FaceBox] = []
    for top in np.linspace(0, height - tile_h, 3).round().astype(int):
        for left in np.linspace(0, width - tile_w, 3).round().astype(int):
            for box in detect_faces(small[top : top + tile_h, left : left + tile_w]):
                box = _scaled(box, 1.0, float(left), float(top))
                if all(box.iou(kept) < 0.3 for kept in boxes):
                    boxes.append(box)
    return sorted(boxes, key=lambda box: box.area, reverse=True)


def _reduction(box: FaceBox) -> int:
    """The integer factor (4, 2 or 1) by which a photo can be reduced for measuring the face in *box*."""
    estimate = EYES_PER_BOX_WIDTH * box.w
    return next((f for f in (4, 2) if estimate / f >= MIN_REDUCED_EYE_DISTANCE), 1)


def _reduced(loaded: LoadedPhoto, factor: int) -> LoadedPhoto:
    """*loaded* reduced by an integer *factor* (area averaging of whole blocks; its scale divided)."""
    if factor == 1:
        return loaded
    height, width = loaded.rgb.shape[0] // factor, loaded.rgb.shape[1] // factor
    whole = loaded.rgb[: height * factor, : width * factor]
    rgb = cv2.resize(whole, (width, height), interpolation=cv2.INTER_AREA)
    return replace(loaded, rgb=rgb, scale=loaded.scale / factor)


def _mesh_first(
    loaded: LoadedPhoto, boxes: list[FaceBox], reduce: bool
) -> tuple[FaceLandmarks, LoadedPhoto] | None:
    """The mesh of the first box it accepts, run on *loaded*, reduced for that face (:func:`_reduction`)
    if *reduce*."""
    for box in boxes:
        factor = _reduction(box) if reduce else 1
        photo = _reduced(loaded, factor)
        try:
            return face_mesh(photo.rgb, _scaled(box, 1.0 / factor)), photo
        except NoFaceError:
            continue
    return None


def _find_face(loaded: LoadedPhoto, reduce: bool = True) -> tuple[FaceLandmarks, int, LoadedPhoto]:
    """The face mesh of the largest face the mesh accepts, the number of faces detected, and the photo
    (possibly reduced, :func:`_reduction`) the landmarks refer to.

    Detection runs on :func:`_detection_image`; when no detected face can be meshed, again on its tiles
    (:func:`_tile_boxes`).
    """
    small, factor = _detection_image(loaded.rgb)
    boxes = [_scaled(box, factor) for box in detect_faces(small)]
    found = _mesh_first(loaded, boxes, reduce)
    if found is None:
        tiled = [_scaled(box, factor) for box in _tile_boxes(small)]
        tiled = [box for box in tiled if all(box.iou(tried) < 0.3 for tried in boxes)]
        found = _mesh_first(loaded, tiled, reduce)
        boxes += tiled
    if found is not None:
        return found[0], len(boxes), found[1]
    if not boxes:
        raise NoFaceError(
            "no face found: take a photo of the whole face, looking at the camera, in good light"
        )
    raise NoFaceError("no face found: the face could not be measured; look straight at the camera")


def _largest_face(rgb: ImageU8) -> tuple[FaceLandmarks, int]:
    """The face mesh of the largest face in *rgb* (never reduced) and the number of faces detected."""
    photo = LoadedPhoto(rgb, 1.0, (rgb.shape[1], rgb.shape[0]), "array", ())
    landmarks, count, _ = _find_face(photo, reduce=False)
    return landmarks, count


def _frame(
    rgb: ImageU8, landmarks: FaceLandmarks
) -> tuple[ImageU8, FloatArray, FloatArray, tuple[int, int, int, int]]:
    """Crop around the landmarks and scale to :data:`FRAME_EYE_DISTANCE`.

    Returns
    -------
    frame : (h, w, 3) uint8
        The sRGB analysis frame (for pictures, quality and clipping checks).
    linear : (h, w, 3) float32
        The same frame in linear light, resampled and smoothed in linear light, where averaging is physical.
        Taking logarithms of averaged rather than single noisy pixels avoids the bias of -ln on noise
        (Jensen's inequality), which would otherwise make JPEG noise or darker skin read as redness.
    frame_xy : (478, 2) float32
        Landmarks in the frame.
    crop : tuple of int
        ``(left, top, right, bottom)`` of the cropped rectangle in *rgb*'s pixels.
    """
    xy = landmarks.xy
    scale = FRAME_EYE_DISTANCE / eye_distance(xy)
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    mx, my = FRAME_MARGIN * (x1 - x0), FRAME_MARGIN * (y1 - y0)
    height, width = rgb.shape[:2]
    left, top = max(0, int(np.floor(x0 - mx))), max(0, int(np.floor(y0 - my)))
    right, bottom = min(width, int(np.ceil(x1 + mx))), min(height, int(np.ceil(y1 + my)))
    crop = rgb[top:bottom, left:right]
    size = (max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    frame = cv2.resize(crop, size, interpolation=interpolation)
    linear = cv2.resize(to_linear(crop), size, interpolation=interpolation)
    linear = cv2.GaussianBlur(linear, (0, 0), LINEAR_SMOOTHING_PX)
    scale_x, scale_y = size[0] / (right - left), size[1] / (bottom - top)
    frame_xy = ((xy - [left, top]) * [scale_x, scale_y]).astype(np.float32)
    return frame, linear, frame_xy, (left, top, right, bottom)


def measurable(rgb: ImageU8, linear: FloatArray, skin: Mask) -> Mask:
    """Skin pixels that can be measured: not clipped, not among the most shaded (shadow, hair, nostrils) or
    the least shaded (specular highlights, near-clipped) skin pixels.

    Shading is the (1, 1, 1) coefficient of the optical-density decomposition, which neither haemoglobin nor
    melanin changes; the cut-offs are its percentiles over the skin (a rank rule), so exposure keeps the same
    pixels until clipping reaches the brightest fraction.
    """
    darkest, brightest = channel_extremes(rgb)
    candidates = skin & (brightest < CLIPPED_CODE) & (darkest > 2)
    if not candidates.any():
        return candidates
    # Shading of the skin pixels only (the rest of the frame is never compared).
    shading = optical_density(linear[skin]) @ chromophores().unmix[2].astype(np.float32)
    low, high = np.percentile(shading, [LIGHT_PERCENTILE, SHADED_PERCENTILE])
    kept = np.zeros_like(skin)
    kept[skin] = (shading >= low) & (shading <= high)
    return candidates & kept


def _reference(
    checker: ColourReference | None,
    frame: ImageU8,
    frame_xy: FloatArray,
    native_eye_distance: float,
    face_mask: Mask,
) -> ColourReference:
    """The colour reference that corrects the index (the photo's ColorChecker, *checker*), else a lighting
    estimate only.

    The sclera and teeth cannot be measured precisely enough for an absolute correction (see
    :mod:`needlecare.imaging.reference`); without a chart they serve to tell whether two photos were taken
    under different light, and a follow-up is matched to its baseline's light on the registered eyes later
    (:func:`needlecare.analysis.baseline.match_white_balance`).
    """
    if checker is not None:
        return checker
    in_photo = in_photo_reference(frame, frame_xy, FRAME_EYE_DISTANCE, native_eye_distance)
    fallback = grey_world_reference(frame, face_mask)
    if in_photo is None:
        return fallback
    return replace(
        fallback,
        detail=f"{fallback.detail}; {in_photo.detail} used only to compare the light between photos",
        illuminant_chroma=in_photo.illuminant_chroma,
    )


def _measure(
    loaded: LoadedPhoto, photo: str | None, landmarks: FaceLandmarks, faces_found: int
) -> PhotoReport:
    """Measure the face whose *landmarks* (in *loaded*'s pixels) were found among *faces_found* faces.

    The colour-chart search and the quality checks run beside the rest
    (:func:`needlecare.imaging.parallel.beside`).
    """
    rgb = loaded.rgb
    checker = parallel.beside(colour_checker_reference, rgb)
    native_eye_distance = eye_distance(landmarks.xy) / loaded.scale
    frame, linear, frame_xy, crop = _frame(rgb, landmarks)
    face_regions = build_regions(frame_xy, frame.shape[:2])
    pose = head_pose(landmarks)
    quality = parallel.beside(
        check_quality, frame, face_regions.skin, native_eye_distance=native_eye_distance, pose=pose
    )
    valid = measurable(frame, linear, face_regions.skin)
    reference = _reference(checker.result(), frame, frame_xy, native_eye_distance, face_regions.skin)
    values = index_map(linear, reference.correction, valid)
    overall, regions = summarise(values, valid, face_regions.regions)
    warnings = quality.result()
    if overall is None:
        raise NoFaceError("no skin could be measured: the face is covered, in deep shadow or blown out")

    notes = list(loaded.notes)
    compressed = compression_warning(loaded.chroma_step)
    if compressed is not None:
        warnings.append(compressed)
    if faces_found > 1:
        warnings.append(
            QualityWarning("several_faces", f"{faces_found} faces found: the largest one was measured")
        )
    box = landmarks.box
    full_box = tuple(round(v / loaded.scale) for v in (box.x, box.y, box.w, box.h))
    return PhotoReport(
        photo=photo,
        index=overall,
        unit=UNITS["haemoglobin"],
        regions=regions,
        face=FaceGeometry(box=full_box, yaw=pose[0], pitch=pose[1], roll=pose[2]),  # type: ignore[arg-type]
        warnings=warnings,
        reference=reference,
        faces_found=faces_found,
        notes=notes,
        frame=AnalysisFrame(
            rgb=frame,
            linear=linear,
            index_map=values,
            valid=valid,
            regions=face_regions.regions,
            landmarks=frame_xy,
            native_eye_distance=native_eye_distance,
            source_box=tuple(v / loaded.scale for v in crop),  # type: ignore[arg-type]
        ),
    )


def _label(source: Source) -> str | None:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return None


def measure_photo(source: Source) -> PhotoReport:
    """Measure one photo (no baseline). See :func:`analyze_photo`.

    JPEGs are decoded once, at the DCT scale of :data:`DECODE_MIN_SIDE`. Only a face whose decoded eye
    distance is below :data:`REDECODE_BELOW_EYE_DISTANCE` is decoded again, at the smallest scale that
    gives it that much, and measured there only, on the face box already found (no second detection).
    """
    loaded = load_photo(source, min_side=DECODE_MIN_SIDE)
    landmarks, faces_found, found_on = _find_face(loaded)
    native_eye_distance = eye_distance(landmarks.xy) / found_on.scale
    if loaded.scale < 1 and native_eye_distance * loaded.scale < REDECODE_BELOW_EYE_DISTANCE:
        needed = REDECODE_BELOW_EYE_DISTANCE / native_eye_distance
        larger = load_photo(source, min_side=max(1, math.ceil(min(loaded.full_size) * needed)))
        if larger.scale > loaded.scale:
            box = _scaled(landmarks.box, larger.scale / found_on.scale)
            return _measure(larger, _label(source), face_mesh(larger.rgb, box), faces_found)
    return _measure(found_on, _label(source), landmarks, faces_found)


def analyze_photo(source: Source, baseline: Source | PhotoReport | None = None) -> PhotoReport:
    """Measure facial redness in a photo, per region, optionally against a baseline photo.

    Parameters
    ----------
    source : path, bytes or (H, W, 3) uint8 sRGB array
        The photo (JPEG, PNG, HEIC/HEIF, WebP, TIFF).
    baseline : same types, a PhotoReport from an earlier call, or None
        The pre-treatment photo of the same person.

    Returns
    -------
    PhotoReport
        ``.to_dict()`` is the ``analyze --json`` object. Index unit: OD_hb (see
        :mod:`needlecare.imaging.redness`).

    Raises
    ------
    needlecare.imaging.errors.PhotoError
        With ``code`` not_an_image, corrupt, too_large, no_face or unsupported.
    """
    report = measure_photo(source)
    if baseline is None:
        return report
    try:
        base_report = baseline if isinstance(baseline, PhotoReport) else measure_photo(baseline)
    except PhotoError as error:
        raise type(error)(f"baseline photo: {error.message}") from error
    return compare_photos(report, base_report)


def compare_photos(report: PhotoReport, baseline: PhotoReport) -> PhotoReport:
    """The follow-up *report* matched to the light of *baseline* where the eyes allow, with its comparison.

    Both are single-photo reports (:func:`measure_photo`); see :func:`analyze_photo`.
    """
    registration = register_baseline(report, baseline)
    report, light = match_white_balance(report, baseline, registration)
    return replace(report, baseline=compare_with_baseline(report, baseline, registration, light))


def as_uploaded(report: PhotoReport, chroma_step: float | None) -> PhotoReport:
    """*report* of a re-encoded copy, with the ``compressed`` warning the photo had as uploaded.

    A copy saved at high quality no longer shows how coarsely the original was compressed, but its colour
    still carries that compression (see :func:`~needlecare.imaging.quality.compression_warning`).
    """
    warning = compression_warning(chroma_step)
    if warning is None or any(w.code == warning.code for w in report.warnings):
        return report
    return replace(report, warnings=[*report.warnings, warning])
