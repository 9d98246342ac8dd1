"""Upright JPEG uploads are stored losslessly: their own compressed data, without any metadata."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from starlette.testclient import TestClient

from imaging.loading_samples import rgb_matrix_profile
from needlecare.analysis.pipeline import analyze_photo
from needlecare.imaging.jpeg_strip import strip_jpeg_metadata
from needlecare.imaging.loading import load_photo
from needlecare.storage.models import Photo
from needlecare.web.context import WebContext
from needlecare.web.photos.sanitize import sanitize

from .conftest import api_signup, api_treatment, api_upload

GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>'
    b'<rdf:Description GPSLatitude="52,31N"/></rdf:RDF></x:xmpmeta>'
)


def _rgb(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _jpeg(rgb: np.ndarray, **params: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", **params)
    return buffer.getvalue()


def _exif(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    if orientation is not None:
        exif[ORIENTATION] = orientation
    return exif.tobytes()


def _segment(code: int, payload: bytes) -> bytes:
    return bytes([0xFF, code]) + (len(payload) + 2).to_bytes(2, "big") + payload


def _icc_segments(profile: bytes) -> tuple[bytes, bytes]:
    """The profile split over two APP2 ICC_PROFILE segments (sequence numbers 1 and 2 of 2)."""
    half = len(profile) // 2
    return (
        _segment(0xE2, b"ICC_PROFILE\x00\x01\x02" + profile[:half]),
        _segment(0xE2, b"ICC_PROFILE\x00\x02\x02" + profile[half:]),
    )


def _after_app0(jpeg: bytes, *segments: bytes) -> bytes:
    """*jpeg* (starting SOI, APP0 JFIF as Pillow writes it) with *segments* inserted after its APP0."""
    assert jpeg[2:4] == b"\xff\xe0"
    end = 4 + int.from_bytes(jpeg[4:6], "big")
    return jpeg[:end] + b"".join(segments) + jpeg[end:]


def _pixels(jpeg: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(jpeg)) as im:
        return np.asarray(im.convert("RGB"))


def test_metadata_is_stripped_and_icc_profile_kept_byte_for_byte(
    client: TestClient, ctx: WebContext, faces_dir: Path
) -> None:
    profile = rgb_matrix_profile("Adobe RGB (1998)", "Adobe RGB (1998)", gamma=563 / 256)
    icc_1, icc_2 = _icc_segments(profile)
    photoshop = _segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x00")
    pillow = _jpeg(_rgb(faces_dir / "obama-480p.jpg"), quality=95, exif=_exif(1), xmp=XMP, comment=b"Alice")
    upload = _after_app0(pillow, icc_1, _segment(0xFE, b"taken at home"), icc_2, photoshop)
    with Image.open(io.BytesIO(upload)) as im:  # the fixture really carries all of it
        assert im.getexif().get_ifd(GPS_IFD)
        assert {"xmp", "comment", "icc_profile"} <= set(im.info)
        assert im.info["icc_profile"] == profile
    headers = api_signup(client)
    r = api_upload(client, headers, api_treatment(client, headers), upload)
    assert r.status_code == 201, r.text
    with ctx.sessions() as db:
        stored = ctx.store.path(db.scalars(select(Photo)).one().file_path).read_bytes()
    assert client.get(r.json()["image_url"]).content == stored
    with Image.open(io.BytesIO(stored)) as im:
        assert len(im.getexif()) == 0
        assert "xmp" not in im.info
        assert "comment" not in im.info
        assert im.info["icc_profile"] == profile
    for secret in (b"Exif\x00\x00", b"PhoneMaker", b"GPSLatitude", b"Alice", b"taken at home", b"Photoshop"):
        assert secret not in stored
    assert icc_1 + icc_2 in stored  # both ICC segments byte for byte, in order
    assert np.array_equal(_pixels(stored), _pixels(upload))
    upright = load_photo(upload)
    assert "ICC profile 'Adobe RGB (1998)' converted to sRGB" in upright.notes
    assert np.array_equal(load_photo(stored).rgb, upright.rgb)


def test_quality_60_upload_is_measured_as_uploaded(faces_dir: Path) -> None:
    upload = _jpeg(_rgb(faces_dir / "obama2.jpg"), quality=60)
    clean = sanitize(upload)
    assert clean.jpeg == upload  # a Pillow JPEG holds no metadata beyond its JFIF header
    assert clean.chroma_step == 1.75
    assert analyze_photo(clean.jpeg).index == analyze_photo(upload).index


def test_pre_upload_check_warns_about_compression_once(client: TestClient, faces_dir: Path) -> None:
    files = {"file": ("f.jpg", _jpeg(_rgb(faces_dir / "obama2.jpg"), quality=60), "image/jpeg")}
    r = client.post("/api/v1/photos/check", files=files, headers=api_signup(client))
    assert r.status_code == 200, r.text
    assert r.json()["quality"]["warnings"].count("compressed") == 1


def test_rotated_upload_is_reencoded_upright_without_exif(faces_dir: Path) -> None:
    rgb = _rgb(faces_dir / "obama-480p.jpg")
    turned_left = np.ascontiguousarray(np.rot90(rgb))  # orientation 6 tells viewers to turn it right again
    upload = _jpeg(turned_left, quality=95, exif=_exif(6))
    clean = sanitize(upload)
    assert clean.size == (rgb.shape[1], rgb.shape[0])
    with Image.open(io.BytesIO(clean.jpeg)) as im:
        assert im.size == clean.size
        assert len(im.getexif()) == 0
    assert b"Exif" not in clean.jpeg
    assert load_photo(clean.jpeg).rgb.shape == rgb.shape
    assert np.array_equal(_pixels(clean.jpeg), _pixels(_jpeg(clean.rgb, quality=92)))


def test_only_the_first_picture_of_an_mpo_is_stored(faces_dir: Path) -> None:
    first = Image.fromarray(_rgb(faces_dir / "obama-480p.jpg"))
    second = Image.fromarray(_rgb(faces_dir / "biden.jpg"))
    buffer = io.BytesIO()
    first.save(buffer, "MPO", save_all=True, append_images=[second], quality=90)
    upload = buffer.getvalue()
    with Image.open(io.BytesIO(upload)) as im:
        assert (im.format, getattr(im, "n_frames", 1)) == ("MPO", 2)
        first_pixels = np.asarray(im.convert("RGB"))
    clean = sanitize(upload)
    with Image.open(io.BytesIO(clean.jpeg)) as im:
        assert (im.format, getattr(im, "n_frames", 1)) == ("JPEG", 1)
        assert np.array_equal(np.asarray(im.convert("RGB")), first_pixels)
    assert b"MPF\x00" not in clean.jpeg
    assert clean.jpeg.count(b"\xff\xd8\xff") == 1
    assert clean.jpeg.endswith(b"\xff\xd9")
    assert clean.jpeg[-1000:] in upload  # the first picture's own scan data, not a re-encode


def test_progressive_upload_is_stored_losslessly(faces_dir: Path) -> None:
    upload = _jpeg(_rgb(faces_dir / "obama-480p.jpg"), quality=80, progressive=True, exif=_exif(1))
    clean = sanitize(upload)
    assert b"\xff\xc2" in clean.jpeg  # still progressive (SOF2)
    assert b"Exif" not in clean.jpeg
    assert upload.endswith(clean.jpeg[clean.jpeg.index(b"\xff\xdb") :])  # tables and scans copied as they are
    assert np.array_equal(_pixels(clean.jpeg), _pixels(upload))


@pytest.mark.parametrize("mode", ["CMYK", "RGBA"])
def test_other_jpegs_and_formats_are_reencoded(faces_dir: Path, mode: str) -> None:
    im = Image.fromarray(_rgb(faces_dir / "obama-480p.jpg"))
    buffer = io.BytesIO()
    if mode == "CMYK":
        im.convert("CMYK").save(buffer, "JPEG", quality=95)
        assert strip_jpeg_metadata(buffer.getvalue()) is None
    else:
        im.convert("RGBA").save(buffer, "PNG")
    clean = sanitize(buffer.getvalue())
    with Image.open(io.BytesIO(clean.jpeg)) as stored:
        assert (stored.format, stored.mode) == ("JPEG", "RGB")
    assert np.array_equal(_pixels(clean.jpeg), _pixels(_jpeg(clean.rgb, quality=92)))
