"""Turn an upload into a clean photo: an upright JPEG without any metadata.

An upright JPEG upload (YCbCr or RGB coded, baseline or progressive; of an MPO only its first picture) is
stored losslessly: its own compressed data are copied with every metadata segment removed
(:func:`~needlecare.imaging.jpeg_strip.strip_jpeg_metadata`): no EXIF, GPS, XMP, maker note or embedded
preview survives, while the JFIF header, ICC profile and Adobe colour-transform segment are kept, and the copy
decodes to exactly the same pixels as the upload. A second lossy generation would move the measured redness
(up to 0.002 OD_hb, more for heavily compressed uploads), and the stored copy is what the analysis job
measures.

Everything else is re-encoded as a quality-92 JPEG of the upright sRGB pixels, which keeps nothing but the
picture either: other formats (HEIC, PNG, WebP, TIFF), CMYK/YCCK or otherwise unusual JPEGs, and JPEGs whose
EXIF orientation is not 1. Those are turned upright by re-encoding the turned pixels, not by a lossless
rotation of the DCT blocks, which would need whole blocks at the right and bottom edges.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PIL import Image

from needlecare.hints import ImageU8
from needlecare.imaging.errors import PhotoError
from needlecare.imaging.jpeg_strip import strip_jpeg_metadata
from needlecare.web.errors import PayloadTooLargeError, UnprocessableError, UnsupportedMediaError, WebError

if TYPE_CHECKING:
    from needlecare.imaging.loading import LoadedPhoto

#: Upload formats accepted from phones (Pillow format names; HEIF covers HEIC).
ACCEPTED_FORMATS = ("JPEG", "PNG", "HEIF")
#: JPEG quality of a re-encoded stored copy (visually lossless for skin-tone photos).
STORED_JPEG_QUALITY = 92
#: Shorter side of the first, reduced decode of a JPEG (libjpeg-turbo's DCT scaling still reads every
#: block, so a damaged file is found): an upright JPEG is stored without ever being decoded in full.
SCAN_MIN_SIDE = 512


@dataclass(frozen=True)
class CleanPhoto:
    """A sanitised upload: ``jpeg`` is what gets stored, ``rgb`` the (H, W, 3) uint8 sRGB pixels in it (for a
    losslessly stored JPEG, at a reduced DCT scale)."""

    jpeg: bytes
    rgb: ImageU8
    #: The upload's JPEG colour quantisation step (see :class:`~needlecare.imaging.loading.LoadedPhoto`);
    #: a re-encoded stored copy has quality 92, so only the upload itself tells how compressed it was.
    chroma_step: float | None = None
    #: (width, height) of the stored picture when ``rgb`` is a reduced decode of it.
    full_size: tuple[int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the stored picture in pixels."""
        if self.full_size is not None:
            return self.full_size
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


def photo_error_to_http(error: PhotoError) -> WebError:
    """Map the imaging core's error codes to HTTP: unreadable 415, too large 413, unmeasurable 422."""
    if error.code in ("not_an_image", "corrupt", "unsupported"):
        return UnsupportedMediaError(error.message)
    if error.code == "too_large":
        return PayloadTooLargeError(error.message)
    return UnprocessableError(error.message)


def sanitize(data: bytes) -> CleanPhoto:
    """Decode *data* (JPEG, PNG or HEIC), honour its EXIF orientation, and store the picture alone.

    An upright JPEG keeps its own compressed data without the metadata; anything else is re-encoded at
    quality 92 (see the module docstring).

    Raises
    ------
    UnsupportedMediaError
        Not an image, a damaged one, or a format other than JPEG, PNG or HEIC (HTTP 415).
    PayloadTooLargeError
        Pixel dimensions beyond what a photo can have (HTTP 413).
    """
    from needlecare.imaging.loading import load_photo

    try:
        loaded = load_photo(data, min_side=SCAN_MIN_SIDE)  # other formats than JPEG decode in full anyway
    except PhotoError as exc:
        raise photo_error_to_http(exc) from exc
    if loaded.format not in ACCEPTED_FORMATS:
        raise UnsupportedMediaError(
            f"This is a {loaded.format} file; please upload a JPEG, PNG or HEIC photo."
        )
    jpeg = _lossless_copy(data, loaded)
    if jpeg is not None:
        width, height = (int(n) for n in loaded.full_size)
        return CleanPhoto(
            jpeg=jpeg, rgb=loaded.rgb, chroma_step=loaded.chroma_step, full_size=(width, height)
        )
    if loaded.scale != 1.0:  # re-encoding needs every pixel
        try:
            loaded = load_photo(data)
        except PhotoError as exc:
            raise photo_error_to_http(exc) from exc
    return CleanPhoto(jpeg=_reencode(loaded.rgb), rgb=loaded.rgb, chroma_step=loaded.chroma_step)


def _lossless_copy(data: bytes, loaded: LoadedPhoto) -> bytes | None:
    """The upload without its metadata if it is an upright JPEG (None otherwise).

    It decodes to the very same pixels by construction: the entropy-coded data and every segment that the
    decoder or the colour conversion reads (tables, frame, JFIF, ICC, Adobe) are copied unchanged, and the
    only metadata that changes the picture, the EXIF orientation, is 1.
    """
    if loaded.format != "JPEG" or loaded.orientation != 1:
        return None
    return strip_jpeg_metadata(data)


def _reencode(rgb: ImageU8) -> bytes:
    """Upright sRGB pixels as a quality-92 JPEG without metadata."""
    buffer = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buffer, format="JPEG", quality=STORED_JPEG_QUALITY)
    return buffer.getvalue()
