"""Sample files for the loader tests, made in memory: encoded images, ICC profiles, edited headers.

The ICC profiles are written byte by byte from ICC.1:2001-04 (version 2) so that the tests do not depend on
profile files installed on the machine: an RGB matrix/TRC profile (Display P3, Adobe RGB) and a CMYK
profile whose A2B0 lookup table models inks of chosen colours.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Sequence

import colour
import numpy as np
import numpy.typing as npt
from PIL import Image

D50 = np.array([0.9642, 1.0, 0.8249])


def encode(image: Image.Image | npt.NDArray[np.uint8], fmt: str, **params: object) -> bytes:
    """Encode ``image`` (PIL image or (H, W, C) uint8 array) with Pillow in format ``fmt``."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def colourful(height: int, width: int, seed: int = 0) -> npt.NDArray[np.uint8]:
    """(H, W, 3) uint8 image of flat 8x8 colour blocks (compresses well, clearly not gray)."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(30, 226, size=(-(-height // 8), -(-width // 8), 3), dtype=np.uint8)
    return np.ascontiguousarray(np.repeat(np.repeat(blocks, 8, axis=0), 8, axis=1)[:height, :width])


def exif_with_orientation(orientation: int) -> bytes:
    """EXIF block whose only tag is Orientation (0x0112)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif.tobytes()


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: Sequence[float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _desc_tag(name: str) -> bytes:
    ascii_name = name.encode("ascii") + b"\0"
    return (
        b"desc\0\0\0\0"
        + struct.pack(">I", len(ascii_name))
        + ascii_name
        + struct.pack(">II", 0, 0)  # Unicode language code and count
        + struct.pack(">HB", 0, 0)  # ScriptCode code and count
        + b"\0" * 67
    )


def _curve_tag(values: npt.NDArray[np.float64] | float) -> bytes:
    """'curv' tag: a gamma (u8Fixed8) for a scalar, else a table of values in [0, 1]."""
    if isinstance(values, float):
        return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(values * 256))
    table = np.round(np.clip(values, 0, 1) * 65535).astype(">u2")
    return b"curv\0\0\0\0" + struct.pack(">I", table.size) + table.tobytes()


def _profile(device_class: bytes, space: bytes, tags: dict[bytes, bytes]) -> bytes:
    """Assemble header, tag table and 4-byte-aligned tag data into an ICC v2 profile (PCS XYZ)."""
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    entries, blobs = [], []
    for sig, blob in tags.items():
        padded = blob + b"\0" * (-len(blob) % 4)
        entries.append(struct.pack(">4sII", sig, offset, len(blob)))
        blobs.append(padded)
        offset += len(padded)
    header = bytearray(128)
    struct.pack_into(">I", header, 0, offset)
    struct.pack_into(">I", header, 8, 0x02100000)
    header[12:16] = device_class
    header[16:20] = space
    header[20:24] = b"XYZ "
    struct.pack_into(">6H", header, 24, 2024, 1, 1, 0, 0, 0)
    header[36:40] = b"acsp"
    header[68:80] = b"".join(_s15(v) for v in D50)
    return bytes(header) + struct.pack(">I", len(tags)) + b"".join(entries) + b"".join(blobs)


def _rgb_to_xyz_d50(colourspace: colour.RGB_Colourspace) -> npt.NDArray[np.float64]:
    """RGB -> XYZ matrix of ``colourspace`` adapted to the ICC PCS white D50 (Bradford)."""
    white = colour.xy_to_XYZ(colourspace.whitepoint)
    cat = colour.adaptation.matrix_chromatic_adaptation_VonKries(white, D50, transform="Bradford")
    return np.asarray(cat @ colourspace.matrix_RGB_to_XYZ, dtype=np.float64)


