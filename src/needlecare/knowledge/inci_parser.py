"""Split a pasted INCI ingredient list into ingredient tokens, in label order.

Handles what real labels contain: commas, semicolons and line breaks; an ``Ingredients:`` (or ``Active /
Inactive Ingredients:``) prefix; parentheses (``Water (Aqua)``), which never split a name; slashes
(``Aqua/Water/Eau``), resolved later by :func:`name_candidates`; ``may contain [+/-: CI 77891, ...]``
sections, whose ingredients are flagged ``may_contain``; asterisks and footnotes (``Aloe*`` ... ``*organic``);
percentages (``Niacinamide 10%``); commas inside chemical names (``1,2-Hexanediol``); bullets.

Nothing here knows about ingredient groups; :mod:`needlecare.knowledge.ingredients` does the matching.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

#: Footnote markers that may trail a name (``Aloe Barbadensis Leaf Juice*``) or start a footnote line.
_FOOTNOTE_MARKS = "*†‡°¹²³⁴"
_FOOTNOTE_RE = re.compile(f"[{re.escape(_FOOTNOTE_MARKS)}]+")
_DASHES_RE = re.compile(r"[\-‐‑‒–—]")
_PERCENT_RE = re.compile(r"[\(\[]?\s*(\d+(?:[.,]\d+)?)\s*%\s*[\)\]]?")
_PREFIX_RE = re.compile(
    r"(?i)(?:\b(?:active|inactive|other)\s+)?\b(?:ingredients?|ingr[eé]dients?|ingredientes|zutaten|inci)\s*[:：]"
)
_MAY_PIECE = r"(?:\+\s*/\s*-|±|may\s+contain|peut\s+contenir|kann\s+enthalten|puede\s+contener)"
_MAY_RE = re.compile(rf"(?i)(?:[\[\(]\s*)?{_MAY_PIECE}(?:[\s:/\(\)\[\]]*{_MAY_PIECE})*[\s:/\)\]]*")
_BULLETS_RE = re.compile(r"[•●▪·|，、]")  # bullets, full-width comma, ideographic comma
_CLOSERS = {"(": ")", "[": "]", "{": "}"}


@dataclass(frozen=True)
class Token:
    """One ingredient as printed on the label.

    Attributes
    ----------
    text : str
        The name as written, trimmed, without trailing footnote markers (``"Niacinamide 10%"``).
    may_contain : bool
        True when it was listed in a ``may contain`` / ``+/-`` section (colour ranges).
    percent : float or None
        A percentage printed with the name, in percent (0-100), else None.
    """

    text: str
    may_contain: bool = False
    percent: float | None = None


def normalise_name(name: str) -> str:
    """Lower-case, accent-free, single-spaced form of an ingredient name used for matching.

    Hyphens become spaces, spaces around slashes go, footnote markers and trailing punctuation are dropped.

    Examples
    --------
    >>> normalise_name("  Alcohol Denat.* ")
    'alcohol denat'
    >>> normalise_name("Parfüm / Fragrance")
    'parfum/fragrance'
    >>> normalise_name("PEG-100 Stearate")
    'peg 100 stearate'
    """
    text = _FOOTNOTE_RE.sub("", name)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = _DASHES_RE.sub(" ", text)
    text = re.sub(r"\s*/\s*", "/", text)
    text = re.sub(r"\(\s*", "(", text)
    text = re.sub(r"\s*\)", ")", text)
    return re.sub(r"\s+", " ", text).strip(" .:;,")


def strip_percent(text: str) -> tuple[str, float | None]:
    """Remove a printed percentage; return the rest and the value in percent (None when absent).

    Examples
    --------
    >>> strip_percent("Niacinamide 10%")
    ('Niacinamide', 10.0)
    >>> strip_percent("Zinc Oxide (18,6 %)")
    ('Zinc Oxide', 18.6)
    """
    match = _PERCENT_RE.search(text)
    if match is None:
        return text, None
    value = float(match.group(1).replace(",", "."))
    rest = (text[: match.start()] + " " + text[match.end() :]).strip()
    return re.sub(r"\s+", " ", rest), value


def name_candidates(text: str) -> list[str]:
    """Normalised names to try for one token, most specific first.

    The whole name; the name without parenthetical asides; each aside; each slash-separated alternative.

    Examples
    --------
    >>> name_candidates("Rosmarinus Officinalis (Rosemary) Leaf Oil")
    ['rosmarinus officinalis (rosemary) leaf oil', 'rosmarinus officinalis leaf oil', 'rosemary']
    >>> name_candidates("Aqua/Water/Eau")
    ['aqua/water/eau', 'aqua', 'water', 'eau']
    """
    base, _ = strip_percent(_FOOTNOTE_RE.sub("", text))
    candidates = [normalise_name(base)]
    outer = normalise_name(re.sub(r"\([^()]*\)|\[[^\[\]]*\]", " ", base))
    candidates.append(outer)
    for inner in re.findall(r"\(([^()]*)\)|\[([^\[\]]*)\]", base):
        for part in re.split(r"[,/;]", inner[0] or inner[1]):
            candidates.append(normalise_name(part))
    for name in (outer, candidates[0]):
        if "/" in name:
            candidates.extend(part.strip() for part in name.split("/"))
    seen: set[str] = set()
    ordered = []
    for name in candidates:
        if name and name != "nano" and name not in seen:
            seen.add(name)
            ordered.append(name)
    return ordered


def _balanced(text: str) -> bool:
    stack: list[str] = []
    for char in text:
        if char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in _CLOSERS.values() and (not stack or stack.pop() != char):
            return False
    return not stack


def _split_top_level(segment: str) -> list[tuple[str, bool]]:
    """Split at top-level separators; each piece carries whether a single line break ended it."""
    use_depth = _balanced(segment)
    pieces: list[tuple[str, bool]] = []
    depth = 0
    current: list[str] = []
    index = 0
    while index < len(segment):
        char = segment[index]
        prev_char = segment[index - 1] if index else ""
        next_char = segment[index + 1] if index + 1 < len(segment) else ""
        if use_depth and char in _CLOSERS:
            depth += 1
        elif use_depth and char in _CLOSERS.values():
            depth = max(depth - 1, 0)
        if depth == 0:
            hard = char == ";" or (char == "," and not (prev_char.isdigit() and next_char.isdigit()))
            footnote_stop = char == "." and (
                next_char == "" or segment[index + 1 :].lstrip()[:1] in _FOOTNOTE_MARKS
            )
            if hard or footnote_stop or char == "\n":
                soft = char == "\n" and next_char != "\n" and prev_char != "\n"
                pieces.append(("".join(current), soft))
                current = []
                index += 1
                continue
        current.append(char)
        index += 1
    pieces.append(("".join(current), False))
    return pieces


def _clean(piece: str) -> str:
    text = piece.strip()
    text = re.sub(r"^[-–—]\s+", "", text)  # list bullets "- Aqua"
    text = text.rstrip(_FOOTNOTE_MARKS + " :").strip()
    if text.endswith(".") and not re.search(r"(?i)\bdenat\.$", text):  # keep "Alcohol Denat."
        text = text.rstrip(". ").rstrip(_FOOTNOTE_MARKS)
    return text


def _is_footnote(piece: str) -> bool:
    stripped = piece.strip()
    return bool(stripped) and stripped[0] in _FOOTNOTE_MARKS


def _segments(text: str) -> list[tuple[str, bool]]:
    """Cut the text into (segment, may_contain) spans at ``may contain`` / ``+/-`` markers."""
    spans: list[tuple[str, bool]] = []
    rest = text
    while True:
        match = _MAY_RE.search(rest)
        if match is None:
            spans.append((rest, False))
            return spans
        spans.append((rest[: match.start()], False))
        marker, after = match[0], rest[match.end() :]
        opener = next((o for o, c in (("[", "]"), ("(", ")")) if marker.count(o) > marker.count(c)), None)
        if opener is None and after.lstrip()[:1] in ("(", "["):
            opener = after.lstrip()[0]
            after = after.lstrip()[1:]
        end = after.find(_CLOSERS[opener]) if opener is not None else -1
        if end < 0:
            spans.append((after, True))
            return spans
        spans.append((after[:end], True))
        rest = after[end + 1 :]


def split_inci(text: str, is_known: Callable[[str], bool] | None = None) -> list[Token]:
    """Split an INCI list into tokens in label order.

    Parameters
    ----------
    text : str
        The pasted label text (any length; may hold an ``Ingredients:`` prefix and footnotes).
    is_known : callable, optional
        ``is_known(name) -> bool`` for an inventory lookup. With it, a single line break inside a
        comma-separated list joins two fragments when only the joined name is known (``Cetearyl`` /
        ``Alcohol`` wrapped across lines); without it every line break separates.

    Returns
    -------
    list of Token
        One token per non-empty ingredient, footnote definitions (``*organic``) excluded.

    Examples
    --------
    >>> [t.text for t in split_inci("Ingredients: Water (Aqua), 1,2-Hexanediol; Glycerin*. *organic")]
    ['Water (Aqua)', '1,2-Hexanediol', 'Glycerin']
    >>> [(t.text, t.may_contain) for t in split_inci("Mica, Silica [+/-: CI 77891, CI 77491]")]
    [('Mica', False), ('Silica', False), ('CI 77891', True), ('CI 77491', True)]
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _BULLETS_RE.sub(",", text)
    text = _PREFIX_RE.sub("\n\n", text)
    tokens: list[Token] = []
    for segment, may_contain in _segments(text):
        comma_mode = bool(re.search(r"[,;]", segment))
        pieces = _split_top_level(segment)
        merged: list[str] = []
        joinable = False
        for piece, soft in pieces:
            cleaned = _clean(piece)
            if not cleaned:
                joinable = False
                continue
            if joinable and comma_mode and is_known is not None and merged:
                left = merged[-1]
                joined = f"{left} {cleaned}"
                if not (is_known(left) and is_known(cleaned)) and is_known(joined):
                    merged[-1] = joined
                    joinable = soft
                    continue
            merged.append(cleaned)
            joinable = soft
        for piece in merged:
            if _is_footnote(piece) or re.fullmatch(r"[\W_]+", piece):
                continue
            _, percent = strip_percent(piece)
            tokens.append(Token(text=piece, may_contain=may_contain, percent=percent))
    return tokens
