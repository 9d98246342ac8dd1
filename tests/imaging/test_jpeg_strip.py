"""Removing a JPEG's metadata segments keeps its compressed picture byte for byte."""

from __future__ import annotations

import numpy as np
from loading_samples import colourful, encode

from needlecare.imaging.jpeg_strip import strip_jpeg_metadata
from needlecare.imaging.loading import load_photo


def _segment(code: int, payload: bytes) -> bytes:
    return bytes([0xFF, code]) + (len(payload) + 2).to_bytes(2, "big") + payload


def test_jfif_thumbnail_and_data_after_eoi_are_dropped() -> None:
    plain = encode(colourful(64, 48), "JPEG", quality=90)
    app0_end = 4 + int.from_bytes(plain[4:6], "big")
    assert app0_end == 20  # Pillow's JFIF header without thumbnail
    thumbnail = plain[6:18] + b"\x01\x01" + b"\x10\x20\x30"  # a 1x1 RGB thumbnail
    with_thumbnail = plain[:2] + _segment(0xE0, thumbnail) + plain[app0_end:] + b"trailing bytes"
    stripped = strip_jpeg_metadata(with_thumbnail)
    assert stripped == plain
    assert np.array_equal(load_photo(stripped).rgb, load_photo(with_thumbnail).rgb)


def test_restart_markers_and_jfxx_extension() -> None:
    plain = encode(colourful(64, 48), "JPEG", quality=90, restart_marker_blocks=1)
    assert b"\xff\xdd" in plain  # DRI
    assert b"\xff\xd0" in plain  # RST0
    jfxx = _segment(0xE0, b"JFXX\x00\x10\x01\x01\x10\x20\x30")
    assert strip_jpeg_metadata(plain[:20] + jfxx + plain[20:]) == plain


def test_unusual_or_damaged_jpegs_are_not_stripped() -> None:
    plain = encode(colourful(64, 48), "JPEG", quality=90)
    arithmetic = plain.replace(b"\xff\xc0", b"\xff\xc9", 1)  # SOF9: arithmetic-coded frame
    twelve_bit = plain.replace(b"\xff\xc0\x00\x11\x08", b"\xff\xc0\x00\x11\x0c", 1)
    assert twelve_bit != plain
    for data in (plain[:-2], arithmetic, twelve_bit, b"\x89PNG\r\n\x1a\n"):
        assert strip_jpeg_metadata(data) is None
