"""Load a photo (file, bytes or array) as an upright 8-bit sRGB array, refusing what cannot be measured.

Everything that can be decided from the file header (format, dimensions, grayscale modes) is checked before
any pixel is decoded. JPEGs are decoded at reduced resolution with DCT scaling when the caller needs fewer
pixels (``min_side``), which is several times faster on 12-MP phone photos. JPEGs coded as YCbCr are decoded
by simplejpeg (libjpeg-turbo with its SIMD code, straight into a numpy array: the same pixels as Pillow's
decoder at every DCT scale, in about a third of the time at full size); Pillow decodes everything else.
"""

from __future__ import annotations

import functools
import io
import os
import struct
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pillow_heif
import simplejpeg
from PIL import Image, ImageFile, UnidentifiedImageError

from needlecare.hints import ImageU8
from needlecare.imaging.errors import NotAnImageError, TooLargeError, UnsupportedImageError
from needlecare.imaging.jpeg_chroma import (
    ChromaGrid,
    chroma_grid,
    exact_block_means,
    restore_block_means,
    ycbcr_to_rgb,
)
from needlecare.imaging.loading_colour import GRAY_MODES, grayscale_error, is_grayscale, to_srgb
from needlecare.imaging.loading_integrity import (
    PNG_SIGNATURE,
    check_jpeg_structure,
    check_png_structure,
    corrupt_error,
)

__all__ = ["MAX_FILE_BYTES", "MAX_PIXELS", "MAX_SIDE", "MIN_SIDE", "LoadedPhoto", "load_photo"]

#: Largest pixel count accepted, checked from the header before decoding. Phones save 12-50 MP by default
#: and 108 MP in their high-resolution modes; beyond this a file is far more likely a decompression bomb
#: than a photo, and decoding it needs about 480 MB in Pillow plus 360 MB for the array.
MAX_PIXELS = 120_000_000
#: Longest side accepted, in pixels. The largest phone sensors give 16 320 px on the long side; a taller or
#: wider image is a panorama or a crafted header, not a close-up of skin.
MAX_SIDE = 20_000
#: Shortest side accepted, in pixels. Below this a face region has too few pixels to measure anything.
MIN_SIDE = 32
#: Largest file accepted, in bytes: an uncompressed 8-bit RGB TIFF at MAX_PIXELS is 360 MB.
MAX_FILE_BYTES = 400 * 1024 * 1024

#: Formats decoded, by Pillow format name. MPO is a JPEG with extra pictures (depth maps, previews).
_SUPPORTED = ("JPEG", "MPO", "PNG", "HEIF", "AVIF", "WEBP", "TIFF", "BMP")
#: Formats recognised only to say they are not supported (too few colours, or not a photo format).
_RECOGNISED = ("GIF", "PSD", "ICO", "JPEG2000", "PPM", "QOI", "DDS", "ICNS", "EPS")
_FORMAT_NAMES = {"MPO": "JPEG"}
_FRIENDLY_LIST = "JPEG, PNG, HEIC, WebP or TIFF"
#: Leading bytes of the supported formats: data starting like this but unreadable is damaged, not foreign.
_SIGNATURES = (b"\xff\xd8\xff", PNG_SIGNATURE, b"II*\x00", b"MM\x00*", b"BM")
#: ISO-BMFF brands of HEIF/HEIC/AVIF still images (bytes 8-12, after "ftyp").
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"mif1", b"msf1", b"avif", b"avis"})

#: EXIF orientation (tag 0x0112) -> the transpose that makes the stored picture upright (EXIF 2.32, 4.6.4).
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_DCT_SCALES = (8, 4, 2)
#: What decoders raise on damaged data once the header has been read.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    RuntimeError,
    struct.error,
    zlib.error,
)

pillow_heif.register_heif_opener()


@dataclass(frozen=True)
class LoadedPhoto:
    """A decoded, upright photo in 8-bit sRGB.

    Attributes
    ----------
    rgb : ImageU8
        (H, W, 3) uint8 sRGB, C-contiguous, EXIF orientation applied. Writable; for array input it is the
        caller's array itself when that was already (H, W, 3) and C-contiguous.
    scale : float
        Decoded size / full size after orientation: 1.0, or 0.5, 0.25, 0.125 for JPEGs decoded with DCT
        scaling. ``rgb.shape[1] == ceil(full_size[0] * scale)``.
    full_size : tuple of int
        (width, height) in pixels of the full-resolution image after orientation.
    format : str
        "JPEG", "PNG", "HEIF", "AVIF", "WEBP", "TIFF", "BMP" or "array".
    notes : tuple of str
        Human-readable notes on conversions that changed the data (ICC profile converted, CMYK converted,
        alpha dropped, 16-bit reduced to 8 bits).
    chroma_step : float or None
        For a JPEG coded as YCbCr: the quantisation step of its colour (the larger chroma DC step of
        :class:`~needlecare.imaging.jpeg_chroma.ChromaGrid`) in 8-bit levels of a block's mean colour
        (quality 90 -> 0.375, quality 75 -> 1.1, quality 60 -> 1.75); None for other formats and for RGB- or
        CMYK-coded JPEGs.
    orientation : int
        The EXIF orientation (1-8) that was applied to turn the file's pixels upright; 1 when the file has
        none, an invalid or unreadable one, or for array input.
    """

    rgb: ImageU8
    scale: float
    full_size: tuple[int, int]
    format: str
    notes: tuple[str, ...]
    chroma_step: float | None = None
    orientation: int = 1


