"""Structural checks of JPEG and PNG files that the decoders themselves do not make.

libjpeg treats damaged entropy-coded data as a warning and returns a garbled picture, and Pillow skips the
CRCs of PNG image-data chunks, so a photo damaged in transfer can decode "successfully". These checks read
only the container structure (markers, chunk lengths and CRCs), never pixels, and run in a few milliseconds
on a 12-MP photo.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from needlecare.imaging.errors import CorruptImageError

__all__ = ["JpegSegment", "check_jpeg_structure", "check_png_structure", "corrupt_error", "jpeg_segments"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_EOI = 0xD9
_SOS = 0xDA
_RST0, _RST7 = 0xD0, 0xD7
_TEM = 0x01
#: Markers that may legitimately follow the entropy-coded data of a scan: EOI, DHT, DAC, DQT, DRI, SOS, DNL,
#: APPn and COM (ITU-T T.81, B.2.4 and B.6). Anything else there means the scan data is damaged.
_AFTER_SCAN = frozenset({_EOI, 0xC4, 0xCC, 0xDB, 0xDD, _SOS, 0xDC, *range(0xE0, 0xF0), 0xFE})


def corrupt_error(detail: str) -> CorruptImageError:
    """The patient-facing error for a damaged photo; ``detail`` says what is wrong, in plain words."""
    return CorruptImageError(
        f"The photo file is damaged or incomplete ({detail}). "
        "Please send the photo again, ideally the original from your camera or gallery."
    )


@dataclass(frozen=True)
class JpegSegment:
    """One marker segment of a JPEG, located in the file's bytes.

    Attributes
    ----------
    code : int
        The marker code, the byte after ``FF`` (``0xDA`` for SOS, ``0xE1`` for APP1, ...).
    start : int
        Offset of the marker's ``FF`` byte (after any fill bytes before it).
    end : int
        Offset just past the segment: past its length-counted payload, for SOS also past the entropy-coded
        data and restart markers that follow it, for standalone markers (EOI, RSTn, TEM) past the marker.
    """

    code: int
    start: int
    end: int


def jpeg_segments(data: bytes) -> Iterator[JpegSegment]:
    """Walk the marker segments of a JPEG and the markers inside its entropy-coded scans.

    Parameters
    ----------
    data : bytes
        The whole file, starting with the SOI marker ``FF D8``. Only the first picture of a multi-picture
        (MPO) file is walked: the last segment yielded is the first EOI marker.

    Yields
    ------
    JpegSegment
        Every segment after SOI, in file order, up to and including EOI. Extraneous bytes between segments
        and fill bytes are not part of any segment.

    Raises
    ------
    CorruptImageError
        If a segment runs past the end of the data, the file ends before EOI, restart markers are out of
        sequence, or a marker that cannot follow scan data appears in it (bit errors in the scan data).
    """
    n = len(data)
    if n < 4 or data[0] != 0xFF or data[1] != 0xD8:
        raise corrupt_error("the JPEG start marker is missing")
    markers = _scan_markers(data)
    pos = 2
    while True:
        while pos < n and data[pos] != 0xFF:  # extraneous bytes before a marker: libjpeg skips them too
            pos += 1
        while pos + 1 < n and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        if pos + 1 >= n:
            raise corrupt_error("the file ends before the end of the image")
        code = data[pos + 1]
        if code in (_EOI, _TEM) or _RST0 <= code <= _RST7:
            yield JpegSegment(code, pos, pos + 2)
            if code == _EOI:
                return
            pos += 2
            continue
        seg_end = _segment_end(data, pos)
        if code == _SOS:
            seg_end = _skip_scan(*markers, seg_end)
            if seg_end < 0:
                raise corrupt_error("the file ends before the end of the image")
            if data[seg_end + 1] not in _AFTER_SCAN:
                raise corrupt_error("the image data contains damaged bytes")
        yield JpegSegment(code, pos, seg_end)
        pos = seg_end


def check_jpeg_structure(data: bytes) -> None:
    """Walk the marker segments of a JPEG (:func:`jpeg_segments`) up to its first EOI marker.

    Parameters
    ----------
    data : bytes
        The whole file, starting with the SOI marker ``FF D8``. Only the first picture of a multi-picture
        (MPO) file is checked: the walk stops at the first EOI marker.

    Raises
    ------
    CorruptImageError
        If a segment runs past the end of the data, the file ends before EOI, restart markers are out of
        sequence, or a marker that cannot follow scan data appears in it (bit errors in the scan data).
    """
    for _ in jpeg_segments(data):
        pass


def _segment_end(data: bytes, pos: int) -> int:
    """End of the length-counted segment whose marker is at ``pos``; raises if it runs past the data."""
    if pos + 4 > len(data):
        raise corrupt_error("the file ends before the end of the image")
    length = (data[pos + 2] << 8) | data[pos + 3]
    seg_end = pos + 2 + length
    if length < 2 or seg_end > len(data):
        raise corrupt_error("the file ends before the end of the image")
    return seg_end


def _scan_markers(
    data: bytes,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.uint8], npt.NDArray[np.intp]]:
    """Positions and codes of every marker in ``data`` and the indices of those that are not RSTn."""
    buf = np.frombuffer(data, dtype=np.uint8)
    ff = np.flatnonzero(buf[:-1] == 0xFF)
    following = buf[ff + 1]
    # 0xFF 0x00 is a stuffed data byte and 0xFF 0xFF is fill: neither is a marker.
    is_marker = (following != 0x00) & (following != 0xFF)
    marker_pos = ff[is_marker]
    marker_code = following[is_marker]
    not_rst = np.flatnonzero((marker_code < _RST0) | (marker_code > _RST7))
    return marker_pos, marker_code, not_rst


def _skip_scan(
    marker_pos: npt.NDArray[np.intp],
    marker_code: npt.NDArray[np.uint8],
    not_rst: npt.NDArray[np.intp],
    start: int,
) -> int:
    """Position of the first non-RST marker at or after ``start`` (-1 if none); checks the RST sequence."""
    first = int(np.searchsorted(marker_pos, start))
    k = int(np.searchsorted(not_rst, first))
    if k >= len(not_rst):
        return -1
    end = int(not_rst[k])
    rst = marker_code[first:end].astype(np.int64) - _RST0
    if rst.size and not np.array_equal(rst, np.arange(rst.size) % 8):
        raise corrupt_error("the image data contains damaged bytes")
    return int(marker_pos[end])


def check_png_structure(data: bytes) -> None:
    """Check the length and CRC-32 of every PNG chunk up to IEND.

    Parameters
    ----------
    data : bytes
        The whole file, starting with the 8-byte PNG signature.

    Raises
    ------
    CorruptImageError
        If a chunk runs past the end of the data or its CRC does not match (any damaged byte in the file).
        A file that ends cleanly between chunks without IEND is left to the decoder, which reports missing
        image data itself.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise corrupt_error("the PNG signature is damaged")
    view = memoryview(data)
    n = len(data)
    pos = len(PNG_SIGNATURE)
    while pos < n:
        if pos + 12 > n:
            raise corrupt_error("the file ends before the end of the image")
        length = int.from_bytes(view[pos : pos + 4], "big")
        end = pos + 12 + length
        if length > 0x7FFFFFFF or end > n:
            raise corrupt_error("the file ends before the end of the image")
        crc = int.from_bytes(view[end - 4 : end], "big")
        if zlib.crc32(view[pos + 4 : end - 4]) != crc:
            raise corrupt_error("a checksum does not match: some bytes were changed")
        if data[pos + 4 : pos + 8] == b"IEND":
            return
        pos = end
