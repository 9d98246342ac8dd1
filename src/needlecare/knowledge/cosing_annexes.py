"""INCI names from the EU CosIng annexes, read offline from the copy shipped by the ``on-the-list`` package.

The annexes are lists of *restricted* substances, not an inventory, so only two of them are used, and only to
back two groups of the curated inventory (curated entries always win):

* Annex VI, UV filters allowed in cosmetic products -> ``chemical_uv_filter`` (zinc oxide and titanium
  dioxide, the mineral filters, are excluded: they are the filters clinics prefer in week 1);
* Annex III entries whose conditions say the substance "shall be indicated in the list of ingredients" above
  0.001 % (leave-on) -> ``fragrance``: the fragrance allergens named on labels, including essential oils
  (Regulation (EU) 2023/1545).

CosIng, (c) European Union 1995-2026, reused under Commission Decision 2011/833/EU (CC BY 4.0).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources

from needlecare.knowledge.inci_parser import normalise_name

_PACKAGE = "on_the_list"
_MINERAL_FILTERS = frozenset({"titanium dioxide", "zinc oxide"})
_LABELLED_ALLERGEN_RE = re.compile(r"(?is)(shall|must) be indicated\b.{0,80}?\bin the list of ingredients")
_NAME_COLUMNS = ("Name of Common Ingredients Glossary", "Identified INGREDIENTS or substances e.g.")
_UPPER_WORDS = frozenset({"PEG", "PABA", "BHT", "BHA", "PPG", "HCL", "EDTA"})


@dataclass(frozen=True)
class AnnexName:
    """One INCI name taken from a CosIng annex: display name, needlecare group, and its citation."""

    name: str
    group: str
    source: str


def _display(name: str) -> str:
    """Title-case an upper-case annex name, keeping acronyms (``PEG-25 PABA``)."""
    words = []
    for word in name.split(" "):
        parts = [p if p.upper() in _UPPER_WORDS else p.capitalize() for p in word.split("-")]
        words.append("-".join(parts))
    return " ".join(words)


def _rows(annex: str) -> list[dict[str, str]]:
    text = resources.files(_PACKAGE).joinpath("data", f"annex_{annex}.csv").read_text("utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Reference Number")
    header = rows[start]
    return [dict(zip(header, row, strict=False)) for row in rows[start + 1 :] if row and row[0].strip()]


def _names(row: dict[str, str]) -> list[str]:
    """INCI names of one annex row: its "identified ingredients", else its glossary name(s)."""
    identified = row.get(_NAME_COLUMNS[1], "").strip()
    # glossary names are split on ";" and " / " only: a comma there belongs to a chemical name
    parts = re.split(r",", identified) if identified else re.split(r";|\s/\s", row.get(_NAME_COLUMNS[0], ""))
    found: list[str] = []
    for part in parts:
        cleaned = re.sub(r"(?i)\(nano\)", "", part).strip()
        if not cleaned or cleaned == "-" or "," in cleaned or cleaned.endswith("-"):
            continue
        if normalise_name(cleaned) not in _MINERAL_FILTERS:
            found.append(_display(cleaned.upper()))
    return found


def annex_version() -> str | None:
    """Installed ``on-the-list`` version, or None when the package (and so the annexes) is missing."""
    try:
        return metadata.version("on-the-list")
    except metadata.PackageNotFoundError:
        return None


@lru_cache(maxsize=1)
def load_annex_names() -> tuple[AnnexName, ...]:
    """Chemical UV filters (Annex VI) and labelled fragrance allergens (Annex III), in annex order.

    Returns an empty tuple when ``on-the-list`` is not installed; :func:`annex_version` tells which.
    """
    version = annex_version()
    if version is None:
        return ()
    cite = "(Regulation (EC) 1223/2009; CosIng, © European Union, CC BY 4.0; via on-the-list {v})"
    out: list[AnnexName] = []
    for row in _rows("VI"):
        source = (
            f"CosIng Annex VI entry {row['Reference Number']}: permitted UV filter {cite.format(v=version)}"
        )
        out.extend(AnnexName(name, "chemical_uv_filter", source) for name in _names(row))
    for row in _rows("III"):
        conditions = f"{row.get('Other', '')} {row.get('Wording of conditions of use and warnings', '')}"
        if _LABELLED_ALLERGEN_RE.search(conditions):
            source = (
                f"CosIng Annex III entry {row['Reference Number']}: fragrance allergen named on labels "
                f"{cite.format(v=version)}"
            )
            out.extend(AnnexName(name, "fragrance", source) for name in _names(row))
    unique: dict[str, AnnexName] = {}
    for item in out:
        unique.setdefault(normalise_name(item.name), item)
    return tuple(unique.values())
