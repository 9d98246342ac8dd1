"""Photo uploads: EXIF/GPS stripped, size and type limits, consent, analysis, baseline, no leftovers."""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from starlette.testclient import TestClient

from needlecare.imaging.colour import linear_to_srgb, srgb_to_linear
from needlecare.storage.models import AuditEvent, Photo
from needlecare.web.context import WebContext
from needlecare.web.photos import service
from needlecare.web.photos.advice import ADVICE, DIFFERENT_LIGHT

from .conftest import PASSWORD, api_signup, api_treatment, api_upload, page_csrf

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def _jpeg_with_gps(path: Path, orientation: int | None = None) -> bytes:
    with Image.open(path) as opened:
        im = opened.copy()
    if orientation == 6:  # store the pixels turned left; orientation 6 tells viewers to turn them right again
        im = im.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    if orientation:
        exif[ORIENTATION] = orientation
    buf = io.BytesIO()
    im.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the fixture really carries GPS
    return data


def _counts(ctx: WebContext) -> tuple[int, int]:
    with ctx.sessions() as db:
        rows = db.scalar(select(func.count()).select_from(Photo)) or 0
    return rows, ctx.store.count_files()


def test_gps_exif_is_stripped_and_orientation_applied(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    original = faces_dir / "obama-480p.jpg"
    with Image.open(original) as im:
        width, height = im.size
    r = api_upload(client, headers, tid, _jpeg_with_gps(original, orientation=6))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["width"], body["height"]) == (width, height)  # turned upright by the EXIF orientation
    stored = client.get(body["image_url"])
    assert stored.headers["content-type"] == "image/jpeg"
    im = Image.open(io.BytesIO(stored.content))
    assert len(im.getexif()) == 0
    assert "exif" not in im.info
    assert b"Exif" not in stored.content
    assert b"PhoneMaker" not in stored.content
    with ctx.sessions() as db:
        photo = db.scalars(select(Photo)).one()
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "photo_consent")).one()
    assert b"Exif" not in ctx.store.path(photo.file_path).read_bytes()
    assert event.photo_id == photo.id
    assert event.detail == {"consent": "private"}
    assert body["analysis"]["redness"]["unit"] == "OD_hb"
    assert set(body["analysis"]["regions"]) >= {"forehead", "nose"}


def test_heic_upload_is_stored_as_clean_jpeg(client: TestClient, ctx: WebContext, faces_dir: Path) -> None:
    import pillow_heif

    pillow_heif.register_heif_opener()
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    with Image.open(faces_dir / "obama-480p.jpg") as im:
        exif = Image.Exif()
        exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0)}
        buf = io.BytesIO()
        im.save(buf, format="HEIF", quality=90, exif=exif.tobytes())
    r = client.post(
        f"/api/v1/treatments/{tid}/photos",
        files={"file": ("IMG_0001.HEIC", buf.getvalue(), "image/heic")},
        data={"consent": "private"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    stored = client.get(r.json()["image_url"]).content
    assert stored[:3] == b"\xff\xd8\xff"
    with Image.open(io.BytesIO(stored)) as im:
        assert im.format == "JPEG"
        assert len(im.getexif()) == 0


def test_too_large_upload_is_413_and_leaves_nothing(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    limit = ctx.settings.web.max_upload_bytes
    r = api_upload(client, headers, tid, b"\xff\xd8\xff" + b"0" * limit)
    assert r.status_code == 413
    assert "MB limit" in r.json()["detail"]
    huge = api_upload(client, headers, tid, b"0" * (limit * 2))
    assert huge.status_code == 413
    assert _counts(ctx) == (0, 0)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", b"hello, not a photo"),
        ("empty.jpg", b""),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 50),
    ],
)
def test_non_images_are_415(client: TestClient, ctx: WebContext, name: str, data: bytes) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    files = {"file": (name, data, "application/octet-stream")}
    r = client.post(
        f"/api/v1/treatments/{tid}/photos", files=files, data={"consent": "private"}, headers=headers
    )
    assert r.status_code == 415
    assert r.json()["code"] == "unsupported_media"
    assert _counts(ctx) == (0, 0)


def test_gif_is_refused_with_format_message(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 120, 100)).save(buf, format="GIF")
    r = client.post(
        f"/api/v1/treatments/{tid}/photos",
        files={"file": ("a.gif", buf.getvalue(), "image/gif")},
        data={"consent": "private"},
        headers=headers,
    )
    assert r.status_code == 415
    assert _counts(ctx) == (0, 0)


def test_photo_without_face_is_422_and_leaves_nothing(client: TestClient, ctx: WebContext) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(buf, format="PNG")
    r = api_upload(client, headers, tid, buf.getvalue())
    assert r.status_code == 422
    assert r.json()["code"] == "unprocessable"
    assert _counts(ctx) == (0, 0)