def load_photo(
    source: str | os.PathLike[str] | bytes | ImageU8, *, min_side: int | None = None
) -> LoadedPhoto:
    """Decode a photo into an upright (H, W, 3) uint8 sRGB array.

    Parameters
    ----------
    source : str, os.PathLike, bytes or ImageU8
        A file path, the file's bytes, or an already decoded (H, W, 3) or (H, W, 4) uint8 sRGB array
        (alpha is dropped; arrays are never resized).
    min_side : int, optional
        Smallest shorter side (pixels) the caller needs. JPEGs are then decoded at the smallest DCT scale
        (1/2, 1/4, 1/8) whose shorter side is still >= ``min_side``; other formats are decoded in full.
        Never upscales. None (default) decodes at full resolution.

    Returns
    -------
    LoadedPhoto

    Raises
    ------
    NotAnImageError
        Missing or unreadable file, a folder, empty data, or data in no image format.
    CorruptImageError
        Truncated or damaged image data.
    TooLargeError
        More than MAX_PIXELS pixels, a side over MAX_SIDE, or a file over MAX_FILE_BYTES.
    UnsupportedImageError
        Grayscale ("no colour to measure"), smaller than MIN_SIDE, an unsupported format, colour mode,
        array shape or dtype.
    """
    if min_side is not None and min_side < 1:
        raise ValueError(f"min_side must be a positive number of pixels, got {min_side}")
    if isinstance(source, np.ndarray):
        return _from_array(source)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        data = _read_file(source)
    else:
        raise TypeError(f"load_photo() takes a path, bytes or a numpy array, not {type(source).__name__}")
    return _decode(data, min_side)


def _read_file(source: str | os.PathLike[str]) -> bytes:
    """The bytes of the file at ``source``; NotAnImageError or TooLargeError if it cannot be read."""
    path = Path(source)
    shown = os.fspath(source)
    try:
        if path.is_dir():
            raise NotAnImageError(
                f"cannot read {shown}: it is a folder, not a photo. Choose the photo file itself."
            )
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_large(f"the file is {size / 1e6:.0f} MB")
        return path.read_bytes()
    except FileNotFoundError:
        raise NotAnImageError(
            f"cannot read {shown}: no such file. Check the file name and where the photo was saved."
        ) from None
    except PermissionError:
        raise NotAnImageError(
            f"cannot read {shown}: permission denied. Copy the photo somewhere readable."
        ) from None
    except OSError as exc:
        raise NotAnImageError(
            f"cannot read {shown}: {exc.strerror or exc}. Please send the photo again."
        ) from None


def _too_large(what: str) -> TooLargeError:
    return TooLargeError(
        f"The photo is too large to process ({what}); the limit is {MAX_PIXELS // 1_000_000} megapixels and "
        f"{MAX_SIDE} pixels per side. Please send it at your camera's normal resolution or as a smaller copy."
    )


def _too_small(width: int, height: int) -> UnsupportedImageError:
    return UnsupportedImageError(
        f"The photo is too small ({width} x {height} pixels) to measure: both sides must be at least "
        f"{MIN_SIDE} pixels. Please send the original, full-size photo."
    )


def _check_dimensions(width: int, height: int) -> None:
    """TooLargeError or UnsupportedImageError for absurd or tiny header dimensions (before decoding)."""
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise _too_large(f"{width} x {height} pixels")
    if min(width, height) < MIN_SIDE:
        raise _too_small(width, height)


@functools.cache
def _open_formats() -> tuple[str, ...]:
    """Pillow format ids to try, limited to those this Pillow build has."""
    Image.init()
    return tuple(f for f in (*_SUPPORTED, *_RECOGNISED) if f in Image.OPEN)


