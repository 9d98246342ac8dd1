"""Reading an uploaded file within the configured size limit."""

from __future__ import annotations

from fastapi import UploadFile

from needlecare.web.errors import PayloadTooLargeError, UnsupportedMediaError


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
