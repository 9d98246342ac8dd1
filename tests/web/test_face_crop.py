"""Photos shown cropped to the face: the square around the analysed face box, decoded at reduced scale."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from needlecare.storage.photo_analysis import parse_analysis
from needlecare.web.photos.face_crop import MARGIN, SIZE, crop_box, face_jpeg


def test_the_crop_is_a_square_around_the_face_clipped_to_the_photo() -> None:
    assert crop_box((400, 300, 200, 200), 2000, 1500) == (310, 210, 690, 590)
    left, top, right, bottom = crop_box((10, 10, 200, 100), 300, 300)
    assert (left, top) == (0, 0)
    assert right == round(110 + 200 * (1 + 2 * MARGIN) / 2)
    assert bottom == round(60 + 200 * (1 + 2 * MARGIN) / 2)


def test_a_large_photo_gives_the_face_at_page_size(tmp_path: Path) -> None:
    width, height = 4032, 3024
    image = np.zeros((height, width, 3), np.uint8)
    image[1000:1800, 1600:2400] = (200, 120, 100)  # the "face": an 800 px square
    path = tmp_path / "photo.jpg"
    Image.fromarray(image).save(path, quality=92)
    data = face_jpeg(path, parse_analysis({"face": {"box": [1600, 1000, 800, 800]}}))
    assert data is not None
    face = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    assert face.shape[:2] == (SIZE, SIZE)
    centre = (
        face[SIZE // 2 - 20 : SIZE // 2 + 20, SIZE // 2 - 20 : SIZE // 2 + 20].reshape(-1, 3).mean(axis=0)
    )
    assert np.allclose(centre, (200, 120, 100), atol=6)
    corner = face[:20, :20].reshape(-1, 3).mean(axis=0)
    assert corner.max() < 10  # the margin around the face is the dark background
    assert face_jpeg(path, parse_analysis({"face": {}})) is None
    assert face_jpeg(path, None) is None
