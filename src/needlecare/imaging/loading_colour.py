"""Bring a decoded Pillow image to 8-bit sRGB and recognise photos without colour.

Used by :mod:`needlecare.imaging.loading`. Every conversion that changes the data appends a human-readable
note to the list it is given.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageCms

from needlecare.hints import ImageU8
from needlecare.imaging.errors import UnsupportedImageError

__all__ = ["GRAY_MODES", "GRAY_TOLERANCE", "grayscale_error", "is_grayscale", "to_srgb"]

#: Pillow modes that carry one intensity channel (with or without alpha): nothing to measure redness on.
GRAY_MODES = frozenset({"1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "I;16N", "F"})

#: Largest difference (8-bit levels) between the channels of a pixel that still counts as gray. A colour
#: photo converted to gray and re-encoded keeps R = G = B up to rounding in the encoder and in colour
#: management (1-2 levels); real skin differs by tens of levels between R and G.
GRAY_TOLERANCE = 2

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "PA", "LA", "La"})
_SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
#: Pixels sampled per axis stride in the quick gray pre-check before a full check.
_GRAY_SAMPLE_STRIDE = 16


def grayscale_error() -> UnsupportedImageError:
    """The patient-facing error for a black-and-white photo."""
    return UnsupportedImageError(
        "The photo is black and white (grayscale), so there is no colour to measure. "
        "Please send a colour photo, with no black-and-white filter."
    )


def is_grayscale(rgb: ImageU8) -> bool:
    """Whether every pixel has R, G and B within :data:`GRAY_TOLERANCE` of each other.

    Parameters
    ----------
    rgb : ImageU8
        (H, W, 3) uint8 image.

    Returns
    -------
    bool
        True for a colour photo converted to gray (or a gray picture stored as RGB). A strided sample is
        checked first, so colour photos are recognised without scanning every pixel.
    """
    sample = rgb[::_GRAY_SAMPLE_STRIDE, ::_GRAY_SAMPLE_STRIDE]
    if _channel_spread(sample) > GRAY_TOLERANCE:
        return False
    return _channel_spread(rgb) <= GRAY_TOLERANCE


def _channel_spread(rgb: ImageU8) -> int:
    """Largest max - min over the three channels of any pixel (0-255)."""
    if rgb.size == 0:
        return 0
    return int((rgb.max(axis=2) - rgb.min(axis=2)).max())


def to_srgb(im: Image.Image, notes: list[str]) -> Image.Image:
    """Convert a loaded image of any colour mode to an RGB image in sRGB.

    Parameters
    ----------
    im : PIL.Image.Image
        A loaded (decoded) image, not grayscale (see :data:`GRAY_MODES`). Its ``info["icc_profile"]``, if
        present, describes its colours.
    notes : list of str
        Receives one note per conversion that changed the data (alpha dropped, palette expanded, ICC
        profile applied, CMYK converted).

    Returns
    -------
    PIL.Image.Image
        Mode "RGB", sRGB-encoded; may be ``im`` itself when no conversion was needed.

    Raises
    ------
    UnsupportedImageError
        For colour modes that cannot be converted to RGB.
    """
    icc = im.info.get("icc_profile")
    if im.mode in ("P", "PA"):
        has_alpha = im.mode == "PA" or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
        if has_alpha:
            notes.append("transparency dropped")
            im = im.convert("RGB")
    if im.mode in _ALPHA_MODES or im.mode == "RGBX":
        if im.mode != "RGBX":
            notes.append("alpha channel dropped")
        im = im.convert("RGB")
    if isinstance(icc, bytes) and icc and im.mode in ("RGB", "CMYK"):
        im = _apply_icc(im, icc, notes)
    if im.mode == "CMYK":
        notes.append("converted from CMYK without a colour profile (colours approximate)")
        im = im.convert("RGB")
    elif im.mode != "RGB":
        try:
            im = im.convert("RGB")
        except ValueError as exc:
            raise UnsupportedImageError(
                f"The photo uses a colour format we cannot read ({im.mode}). "
                "Please send it as an ordinary JPEG or PNG colour photo."
            ) from exc
        notes.append(f"converted from {im.mode} to RGB")
    return im


def _apply_icc(im: Image.Image, icc: bytes, notes: list[str]) -> Image.Image:
    """Convert ``im`` (RGB or CMYK) from its embedded ICC profile to sRGB; fall back with a note."""
    try:
        transform, name = _transform_to_srgb(icc, im.mode)
    except (OSError, ValueError, ImageCms.PyCMSError):
        notes.append("colour profile unreadable and ignored: colours assumed to be sRGB")
        return im
    if transform is None:
        if name:
            notes.append(f"ICC profile '{name}' does not match the image's colours and was ignored")
        return im
    out = ImageCms.applyTransform(im, transform)
    assert out is not None  # applyTransform returns None only with inPlace=True
    if im.mode == "CMYK":
        notes.append(f"converted from CMYK with ICC profile '{name}' to sRGB")
    else:
        notes.append(f"ICC profile '{name}' converted to sRGB")
    return out


@functools.lru_cache(maxsize=16)
def _transform_to_srgb(icc: bytes, mode: str) -> tuple[ImageCms.ImageCmsTransform | None, str]:
    """A cached lcms transform from the profile ``icc`` (for Pillow ``mode``) to sRGB.

    Returns ``(None, "")`` when the profile already is sRGB (nothing to do) and ``(None, name)`` when the
    profile's colour space does not match the mode. Relative colorimetric intent: measurement wants the
    colours themselves, not a perceptual gamut mapping.
    """
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    name = (ImageCms.getProfileDescription(profile) or "unnamed").strip()
    space = profile.profile.xcolor_space.strip()
    if space != ("RGB" if mode == "RGB" else "CMYK"):
        return None, name
    if mode == "RGB" and "srgb" in name.lower():
        return None, ""
    transform = ImageCms.buildTransform(
        profile, _SRGB_PROFILE, mode, "RGB", renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC
    )
    return transform, name
