"""Turn an upload into a clean photo: upright sRGB pixels re-encoded as a JPEG without any metadata.

Re-encoding the pixels (instead of editing tags) guarantees that no EXIF, GPS, XMP, maker note or embedded
preview survives: the stored file holds nothing but the picture.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image

from needlecare.hints import ImageU8
from needlecare.imaging.errors import PhotoError
from needlecare.web.errors import PayloadTooLargeError, UnprocessableError, UnsupportedMediaError, WebError

#: Upload formats accepted from phones (Pillow format names; HEIF covers HEIC).
ACCEPTED_FORMATS = ("JPEG", "PNG", "HEIF")
#: JPEG quality of the stored copy (visually lossless for skin-tone photos).
STORED_JPEG_QUALITY = 92


@dataclass(frozen=True)
class CleanPhoto:
    """A sanitised upload: ``jpeg`` is what gets stored, ``rgb`` the (H, W, 3) uint8 sRGB pixels in it."""

    jpeg: bytes
    rgb: ImageU8
    #: The upload's JPEG colour quantisation step (see :class:`~needlecare.imaging.loading.LoadedPhoto`);
    #: the stored copy is re-encoded at quality 92, so only the upload itself tells how compressed it was.
    chroma_step: float | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def photo_error_to_http(error: PhotoError) -> WebError:
    """Map the imaging core's error codes to HTTP: unreadable 415, too large 413, unmeasurable 422."""
    if error.code in ("not_an_image", "corrupt", "unsupported"):
        return UnsupportedMediaError(error.message)
    if error.code == "too_large":
        return PayloadTooLargeError(error.message)
    return UnprocessableError(error.message)


def sanitize(data: bytes) -> CleanPhoto:
    """Decode *data* (JPEG, PNG or HEIC), honour its EXIF orientation, and re-encode the pixels alone.

    Raises
    ------
    UnsupportedMediaError
        Not an image, a damaged one, or a format other than JPEG, PNG or HEIC (HTTP 415).
    PayloadTooLargeError
        Pixel dimensions beyond what a photo can have (HTTP 413).
    """
    from needlecare.imaging.loading import load_photo

    try:
        loaded = load_photo(data)
    except PhotoError as exc:
        raise photo_error_to_http(exc) from exc
    if loaded.format not in ACCEPTED_FORMATS:
        raise UnsupportedMediaError(
            f"This is a {loaded.format} file; please upload a JPEG, PNG or HEIC photo."
        )
    buffer = io.BytesIO()
    Image.fromarray(loaded.rgb, mode="RGB").save(buffer, format="JPEG", quality=STORED_JPEG_QUALITY)
    return CleanPhoto(jpeg=buffer.getvalue(), rgb=loaded.rgb, chroma_step=loaded.chroma_step)
