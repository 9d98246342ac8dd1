"""Errors raised for photos that cannot be measured.

Each error carries a stable machine-readable ``code`` (part of the ``analyze --json`` contract) and a message
written for the person who took the photo.
"""

from __future__ import annotations

from typing import ClassVar


class PhotoError(Exception):
    """A photo that cannot be measured. ``code`` is one of the contract's error codes."""

    code: ClassVar[str] = "unsupported"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The ``error`` object of the ``analyze --json`` contract."""
        return {"code": self.code, "message": self.message}


class NotAnImageError(PhotoError):
    """The data is not an image in any format we read."""

    code = "not_an_image"


class CorruptImageError(PhotoError):
    """The file looks like an image but is truncated or damaged."""

    code = "corrupt"


class TooLargeError(PhotoError):
    """Dimensions or pixel count beyond what a photo can plausibly have (decompression bombs)."""

    code = "too_large"


class NoFaceError(PhotoError):
    """No face could be found."""

    code = "no_face"


class UnsupportedImageError(PhotoError):
    """A readable image that cannot be measured (grayscale, unsupported mode or format)."""

    code = "unsupported"


ERROR_CODES: tuple[str, ...] = ("not_an_image", "corrupt", "too_large", "no_face", "unsupported")