def rgb_matrix_profile(name: str, colourspace_name: str, gamma: float | None = None) -> bytes:
    """Matrix/TRC display profile for one of colour-science's RGB colourspaces.

    ``gamma`` None uses the colourspace's own encoding as a 4096-entry curve table (sRGB curve for
    Display P3); a number writes a pure power curve (Adobe RGB: 563/256).
    """
    space = colour.RGB_COLOURSPACES[colourspace_name]
    matrix = _rgb_to_xyz_d50(space)
    curve: npt.NDArray[np.float64] | float
    if gamma is None:
        curve = np.asarray(space.cctf_decoding(np.linspace(0.0, 1.0, 4096)), dtype=np.float64)
    else:
        curve = gamma
    trc = _curve_tag(curve)
    tags = {
        b"desc": _desc_tag(name),
        b"wtpt": _xyz_tag(D50),
        b"rXYZ": _xyz_tag(matrix[:, 0]),
        b"gXYZ": _xyz_tag(matrix[:, 1]),
        b"bXYZ": _xyz_tag(matrix[:, 2]),
        b"rTRC": trc,
        b"gTRC": trc,
        b"bTRC": trc,
        b"cprt": b"text\0\0\0\0no copyright, test profile\0",
    }
    return _profile(b"mntr", b"RGB ", tags)


def srgb_encode(linear: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """sRGB encoding (IEC 61966-2-1) of linear values in [0, 1], as 0-255 floats."""
    return np.asarray(colour.cctf_encoding(np.clip(linear, 0, 1), function="sRGB"), dtype=np.float64) * 255


def srgb_decode(encoded: npt.NDArray[np.float64] | Sequence[float]) -> npt.NDArray[np.float64]:
    """Linear values of 0-255 sRGB-encoded values."""
    return np.asarray(colour.cctf_decoding(np.asarray(encoded, dtype=np.float64) / 255, function="sRGB"))


def cmyk_ink_profile(name: str, inks_srgb: Sequence[Sequence[int]], grid: int = 5) -> bytes:
    """CMYK input profile: each ink at full coverage filters white paper to the given sRGB colour.

    Coverage c in [0, 1] multiplies linear sRGB by ``transmittance ** c`` (Beer-Lambert), inks combine by
    product; the result goes to XYZ (D50) in an A2B0 lut16 with ``grid`` points per input channel.
    """
    transmittance = np.maximum(srgb_decode(np.asarray(inks_srgb, dtype=np.float64)), 1e-4)  # (4, 3)
    to_xyz = _rgb_to_xyz_d50(colour.RGB_COLOURSPACES["sRGB"])
    axis = np.linspace(0.0, 1.0, grid)
    coverage = np.stack(np.meshgrid(axis, axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 4)
    linear = np.prod(transmittance[None, :, :] ** coverage[:, :, None], axis=1)  # (grid^4, 3)
    xyz = linear @ to_xyz.T
    clut = np.round(np.clip(xyz, 0, 65535 / 32768) * 32768).astype(">u2")  # u1Fixed15 XYZ encoding
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    ramp = np.array([0, 65535], dtype=">u2").tobytes()
    lut = (
        b"mft2\0\0\0\0"
        + struct.pack(">BBBB", 4, 3, grid, 0)
        + identity
        + struct.pack(">HH", 2, 2)
        + ramp * 4
        + clut.tobytes()
        + ramp * 3
    )
    tags = {b"desc": _desc_tag(name), b"wtpt": _xyz_tag(D50), b"A2B0": lut, b"cprt": b"text\0\0\0\0test\0"}
    return _profile(b"prtr", b"CMYK", tags)


def png_with_size(width: int, height: int) -> bytes:
    """A valid-looking PNG whose IHDR claims ``width`` x ``height`` (image data of a 40 x 40 picture)."""
    data = bytearray(encode(colourful(40, 40), "PNG"))
    struct.pack_into(">II", data, 16, width, height)  # IHDR data starts after signature + length + type
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def jpeg_with_size(width: int, height: int) -> bytes:
    """A baseline JPEG whose SOF0 header claims ``width`` x ``height``."""
    data = bytearray(encode(colourful(64, 64), "JPEG", quality=90))
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, height, width)
    return bytes(data)


def modified(data: bytes, edit: Callable[[bytearray], None]) -> bytes:
    """A copy of ``data`` changed in place by ``edit``."""
    buf = bytearray(data)
    edit(buf)
    return bytes(buf)