def test_consent_is_required(client: TestClient, ctx: WebContext, faces_dir: Path) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    data = (faces_dir / "obama-480p.jpg").read_bytes()
    for form in ({}, {"consent": "everyone"}):
        r = client.post(
            f"/api/v1/treatments/{tid}/photos",
            files={"file": ("f.jpg", data, "image/jpeg")},
            data=form,
            headers=headers,
        )
        assert r.status_code == 422
    assert _counts(ctx) == (0, 0)


def test_failure_after_staging_leaves_no_file_and_no_row(
    client: TestClient, ctx: WebContext, faces_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)

    def broken_audit(**_kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(service, "AuditEvent", broken_audit)
    with TestClient(client.app, base_url="https://testserver", raise_server_exceptions=False) as c2:  # type: ignore[arg-type]
        c2.cookies.update(client.cookies)
        r = c2.post(
            f"/api/v1/treatments/{tid}/photos",
            files={"file": ("f.jpg", (faces_dir / "obama-480p.jpg").read_bytes(), "image/jpeg")},
            data={"consent": "private"},
            headers=headers,
        )
    assert r.status_code == 500
    assert _counts(ctx) == (0, 0)


def test_baseline_side_by_side_and_framing_guide(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    base = api_upload(
        client,
        headers,
        tid,
        (faces_dir / "obama-480p.jpg").read_bytes(),
        is_baseline="true",
        taken_on="2026-11-19",
    )
    assert base.status_code == 201
    later = api_upload(
        client,
        headers,
        tid,
        (faces_dir / "obama-720p.jpg").read_bytes(),
        consent="clinician",
        taken_on="2026-11-22",
    )
    assert later.status_code == 201
    body = later.json()
    assert body["day"] == 2
    assert body["consent"] == "clinician"
    baseline = body["analysis"]["baseline"]
    assert baseline["index"] == pytest.approx(base.json()["analysis"]["redness"]["index"], abs=1e-6)
    page = client.get(f"/photos/{body['id']}")
    assert page.status_code == 200
    assert f"/photos/{base.json()['id']}/face" in page.text  # both cropped to the face, the same framing
    assert f"/photos/{body['id']}/face" in page.text
    assert "Before (2026-11-19)" in page.text
    capture = client.get(f"/treatments/{tid}/photos/new")
    # the framing guide is the before-treatment photo, the one every later photo is compared with
    assert f'class="guide" src="/photos/{base.json()["id"]}/face"' in capture.text
    crop = client.get(f"/photos/{body['id']}/face")
    assert crop.status_code == 200
    assert crop.headers["content-type"] == "image/jpeg"
    assert crop.headers["cache-control"] == "private, no-store"
    assert len(crop.content) < len(client.get(f"/photos/{body['id']}/image").content)
    assert 'type="radio" name="consent"' in capture.text
    assert "checked" not in capture.text.split("Consent for this photo")[1]  # no pre-selected consent


def test_page_upload_and_account_deletion_removes_files(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    api_signup(client)
    headers = {"X-CSRF-Token": client.get("/api/v1/auth/session").json()["csrf_token"]}
    tid = api_treatment(client, headers)
    token = page_csrf(client, f"/treatments/{tid}/photos/new")
    files = {"file": ("f.jpg", (faces_dir / "obama-480p.jpg").read_bytes(), "image/jpeg")}
    r = client.post(
        f"/treatments/{tid}/photos", files=files, data={"consent": "private", "csrf_token": token}
    )
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Redness" in page.text
    assert _counts(ctx) == (1, 2)  # the photo and its heatmap
    photo_id = int(r.headers["location"].rsplit("/", 1)[1])
    assert f'src="/photos/{photo_id}/heatmap"' in page.text
    heatmap = client.get(f"/photos/{photo_id}/heatmap")
    assert heatmap.headers["content-type"] == "image/jpeg"
    with Image.open(io.BytesIO(heatmap.content)) as im:
        assert im.mode == "RGB"
        assert min(im.size) > 100
    no_token = client.post(f"/treatments/{tid}/photos", files=files, data={"consent": "private"})
    assert no_token.status_code == 403
    assert _counts(ctx) == (1, 2)
    r = client.post("/account/delete", data={"password": PASSWORD, "csrf_token": token})
    assert r.status_code == 200
    assert _counts(ctx) == (0, 0)


def test_delete_photo_removes_row_and_files(client: TestClient, ctx: WebContext, faces_dir: Path) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    r = api_upload(client, headers, tid, (faces_dir / "obama-480p.jpg").read_bytes())
    pid = r.json()["id"]
    assert _counts(ctx) == (1, 2)
    assert client.get(f"/api/v1/photos/{pid}/heatmap").status_code == 200
    assert client.delete(f"/api/v1/photos/{pid}", headers=headers).status_code == 204
    assert _counts(ctx) == (0, 0)
    assert client.get(f"/api/v1/photos/{pid}").status_code == 404


def test_pre_upload_check_warns_about_a_heavily_compressed_jpeg(client: TestClient, faces_dir: Path) -> None:
    headers = api_signup(client)
    rgb = np.asarray(Image.open(faces_dir / "obama2.jpg").convert("RGB"))
    answers, advice = {}, {}
    for quality in (60, 92):
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
        files = {"file": ("f.jpg", buffer.getvalue(), "image/jpeg")}
        r = client.post("/api/v1/photos/check", files=files, headers=headers)
        assert r.status_code == 200, r.text
        answers[quality] = r.json()["quality"]
        advice[quality] = r.json()["advice"]
    assert "compressed" in answers[60]["warnings"]
    assert answers[60]["ok"] is False
    assert any("send the camera's original photo" in m for m in answers[60]["messages"])
    assert "compressed" not in answers[92]["warnings"]
    assert advice[60] == [ADVICE["compressed"]]
    assert advice[92] == []


def test_a_compressed_upload_keeps_its_warning_and_is_not_matched_to_other_light(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    rgb = np.asarray(Image.open(faces_dir / "obama2.jpg").convert("RGB"))
    base = api_upload(client, headers, tid, _jpeg(rgb), is_baseline="true", taken_on="2026-11-19")
    assert base.status_code == 201
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=60)  # the same photo, sent through a messenger
    same = api_upload(client, headers, tid, buffer.getvalue(), taken_on="2026-11-21")
    assert same.status_code == 201
    with ctx.sessions() as db:
        steps = {p.id: p.upload_chroma_step for p in db.scalars(select(Photo))}
    assert steps == {base.json()["id"]: 0.25, same.json()["id"]: 1.75}
    analysis = client.get(f"/api/v1/photos/{same.json()['id']}").json()["analysis"]
    # The analysis says so (from the stored file or, for a re-encoded copy, from the upload's step)...
    assert "compressed" in analysis["quality"]["warnings"]
    assert analysis["quality"]["ok"] is False
    # ... and the eyes, smeared by the compression, are not taken for a change of light (they were:
    # matched on a 0.017 light difference, the same photo read 0.055 less red).
    assert analysis["quality"]["colour_reference"] == "none"
    assert analysis["baseline"]["lighting_differs"] is False
    assert abs(analysis["baseline"]["delta"]) < 0.01
    page = client.get(f"/photos/{same.json()['id']}").text
    assert "heavily compressed" in page


def test_pre_upload_check_stores_nothing(client: TestClient, ctx: WebContext, faces_dir: Path) -> None:
    headers = api_signup(client)
    r = client.post(
        "/api/v1/photos/check",
        files={"file": ("f.jpg", (faces_dir / "obama-480p.jpg").read_bytes(), "image/jpeg")},
        headers=headers,
    )
    assert r.status_code == 200
    assert "warnings" in r.json()["quality"]
    assert _counts(ctx) == (0, 0)


def test_photo_under_other_light_is_matched_on_the_eyes_or_else_flagged(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    rgb = apply_gain(np.asarray(Image.open(faces_dir / "obama2.jpg").convert("RGB")), (0.8, 0.8, 0.8))
    base = api_upload(client, headers, tid, _jpeg(rgb), is_baseline="true", taken_on="2026-11-19")
    assert base.status_code == 201
    warm_rgb = apply_gain(rgb, (1.15, 1.0, 0.85))

    # the eyes show: the follow-up is matched to the baseline's white balance and used for the curve
    warm = api_upload(client, headers, tid, _jpeg(warm_rgb), taken_on="2026-11-21")
    assert warm.status_code == 201
    analysis = warm.json()["analysis"]
    assert analysis["quality"]["colour_reference"] == "in_photo"
    assert (analysis["baseline"]["lighting_differs"], analysis["baseline"]["comparable"]) == (True, True)
    assert abs(analysis["baseline"]["delta"]) < 0.03  # the same skin under other light
    page = client.get(f"/photos/{warm.json()['id']}").text
    assert "The photos were taken under different light" in page
    assert "matched to the baseline photo" in page
    # the change read against minimal visible redness, with its source: the same skin, so not visible
    assert abs(analysis["baseline"]["delta_a_star"]) < 1.0
    assert "redness you can just see" in page
    assert "Source: Wilhelm" in page
    assert "taken under different light from the baseline photo and neither" not in page

    # sunglasses and a new background: nothing to match on; flagged on the page and left out of the curve
    elsewhere = with_sunglasses(in_another_place(warm_rgb))
    shaded = api_upload(client, headers, tid, _jpeg(elsewhere), taken_on="2026-11-22")
    assert shaded.status_code == 201
    comparison = shaded.json()["analysis"]["baseline"]
    assert (comparison["lighting_differs"], comparison["comparable"]) == (True, False)
    page = client.get(f"/photos/{shaded.json()['id']}").text
    assert "taken under different light from the baseline photo" in page
    files = {"file": ("f.jpg", _jpeg(elsewhere), "image/jpeg")}
    check = client.post("/api/v1/photos/check", files=files, data={"treatment_id": str(tid)}, headers=headers)
    assert check.json()["advice"][-1] == DIFFERENT_LIGHT  # said before saving, in plain words
    timeline = client.get(f"/api/v1/treatments/{tid}/timeline").json()
    assert [p["used"] for p in timeline["photos"]["points"]] == [True, False]


def with_sunglasses(rgb: np.ndarray) -> np.ndarray:
    """*rgb* with both eyes covered by dark lenses (found with the face mesh)."""
    from needlecare.imaging.face import detect_faces, face_mesh
    from needlecare.imaging.regions import LEFT_EYE, RIGHT_EYE

    xy = face_mesh(rgb, detect_faces(rgb)[0]).xy
    covered = rgb.copy()
    for ring in (RIGHT_EYE, LEFT_EYE):
        cv2.fillPoly(covered, [cv2.convexHull(np.round(xy[list(ring)]).astype(np.int32))], (20, 20, 24))
    return covered


def in_another_place(rgb: np.ndarray) -> np.ndarray:
    """*rgb* with everything outside the face oval (hair, clothing, background) replaced by warm-lit noise:
    nothing around the face is the same surface as in another photo."""
    from needlecare.imaging.face import detect_faces, face_mesh
    from needlecare.imaging.regions import FACE_OVAL

    xy = face_mesh(rgb, detect_faces(rgb)[0]).xy
    oval = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(oval, [np.round(xy[list(FACE_OVAL)]).astype(np.int32)], 1)
    noise = apply_gain(
        np.random.default_rng(3).integers(30, 220, rgb.shape, dtype=np.uint8), (1.15, 1.0, 0.85)
    )
    return np.where(oval[..., None] == 1, rgb, noise).astype(np.uint8)


def apply_gain(rgb: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """The photo under light of another colour: per-channel gains on linear light."""
    linear = srgb_to_linear(rgb.astype(np.float32) / 255) * np.asarray(gains, dtype=np.float32)
    return np.clip(np.round(linear_to_srgb(linear) * 255), 0, 255).astype(np.uint8)


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def test_pre_upload_check_compares_the_light_with_the_baseline(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    headers = api_signup(client)
    tid = api_treatment(client, headers)
    rgb = np.asarray(Image.open(faces_dir / "obama2.jpg").convert("RGB"))

    def check(data: bytes, **form: str) -> dict[str, object]:
        files = {"file": ("f.jpg", data, "image/jpeg")}
        r = client.post("/api/v1/photos/check", files=files, data=form, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    # other light, eyes hidden, a new background: nothing to match the light on
    warm = _jpeg(with_sunglasses(in_another_place(apply_gain(rgb, (1.15, 1.0, 0.85)))))
    assert check(warm, treatment_id=str(tid))["baseline"] is None  # no baseline photo yet
    base = api_upload(client, headers, tid, _jpeg(rgb), is_baseline="true", taken_on="2026-11-19")
    base_id = base.json()["id"]
    counts = _counts(ctx)
    other = check(warm, treatment_id=str(tid))["baseline"]
    assert isinstance(other, dict)
    assert (other["baseline_photo_id"], other["lighting_differs"], other["comparable"]) == (
        base_id,
        True,
        False,
    )
    assert any("different light" in note for note in other["notes"])
    same = check(_jpeg(rgb), treatment_id=str(tid))["baseline"]
    assert same["lighting_differs"] is False  # type: ignore[index]
    assert same["comparable"] is True  # type: ignore[index]
    assert check(warm)["baseline"] is None  # no treatment named: quality only
    assert _counts(ctx) == counts  # the checks stored nothing

    # someone else's treatment is not found, and a malformed id is a 422
    intruder = api_signup(client, email="other@example.org")
    files = {"file": ("f.jpg", warm, "image/jpeg")}
    r = client.post("/api/v1/photos/check", files=files, data={"treatment_id": str(tid)}, headers=intruder)
    assert r.status_code == 404
    r = client.post("/api/v1/photos/check", files=files, data={"treatment_id": "x"}, headers=intruder)
    assert r.status_code == 422
    # an id beyond the database's integers is refused before it reaches the database (found by fuzzing)
    r = client.post("/api/v1/photos/check", files=files, data={"treatment_id": str(2**70)}, headers=intruder)
    assert r.status_code == 422
