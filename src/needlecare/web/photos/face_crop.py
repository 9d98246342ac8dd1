"""The face of a stored photo, cropped and scaled for the page: the same framing for every photo of a
treatment, so that before/after pairs and the capture guide show the face, not the room around it.

The crop is a square around the face box the analysis found (pixels of the stored upright copy), widened by
:data:`MARGIN` of the box on each side and clipped to the photo. JPEGs are decoded at the largest DCT
reduction that still gives :data:`SIZE` pixels across the crop (libjpeg's draft mode), so a 12-MP photo costs
a fraction of a full decode.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from needlecare.storage.photo_analysis import PhotoAnalysis

#: Side of the cropped picture in pixels.
SIZE = 640
#: Margin around the face box on each side, as a fraction of the box size.
MARGIN = 0.45


def crop_box(box: list[int] | tuple[int, ...], width: int, height: int) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of the square crop around face *box* ``(x, y, w, h)``, clipped.

    Examples
    --------
    >>> crop_box((100, 100, 100, 100), 1000, 1000)
    (55, 55, 245, 245)
    """
    x, y, w, h = (float(v) for v in box)
    side = max(w, h) * (1 + 2 * MARGIN)
    cx, cy = x + w / 2, y + h / 2
    left, top = max(0.0, cx - side / 2), max(0.0, cy - side / 2)
    right, bottom = min(float(width), cx + side / 2), min(float(height), cy + side / 2)
    return round(left), round(top), round(right), round(bottom)


def face_jpeg(path: Path, analysis: PhotoAnalysis | None) -> bytes | None:
    """The face crop of the photo at *path* as JPEG bytes, or None when the analysis found no face box."""
    box = None if analysis is None or analysis.face is None else analysis.face.box
    if box is None:
        return None
    with Image.open(path) as image:
        width, height = image.size
        left, top, right, bottom = crop_box(box, width, height)
        if right - left < 2 or bottom - top < 2:
            return None
        scale = max(1.0, (right - left) / SIZE)
        image.draft("RGB", (max(1, round(width / scale)), max(1, round(height / scale))))
        factor = width / image.size[0]
        region = (left / factor, top / factor, right / factor, bottom / factor)
        face = image.convert("RGB").crop(tuple(round(v) for v in region))  # type: ignore[arg-type]
        face.thumbnail((SIZE, SIZE))
        out = io.BytesIO()
        face.save(out, format="JPEG", quality=88)
        return out.getvalue()