def _open(data: bytes) -> Image.Image:
    """``Image.open`` (header only) with Pillow's bomb check turned into TooLargeError and no warning printed.

    Pillow warns above ``Image.MAX_IMAGE_PIXELS`` (89 MP) and raises above twice that; this module applies
    its own limits instead, so the warning is silenced locally (``warnings.catch_warnings`` restores the
    filters on exit; Pillow's global settings are never changed).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")  # see _decode
        try:
            return Image.open(io.BytesIO(data), formats=_open_formats())
        except Image.DecompressionBombError:
            raise _too_large("far more pixels than any camera makes") from None
        except UnidentifiedImageError:
            if data.startswith(_SIGNATURES) or (data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS):
                raise corrupt_error("its header is damaged") from None
            raise NotAnImageError(
                "This file is not a photo we can read. "
                f"Please send a {_FRIENDLY_LIST} photo from your camera."
            ) from None
        except _DECODE_ERRORS as exc:
            if "too large" in str(exc).lower():
                raise _too_large("its metadata is too large") from None
            raise corrupt_error("its header is damaged") from None


def _decode(data: bytes, min_side: int | None) -> LoadedPhoto:
    """Decode file bytes: header checks, structure check, (draft) decode, colour, orientation."""
    if not data:
        raise NotAnImageError("The file is empty (0 bytes). Please send the photo again.")
    if len(data) > MAX_FILE_BYTES:
        raise _too_large(f"the file is {len(data) / 1e6:.0f} MB")
    with _open(data) as im:
        fmt = im.format or "unknown"
        if fmt not in _SUPPORTED:
            raise UnsupportedImageError(
                f"{fmt} images are not supported for measuring. Please send the photo as {_FRIENDLY_LIST}."
            )
        width, height = im.size
        _check_dimensions(width, height)
        if im.mode in GRAY_MODES:
            raise grayscale_error()
        is_jpeg = fmt in ("JPEG", "MPO")
        grid = chroma_grid(im) if is_jpeg else None
        restore = grid is not None and grid.coarse
        if is_jpeg:
            check_jpeg_structure(data)
        elif fmt == "PNG":
            check_png_structure(data)
        notes = [f"16-bit {_FORMAT_NAMES.get(fmt, fmt)} reduced to 8 bits"] if _is_16_bit(im) else []
        if grid is not None and not restore and not notes:
            return _decode_ycbcr_jpeg(data, im, min_side, grid, notes)
        scale = 1.0
        if is_jpeg and (min_side is not None or restore):
            scale = _draft(im, min_side or max(width, height), "YCbCr" if restore else im.mode)
        with warnings.catch_warnings():
            # Malformed EXIF or text chunks make Pillow warn; the photo itself is still usable.
            warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
            decoded: Image.Image = im
            try:
                im.load()
                if restore and grid is not None:
                    decoded = _with_exact_chroma(im, data, grid, scale)
                    notes.append(
                        f"JPEG colour restored to its exact block means (step {max(grid.steps):.2f})"
                    )
            except _DECODE_ERRORS:
                raise corrupt_error("the image data ends early or is damaged") from None
            orientation = _orientation(im, notes)
        rgb, size = _upright_srgb(decoded, orientation, (width, height), notes)
    return _loaded(rgb, scale, size, fmt, notes, grid, orientation)


def _upright_srgb(
    decoded: Image.Image, orientation: int, size: tuple[int, int], notes: list[str]
) -> tuple[ImageU8, tuple[int, int]]:
    """*decoded* converted to sRGB and turned upright (EXIF *orientation*), and the photo's full *size*
    ``(width, height)`` turned with it."""
    width, height = size
    upright = to_srgb(decoded, notes)
    if orientation != 1:
        upright = upright.transpose(_ORIENTATION[orientation])
        if orientation in (5, 6, 7, 8):
            width, height = height, width
    return np.array(upright, dtype=np.uint8), (width, height)


def _loaded(
    rgb: ImageU8,
    scale: float,
    size: tuple[int, int],
    fmt: str,
    notes: list[str],
    grid: ChromaGrid | None,
    orientation: int,
) -> LoadedPhoto:
    """The :class:`LoadedPhoto` of an upright sRGB decode; UnsupportedImageError if it has no colour."""
    if is_grayscale(rgb):
        raise grayscale_error()
    return LoadedPhoto(
        rgb,
        scale,
        size,
        _FORMAT_NAMES.get(fmt, fmt),
        tuple(notes),
        chroma_step=max(grid.steps) if grid is not None else None,
        orientation=orientation,
    )


def _dct_divisor(short: int, min_side: int | None) -> int:
    """The largest DCT divisor (8, 4, 2 or 1) whose decode keeps the shorter side >= ``min_side``."""
    if min_side is None:
        return 1
    return next((s for s in _DCT_SCALES if -(-short // s) >= min_side), 1)


def _decode_ycbcr_jpeg(
    data: bytes, im: Image.Image, min_side: int | None, grid: ChromaGrid, notes: list[str]
) -> LoadedPhoto:
    """Decode a YCbCr JPEG with simplejpeg at the DCT scale ``min_side`` allows, then colour and orientation.

    ``im`` is the same file opened by Pillow (header only), which supplies the ICC profile and EXIF.
    """
    width, height = im.size
    divisor = _dct_divisor(min(width, height), min_side)
    try:
        rgb = simplejpeg.decode_jpeg(
            data, colorspace="RGB", min_height=-(-height // divisor), min_width=-(-width // divisor)
        )
    except ValueError:
        raise corrupt_error("the image data ends early or is damaged") from None
    if rgb.shape[:2] != (-(-height // divisor), -(-width // divisor)):
        raise corrupt_error("its header is damaged")
    scale = 1.0 / divisor
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")
        orientation = _orientation(im, notes)
    icc = im.info.get("icc_profile")
    size = (width, height)
    if orientation != 1 or (isinstance(icc, bytes) and icc):
        decoded = Image.fromarray(rgb, mode="RGB")
        decoded.info = dict(im.info)
        rgb, size = _upright_srgb(decoded, orientation, size, notes)
    return _loaded(rgb, scale, size, im.format or "JPEG", notes, grid, orientation)


def _orientation(im: Image.Image, notes: list[str]) -> int:
    """EXIF orientation 1-8 of a loaded image (1 if absent, invalid or unreadable, with a note then)."""
    try:
        value = im.getexif().get(0x0112, 1)
    except _DECODE_ERRORS:
        notes.append("EXIF data unreadable: orientation not applied")
        return 1
    return value if isinstance(value, int) and value in _ORIENTATION else 1


def _is_16_bit(im: Image.Image) -> bool:
    """Whether Pillow will reduce 16-bit samples to 8 bits (the tile's raw mode contains ";16")."""
    if not isinstance(im, ImageFile.ImageFile):
        return False
    for tile in im.tile:
        args = tile.args
        rawmode = args[0] if isinstance(args, tuple) and args else args
        if isinstance(rawmode, str) and ";16" in rawmode:
            return True
    return False


def _draft(im: Image.Image, min_side: int, mode: str) -> float:
    """Ask the JPEG decoder for ``mode`` ("RGB" or "YCbCr") at the smallest DCT scale whose shorter side stays
    >= ``min_side``.

    Returns the scale actually set (1.0, 0.5, 0.25 or 0.125).
    """
    width, height = im.size
    s = _dct_divisor(min(width, height), min_side)
    # Pillow picks the largest scale s' <= min(W // w, H // h); with (W // s, H // s) that is s.
    result = im.draft(mode, (max(1, width // s), max(1, height // s)))
    if result is None:
        return 1.0
    return result[1][2] / width if result[1][2] else 1.0


def _with_exact_chroma(im: Image.Image, data: bytes, grid: ChromaGrid, scale: float) -> Image.Image:
    """An RGB image from a YCbCr-decoded JPEG whose chroma blocks have their exact means
    (:mod:`needlecare.imaging.jpeg_chroma`); ``im.info`` (ICC profile, EXIF) is carried over."""
    with Image.open(io.BytesIO(data)) as small:
        small.draft("YCbCr", (max(1, small.width // 8), max(1, small.height // 8)))
        small.load()
        dc = np.asarray(small)
    exact = exact_block_means(dc, grid)
    block = (max(1, round(grid.block[0] * scale)), max(1, round(grid.block[1] * scale)))
    rgb = Image.fromarray(ycbcr_to_rgb(restore_block_means(np.asarray(im), exact, block)), mode="RGB")
    rgb.info = dict(im.info)
    return rgb


def _from_array(array: ImageU8) -> LoadedPhoto:
    """Validate an (H, W, 3) or (H, W, 4) uint8 array and wrap it, dropping alpha."""
    if array.dtype != np.uint8:
        raise UnsupportedImageError(
            f"The image array must hold 8-bit sRGB values (dtype uint8), not {array.dtype}."
        )
    if array.ndim == 2:
        raise grayscale_error()
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise UnsupportedImageError(
            f"The image array must have shape (height, width, 3) for RGB, not {array.shape}."
        )
    height, width = array.shape[:2]
    _check_dimensions(width, height)
    notes: tuple[str, ...] = ()
    if array.shape[2] == 4:
        array = array[:, :, :3]
        notes = ("alpha channel dropped",)
    rgb = np.ascontiguousarray(array)
    if is_grayscale(rgb):
        raise grayscale_error()
    return LoadedPhoto(rgb, 1.0, (width, height), "array", notes)
