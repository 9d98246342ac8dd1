"""Reading an uploaded file within the configured size limits (bytes and megapixels)."""

from __future__ import annotations

from fastapi import UploadFile

from needlecare.settings import Settings
from needlecare.web.errors import PayloadTooLargeError, UnsupportedMediaError
from needlecare.web.photos.limits import check_megapixels


def read_limited(file: UploadFile, limit: int) -> bytes:
    """The upload's bytes; :class:`PayloadTooLargeError` (413) past *limit* bytes, 415 when empty."""
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLargeError(
            f"The photo is larger than the {limit / (1024 * 1024):.0f} MB limit. "
            "Use your phone's normal photo size (not RAW or maximum resolution)."
        )
    if not data:
        raise UnsupportedMediaError("The upload was empty; please choose a JPEG, PNG or HEIC photo.")
    return data


def read_upload(file: UploadFile, settings: Settings) -> bytes:
    """The upload's bytes within both limits of *settings*: bytes, and megapixels as the header states them.

    Nothing is decoded here: a photo over either limit is refused (413) before any decoder runs.
    """
    data = read_limited(file, settings.web.max_upload_bytes)
    check_megapixels(data, settings.web.max_upload_megapixels)
    return data
