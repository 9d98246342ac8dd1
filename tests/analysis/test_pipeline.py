"""analyze_photo end to end: faces, regions, quality warnings, orientation, sources, baseline."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from needlecare import analyze_photo
from needlecare.analysis.pipeline import _largest_face
from needlecare.imaging.errors import NoFaceError
from needlecare.imaging.face import detect_faces, head_pose
from needlecare.imaging.regions import FACE_OVAL, LEFT_EYE, LIPS_OUTER, REGION_NAMES, RIGHT_EYE, build_regions


def _rgb(faces_dir: Path, name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(faces_dir / name)), cv2.COLOR_BGR2RGB)


def test_path_bytes_and_array_give_the_same_report(faces_dir: Path) -> None:
    path = faces_dir / "obama.jpg"
    from_path = analyze_photo(str(path)).to_dict()
    from_bytes = analyze_photo(path.read_bytes()).to_dict()
    from_array = analyze_photo(np.asarray(Image.open(path).convert("RGB"))).to_dict()
    assert from_path["photo"] == str(path)
    assert from_bytes["photo"] is None
    assert from_bytes["redness"] == from_path["redness"]
    assert from_array["redness"]["index"] == pytest.approx(from_path["redness"]["index"], abs=1e-3)


def test_several_faces_measures_the_largest_and_warns(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir, "two_people.jpg")
    boxes = detect_faces(rgb)
    assert len(boxes) == 2
    report = analyze_photo(rgb).to_dict()
    assert "several_faces" in report["quality"]["warnings"]
    x, _y, w, _h = report["face"]["box"]
    largest = boxes[0]
    assert abs(x - largest.x) < 2
    assert abs(w - largest.w) < 2


def test_a_photo_with_several_faces_is_never_compared_with_the_baseline(faces_dir: Path) -> None:
    from needlecare.analysis.baseline import SEVERAL_FACES_NOTE

    baseline = analyze_photo(_rgb(faces_dir, "obama.jpg"))
    report = analyze_photo(_rgb(faces_dir, "two_people.jpg"), baseline=baseline)
    assert report.faces_found == 2
    assert report.baseline is not None
    assert report.baseline.comparable is False
    assert SEVERAL_FACES_NOTE in report.baseline.notes
    alone = analyze_photo(_rgb(faces_dir, "obama2.jpg"), baseline=baseline)
    assert alone.baseline is not None
    assert SEVERAL_FACES_NOTE not in alone.baseline.notes


def test_small_faces_in_a_large_photo_are_found(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir, "obama_and_biden.jpg")
    boxes = detect_faces(rgb)
    assert len(boxes) == 2
    assert all(box.w < 0.15 * rgb.shape[1] for box in boxes)
    report = analyze_photo(rgb)
    assert all(score.index is not None for score in report.regions.values())


def test_false_detections_are_rejected_by_the_mesh(faces_dir: Path) -> None:
    # obama1.jpg: one face and a textured building that the short-range detector takes for a face
    report = analyze_photo(_rgb(faces_dir, "obama1.jpg"))
    assert report.faces_found == 1


@pytest.mark.parametrize("name", ["obama_partial_face.jpg", "obama_partial_face2.jpg"])
def test_face_cut_by_the_photo_edge_is_still_measured(faces_dir: Path, name: str) -> None:
    report = analyze_photo(_rgb(faces_dir, name))
    measured = [s for s in report.regions.values() if s.index is not None]
    assert len(measured) >= 3


def test_no_face_is_a_clear_error() -> None:
    rng = np.random.default_rng(3)
    wall = cv2.GaussianBlur(rng.integers(60, 200, (480, 640, 3), dtype=np.uint8), (0, 0), 8)
    with pytest.raises(NoFaceError, match="no face found"):
        analyze_photo(wall)


def test_regions_are_disjoint_skin_without_eyes_and_lips(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir, "obama.jpg")
    landmarks, _ = _largest_face(rgb)
    regions = build_regions(landmarks.xy, rgb.shape[:2])
    total = sum(regions.regions[name].astype(int) for name in REGION_NAMES)
    assert total.max() == 1  # no pixel in two regions
    assert not (total.astype(bool) & ~regions.skin).any()
    for ring in (LEFT_EYE, RIGHT_EYE, LIPS_OUTER):
        for x, y in landmarks.xy[list(ring)].round().astype(int):
            assert not regions.skin[y, x]
    # the subject's left cheek is on the image's right in an unmirrored portrait
    left_x = np.nonzero(regions.regions["left_cheek"])[1].mean()
    right_x = np.nonzero(regions.regions["right_cheek"])[1].mean()
    assert left_x > right_x
    forehead_y = np.nonzero(regions.regions["forehead"])[0].mean()
    chin_y = np.nonzero(regions.regions["chin"])[0].mean()
    nose_y = np.nonzero(regions.regions["nose"])[0].mean()
    assert forehead_y < nose_y < chin_y


def test_mirroring_swaps_cheeks_and_negates_yaw_and_roll(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir, "obama2.jpg")
    report = analyze_photo(rgb)
    mirrored = analyze_photo(np.ascontiguousarray(rgb[:, ::-1]))
    assert mirrored.regions["left_cheek"].index == pytest.approx(
        report.regions["right_cheek"].index, abs=0.02
    )
    assert mirrored.regions["right_cheek"].index == pytest.approx(
        report.regions["left_cheek"].index, abs=0.02
    )
    assert np.sign(mirrored.face.yaw) == -np.sign(report.face.yaw)
    assert mirrored.face.roll == pytest.approx(-report.face.roll, abs=2.0)


def test_roll_is_measured_on_a_rotated_photo(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir, "obama.jpg")
    upright = head_pose(_largest_face(rgb)[0])[2]
    height, width = rgb.shape[:2]
    rotation = cv2.getRotationMatrix2D((width / 2, height / 2), 20, 1.0)  # counter-clockwise in the image
    rotated = cv2.warpAffine(rgb, rotation, (width, height), borderMode=cv2.BORDER_REFLECT)
    report = analyze_photo(rotated)
    assert report.face.roll == pytest.approx(upright - 20, abs=3)
    assert "head_turned" in report.to_dict()["quality"]["warnings"]


def test_quality_warnings_for_blur_darkness_and_small_faces(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir, "obama.jpg")
    assert analyze_photo(rgb).quality_ok
    blurred = analyze_photo(cv2.GaussianBlur(rgb, (0, 0), 4)).to_dict()["quality"]["warnings"]
    assert "blurred" in blurred
    dark = analyze_photo((rgb * 0.12).astype(np.uint8)).to_dict()["quality"]["warnings"]
    assert "underexposed" in dark
    small = analyze_photo(_rgb(faces_dir, "obama-240p.jpg")).to_dict()["quality"]["warnings"]
    assert "face_too_small" in small


def test_exif_rotated_photo_measures_like_the_upright_one(faces_dir: Path) -> None:
    upright = Image.open(faces_dir / "obama.jpg").convert("RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what a sideways-held phone stores
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    rotated_report = analyze_photo(buffer.getvalue())
    plain = io.BytesIO()
    upright.save(plain, "JPEG", quality=95)
    assert rotated_report.index == pytest.approx(analyze_photo(plain.getvalue()).index, abs=0.01)
    assert abs(rotated_report.face.roll) < 10


def test_heic_photo_is_measured(faces_dir: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    Image.open(faces_dir / "obama.jpg").convert("RGB").save(buffer, "HEIF", quality=90)
    report = analyze_photo(buffer.getvalue())
    assert report.index == pytest.approx(analyze_photo(faces_dir / "obama.jpg").index, abs=0.03)


def test_baseline_under_different_light_is_matched_on_what_shares_the_light(faces_dir: Path) -> None:
    from synthetic import apply_gain

    rgb = apply_gain(_rgb(faces_dir, "obama2.jpg"), (0.8, 0.8, 0.8))  # so that 1.15x red does not clip
    warm = apply_gain(rgb, (1.15, 1.0, 0.85))
    same = analyze_photo(rgb, baseline=rgb)
    other = analyze_photo(warm, baseline=rgb)
    assert same.baseline is not None
    assert other.baseline is not None
    assert (same.baseline.lighting_differs, same.reference.kind) == (False, "none")
    assert other.baseline.lighting_differs is True
    assert other.to_dict()["quality"]["colour_reference"] == "in_photo"
    # the eyes and the hair, clothing and background around the face agree; the latter, with thousands of
    # pixels instead of a few dozen, is used
    assert "on the registered hair, clothing, background and teeth" in other.reference.detail
    assert other.baseline.comparable
    assert any("different light" in note for note in other.baseline.notes)
    assert any("white balance on the hair, clothing" in note for note in other.baseline.notes)
    # uncorrected, the warm light alone moves the index by ~0.07 OD_hb (red and blue gains partly cancel)
    assert abs(analyze_photo(warm).index - same.index) > 0.05
    assert other.index == pytest.approx(same.index, abs=0.02)


def test_light_is_matched_around_the_face_when_the_eyes_are_hidden(faces_dir: Path) -> None:
    """Sunglasses: the eyes cannot tell the light, so what surrounds the face (hair, clothing, background,
    registered with the head) is used; with that scrambled too nothing shares the light and the change from
    baseline is flagged, not trusted."""
    from synthetic import apply_gain

    rgb = _rgb(faces_dir, "obama2.jpg")
    shaded = apply_gain(rgb, (1.15, 1.0, 0.85)).copy()
    xy = _largest_face(rgb)[0].xy
    for ring in (RIGHT_EYE, LEFT_EYE):
        lens = cv2.convexHull(np.round(xy[list(ring)]).astype(np.int32))
        cv2.fillPoly(shaded, [lens], (20, 20, 24))
    same = analyze_photo(rgb, baseline=rgb)
    matched = analyze_photo(shaded, baseline=rgb)
    assert matched.baseline is not None
    assert matched.baseline.lighting_differs is True
    assert matched.baseline.comparable is True
    assert "around the face" in matched.reference.detail
    assert matched.index == pytest.approx(same.index, abs=0.02)
    # a new background and clothes, under the same warm light: nothing around the face is the same surface
    oval = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(xy[list(FACE_OVAL)]).astype(np.int32)], 1)
    noise = apply_gain(
        np.random.default_rng(3).integers(30, 220, rgb.shape, dtype=np.uint8), (1.15, 1.0, 0.85)
    )
    elsewhere = np.where(oval[..., None] == 1, shaded, noise).astype(np.uint8)
    other = analyze_photo(elsewhere, baseline=rgb).baseline
    assert other is not None
    assert other.lighting_differs is True
    assert any("different light" in note for note in other.notes)
    # no colour chart, no eyes, no surroundings: the light cannot be taken out
    assert other.comparable is False
