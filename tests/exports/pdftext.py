"""Read a reportlab PDF without a PDF library: page count and the text shown by ``Tj`` operators.

pypdf is not a project dependency, so the tests read what they need directly: page objects are counted in the
(uncompressed) object dictionaries, and content streams are inflated (FlateDecode, with ASCII85 when present)
before their literal strings are collected.
"""

from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"obj\s*(?P<dict><<(?:(?!endobj).)*?>>)\s*stream\r?\n(?P<data>.*?)\s*endstream", re.S)
_TOKEN = re.compile(rb"\((?P<s>(?:\\.|[^\\)])*)\)\s*Tj|(?P<brk>T\*|\bET\b)", re.S)
_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.S)
_SIMPLE = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def page_count(pdf: bytes) -> int:
    """Number of ``/Type /Page`` objects (not ``/Pages``)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


def _unescape(raw: bytes) -> bytes:
    def repl(m: re.Match[bytes]) -> bytes:
        token = m.group(1)
        if token[:1].isdigit():
            return bytes([int(token, 8) & 0xFF])
        return _SIMPLE.get(token, token)

    return _ESCAPE.sub(repl, raw)


def _decoded(dictionary: bytes, data: bytes) -> bytes:
    if b"ASCII85Decode" in dictionary:
        data = base64.a85decode(data.strip().removesuffix(b"~>"))
    if b"FlateDecode" in dictionary:
        data = zlib.decompress(data)
    return data


def text_lines(pdf: bytes) -> list[str]:
    """The drawn lines in stream order: ``Tj`` strings up to a line break (``T*``) or the end of a text
    object (``ET``) are joined, decoded as WinAnsi (cp1252)."""
    lines = []
    for m in _STREAM.finditer(pdf):
        dictionary = m.group("dict")
        if b"/Subtype /Image" in dictionary:
            continue
        parts: list[str] = []
        for token in _TOKEN.finditer(_decoded(dictionary, m.group("data"))):
            if token.group("brk") is None:
                parts.append(_unescape(token.group("s")).decode("cp1252"))
            elif parts:
                lines.append("".join(parts))
                parts = []
    return lines


def text(pdf: bytes) -> str:
    """All drawn strings joined by newlines (a line-wrapped paragraph appears as several lines)."""
    return "\n".join(text_lines(pdf))
