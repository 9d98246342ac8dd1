"""Photo size decided from the file header, before any pixel is decoded."""

from __future__ import annotations

import io
import warnings

from PIL import Image, UnidentifiedImageError

from needlecare.web.errors import PayloadTooLargeError


def header_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) as the file's header states them; None when Pillow cannot read a header.

    Only the header is parsed (Pillow opens lazily); HEIC is read by pillow-heif's opener when it is
    registered.
    """
    import needlecare.imaging.loading  # noqa: F401  (registers the HEIC opener)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        try:
            with Image.open(io.BytesIO(data)) as im:
                width, height = im.size
        except Image.DecompressionBombError:
            return (2**31, 1)  # Pillow refuses to even open it: far beyond any limit
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None
    return int(width), int(height)


def check_megapixels(data: bytes, max_megapixels: float) -> None:
    """Refuse (413) a photo whose header states more than *max_megapixels* million pixels.

    Raises
    ------
    PayloadTooLargeError
        The photo has more pixels than allowed.
    """
    size = header_size(data)
    if size is None:
        return  # not readable as an image: the decoder answers 415
    width, height = size
    if width * height > max_megapixels * 1_000_000:
        raise PayloadTooLargeError(
            f"The photo has {width} x {height} pixels ({width * height / 1e6:.0f} megapixels); the limit is "
            f"{max_megapixels:g} megapixels. Use your phone's normal photo size."
        )
