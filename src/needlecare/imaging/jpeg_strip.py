"""Remove the metadata of a JPEG without touching its compressed picture.

The marker segments (:func:`~needlecare.imaging.loading_integrity.jpeg_segments`) are copied one by one:
what a decoder needs to reproduce the pixels and their colours is kept, everything else is dropped. The
entropy-coded data are copied byte for byte, so the picture decodes to exactly the same pixels as before.

Kept: SOI, the APP0 JFIF header (without its thumbnail), the APP2 ICC profile segments in order, the APP14
Adobe segment (it tells RGB from YCbCr coding) and every non-APP segment (DQT, DHT, SOF, DRI, SOS with its
scan data, RSTn, DNL, ..., EOI). Dropped: every other APPn (EXIF with GPS, XMP, IPTC/Photoshop, MPF, maker
notes, JFXX thumbnails, ...), COM segments, and everything after the first picture's EOI (the other pictures
of an MPO file).
"""

from __future__ import annotations

from needlecare.imaging.errors import CorruptImageError
from needlecare.imaging.loading_integrity import JpegSegment, jpeg_segments

__all__ = ["strip_jpeg_metadata"]

_SOI = b"\xff\xd8"
_SOS = 0xDA
_APP0, _APP2, _APP14, _APP15 = 0xE0, 0xE2, 0xEE, 0xEF
_COM = 0xFE
#: Start-of-frame markers of the Huffman-coded, 8-bit processes: baseline, extended sequential, progressive.
_HUFFMAN_SOF = frozenset({0xC0, 0xC1, 0xC2})
#: Every start-of-frame marker (ITU-T T.81, table B.1): C0-CF except DHT (C4), JPG (C8) and DAC (CC).
_ANY_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: The APPn segments kept, by marker and the identifier their payload starts with.
_KEPT_APP = {_APP0: b"JFIF\x00", _APP2: b"ICC_PROFILE\x00", _APP14: b"Adobe"}
#: Bytes of the JFIF APP0 payload before its optional thumbnail: identifier, version, units, densities,
#: thumbnail width and height (JFIF 1.02, section "JFIF file syntax").
_JFIF_HEADER = 14


def strip_jpeg_metadata(data: bytes) -> bytes | None:
    """The first picture of a JPEG with all metadata removed and its compressed data unchanged.

    Parameters
    ----------
    data : bytes
        A whole JPEG (or MPO) file.

    Returns
    -------
    bytes or None
        A new JPEG file holding only the segments listed in the module docstring, or None if *data* is not
        an 8-bit Huffman-coded (baseline, extended or progressive) JPEG with three colour components
        (YCbCr or RGB), or its structure is damaged. CMYK/YCCK, lossless, arithmetic-coded and 12-bit
        JPEGs give None.
    """
    try:
        segments = list(jpeg_segments(data))
    except CorruptImageError:
        return None
    frames = [seg for seg in segments if seg.code in _ANY_SOF]
    if len(frames) != 1 or not _is_three_component_huffman(data, frames[0]):
        return None
    parts = [_SOI]
    parts.extend(_kept(data, seg) for seg in segments if _is_kept(data, seg))
    return b"".join(parts)


def _is_three_component_huffman(data: bytes, frame: JpegSegment) -> bool:
    """Whether a SOF segment is a Huffman-coded process with 8-bit samples and three components."""
    if frame.code not in _HUFFMAN_SOF or frame.end - frame.start < 10:
        return False
    precision, components = data[frame.start + 4], data[frame.start + 9]
    return precision == 8 and components == 3


def _is_kept(data: bytes, seg: JpegSegment) -> bool:
    """Whether a segment is needed to decode the picture with its colours (see the module docstring)."""
    if seg.code == _COM:
        return False
    if not _APP0 <= seg.code <= _APP15:
        return True
    identifier = _KEPT_APP.get(seg.code)
    payload = seg.start + 4
    return identifier is not None and data[payload : payload + len(identifier)] == identifier


def _kept(data: bytes, seg: JpegSegment) -> bytes:
    """The bytes of a kept segment; a JFIF APP0 is cut to its header and told it has no thumbnail."""
    if seg.code != _APP0 or seg.end - seg.start < 4 + _JFIF_HEADER:
        return data[seg.start : seg.end]
    header = bytearray(data[seg.start : seg.start + 4 + _JFIF_HEADER])
    header[2:4] = (2 + _JFIF_HEADER).to_bytes(2, "big")
    header[-2:] = b"\x00\x00"
    return bytes(header)
