"""Name matching for the ingredient checker: exact names and synonyms, close spellings, then name patterns.

The inventory is the curated list in ``data/ingredients.yaml`` (not the CosIng inventory), supplemented with
CosIng Annex VI UV filters and Annex III labelled fragrance allergens (:mod:`.cosing_annexes`).

Matching order for one label token, over its :func:`~.inci_parser.name_candidates`:

1. ``exact`` / ``synonym``: a candidate equals a known normalised name;
2. ``fuzzy``: a close spelling (difflib ratio >= 0.88) of a known name with the same number of words, each
   word close on its own: ``Cetearyl Alcohl`` -> Cetearyl Alcohol, never ``Cetearyl Alcohol`` -> Alcohol
   Denat.;
3. ``pattern``: a group's regular expression matches a candidate (groups tried in :data:`GROUP_NAMES` order,
   so essential-oil patterns run before the neutral carrier-oil pattern).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from needlecare.knowledge.cosing_annexes import AnnexName, load_annex_names
from needlecare.knowledge.inci_parser import name_candidates, normalise_name
from needlecare.knowledge.ingredient_data import GROUP_NAMES, IngredientData, load_ingredient_data

MatchedBy = Literal["exact", "synonym", "fuzzy", "pattern"]

#: Minimum difflib ratio between a misspelt name and a known one.
FUZZY_CUTOFF = 0.88
#: Minimum ratio between corresponding words of a fuzzy match; shorter words must be identical.
FUZZY_WORD_CUTOFF = 0.75
#: Names shorter than this (normalised characters) are never fuzzy-matched.
FUZZY_MIN_LENGTH = 6


@dataclass(frozen=True)
class Known:
    """An inventory name: canonical INCI, group, note, extra sources, and where the name came from."""

    inci: str
    group: str
    note: str | None
    sources: tuple[str, ...]
    inventory: Literal["curated", "cosing_annex"]


@dataclass(frozen=True)
class Match:
    """How one label token was identified; ``known`` is None for pattern matches."""

    group: str
    matched_by: MatchedBy
    known: Known | None
    detail: str


def _words_close(left: str, right: str) -> bool:
    left_words, right_words = left.split(" "), right.split(" ")
    if len(left_words) != len(right_words):
        return False
    for a, b in zip(left_words, right_words, strict=True):
        if a == b:
            continue
        if min(len(a), len(b)) < 4 or difflib.SequenceMatcher(None, a, b).ratio() < FUZZY_WORD_CUTOFF:
            return False
    return True


class Inventory:
    """Lookup over the curated inventory plus CosIng annex names."""

    def __init__(self, data: IngredientData, annex_names: Iterable[AnnexName] = ()) -> None:
        self.data = data
        self._names: dict[str, tuple[Known, bool]] = {}
        for group_name, group in data.groups.items():
            for entry in group.ingredients:
                known = Known(entry.inci, group_name, entry.note, entry.sources, "curated")
                self._names[normalise_name(entry.inci)] = (known, False)
                for synonym in entry.synonyms:
                    self._names[normalise_name(synonym)] = (known, True)
        for annex in annex_names:
            key = normalise_name(annex.name)
            if key not in self._names:  # curated entries win
                self._names[key] = (
                    Known(annex.name, annex.group, None, (annex.source,), "cosing_annex"),
                    False,
                )
        self._keys = sorted(self._names)
        self._patterns = [
            (name, re.compile(pattern)) for name in GROUP_NAMES for pattern in data.groups[name].patterns
        ]

    def __len__(self) -> int:
        """Number of distinct normalised names (canonical names and synonyms)."""
        return len(self._names)

    def names(self) -> list[str]:
        """All normalised names, sorted."""
        return list(self._keys)

    def exact(self, name: str) -> Known | None:
        """The entry whose name or synonym normalises to the same string as ``name``."""
        found = self._names.get(normalise_name(name))
        return found[0] if found else None

    def is_known(self, text: str) -> bool:
        """True when any candidate reading of ``text`` is an exact inventory name."""
        return any(candidate in self._names for candidate in name_candidates(text))

    def match(self, text: str) -> Match | None:
        """Identify one label token (as written); None when nothing matches."""
        candidates = name_candidates(text)
        for candidate in candidates:
            if candidate in self._names:
                known, is_synonym = self._names[candidate]
                return Match(known.group, "synonym" if is_synonym else "exact", known, candidate)
        for candidate in candidates[:2]:
            if len(candidate) < FUZZY_MIN_LENGTH:
                continue
            for close in difflib.get_close_matches(candidate, self._keys, n=3, cutoff=FUZZY_CUTOFF):
                if _words_close(candidate, close):
                    known, _ = self._names[close]
                    return Match(known.group, "fuzzy", known, close)
        for candidate in candidates:
            for group_name, pattern in self._patterns:
                if pattern.search(candidate):
                    return Match(group_name, "pattern", None, pattern.pattern)
        return None


@lru_cache(maxsize=1)
def default_inventory() -> Inventory:
    """The packaged inventory (curated data file plus CosIng annex names), built once."""
    return Inventory(load_ingredient_data(), load_annex_names())
