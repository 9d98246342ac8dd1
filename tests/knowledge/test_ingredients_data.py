"""The ingredient data file: waits match evidence.md §4, and a broken file is rejected when loaded."""

from __future__ import annotations

import copy
from importlib import resources
from typing import Any

import pytest
import yaml

from needlecare.knowledge.cosing_annexes import annex_version, load_annex_names
from needlecare.knowledge.ingredient_data import (
    GROUP_NAMES,
    IngredientDataError,
    load_ingredient_data,
    load_ingredient_text,
    parse_ingredient_data,
)
from needlecare.knowledge.ingredients import check_ingredients
from needlecare.knowledge.inventory import default_inventory

RAW_TEXT = resources.files("needlecare.knowledge").joinpath("data", "ingredients.yaml").read_text("utf-8")

# evidence.md §4 "Ingredients", read by hand: (group, verdict on day 0, first day with a milder verdict).
# Ranges are encoded at their later end: retinoids 7-14 d -> 14; AHA/BHA, vitamin C, BPO 5-7 d -> 7;
# fragrance 24-72 h -> 3; alcohol denat. 10-14 d -> 14; scrubs ~7 d -> 7; chemical filters: week 1 -> 7.
EVIDENCE_WAITS = [
    ("retinoid", "avoid", 14),
    ("aha_bha_pha", "avoid", 7),
    ("l_ascorbic_acid", "avoid", 7),
    ("benzoyl_peroxide", "avoid", 7),
    ("fragrance", "avoid", 3),
    ("alcohol_denat", "avoid", 14),
    ("physical_exfoliant", "avoid", 7),
    ("chemical_uv_filter", "caution", 7),
    ("soothing", "soothing", None),
    ("neutral", "ok", None),
]


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RAW_TEXT)
    return copy.deepcopy(data)


def test_packaged_data_loads_with_all_groups() -> None:
    data = load_ingredient_data()
    assert tuple(data.groups) == GROUP_NAMES
    assert "curated" in data.inventory_source.lower()
    assert "not a diagnosis" in data.disclaimer.lower()


def test_data_file_states_it_is_curated_not_cosing() -> None:
    header = RAW_TEXT.split("version:")[0]
    assert "CURATED" in header
    assert "NOT the EU CosIng inventory" in header


@pytest.mark.parametrize(("group", "day0_verdict", "milder_from"), EVIDENCE_WAITS)
def test_waits_match_evidence(group: str, day0_verdict: str, milder_from: int | None) -> None:
    rule = load_ingredient_data().groups[group]
    assert rule.verdict_on(0) == (day0_verdict, milder_from)
    if milder_from is not None:
        assert rule.verdict_on(milder_from - 1)[0] == day0_verdict
        assert rule.verdict_on(milder_from)[0] == "ok"
        assert rule.verdict_on(60) == ("ok", None)


@pytest.mark.parametrize("group", GROUP_NAMES)
def test_every_group_is_cited_and_graded(group: str) -> None:
    rule = load_ingredient_data().groups[group]
    assert rule.grade in {"A", "B", "C"}
    assert rule.sources
    assert any("evidence.md" in source for source in rule.sources)
    assert all(source.rstrip().endswith(")") or "Regulation" in source for source in rule.sources)


def test_day0_note_is_cited_with_case_reports() -> None:
    (note,) = [note for note in load_ingredient_data().notes if note.id == "open_channels"]
    assert note.through_day == 1
    assert "sterile" in note.text
    assert any("Soltani-Arabshahi" in source for source in note.sources)
    assert any("28877153" in source for source in note.sources)


def test_inventory_is_several_hundred_names() -> None:
    data = load_ingredient_data()
    canonical = sum(len(group.ingredients) for group in data.groups.values())
    assert canonical >= 400
    assert len(default_inventory()) > canonical  # synonyms and CosIng names on top


@pytest.mark.parametrize(
    "name",
    [
        "Aqua",
        "Glycerin",
        "Butylene Glycol",
        "Dimethicone",
        "Cetearyl Alcohol",
        "Phenoxyethanol",
        "Tocopherol",
        "Sodium Hyaluronate",
        "Niacinamide",
        "Squalane",
        "Ceramide NP",
        "Zinc Oxide",
        "Titanium Dioxide",
    ],
)
def test_common_neutral_names_are_curated(name: str) -> None:
    known = default_inventory().exact(name)
    assert known is not None
    assert (known.group, known.inventory) == ("neutral", "curated")


def test_cosing_annexes_back_uv_filters_and_allergens() -> None:
    assert annex_version() is not None
    names = {item.name.casefold(): item for item in load_annex_names()}
    assert names["octocrylene"].group == "chemical_uv_filter"
    assert "Annex VI" in names["octocrylene"].source
    assert names["limonene"].group == "fragrance"
    assert "Annex III" in names["limonene"].source
    assert "zinc oxide" not in names  # mineral filters are not chemical filters
    assert "titanium dioxide" not in names
    menthol = default_inventory().exact("Menthol")
    assert menthol is not None
    assert (menthol.group, menthol.inventory) == ("fragrance", "cosing_annex")
    # curated entries win over annex names
    benzyl_alcohol = default_inventory().exact("Benzyl Alcohol")
    assert benzyl_alcohol is not None
    assert benzyl_alcohol.inventory == "curated"


def _break(mutate: Any) -> dict[str, Any]:
    raw = _raw()
    mutate(raw)
    return raw


BROKEN = {
    "missing group": lambda raw: raw["groups"].pop("retinoid"),
    "extra group": lambda raw: raw["groups"].__setitem__("mystery", raw["groups"]["neutral"]),
    "schedule not from day 0": lambda raw: raw["groups"]["retinoid"]["schedule"][0].__setitem__(
        "from_day", 1
    ),
    "schedule gets stricter": lambda raw: raw["groups"]["neutral"]["schedule"].append(
        {"from_day": 5, "verdict": "avoid"}
    ),
    "schedule days not increasing": lambda raw: raw["groups"]["fragrance"]["schedule"][1].__setitem__(
        "from_day", 0
    ),
    "negative day": lambda raw: raw["groups"]["fragrance"]["schedule"][1].__setitem__("from_day", -3),
    "unknown verdict": lambda raw: raw["groups"]["fragrance"]["schedule"][0].__setitem__("verdict", "maybe"),
    "no sources": lambda raw: raw["groups"]["retinoid"].__setitem__("sources", []),
    "blank source": lambda raw: raw["groups"]["retinoid"].__setitem__("sources", ["  "]),
    "bad grade": lambda raw: raw["groups"]["retinoid"].__setitem__("grade", "D"),
    "bad pattern": lambda raw: raw["groups"]["retinoid"]["patterns"].append("retin(ol"),
    "duplicate name across groups": lambda raw: raw["groups"]["retinoid"]["ingredients"].append("Glycerin"),
    "unknown key": lambda raw: raw["groups"]["retinoid"].__setitem__("wait_days", 14),
    "entry list of non-names": lambda raw: raw["groups"]["neutral"]["ingredients"].append([1, 2]),
    "note without sources": lambda raw: raw["notes"][0].__setitem__("sources", []),
    "unknown rule missing": lambda raw: raw.pop("unknown"),
    "wrong version": lambda raw: raw.__setitem__("version", 2),
}


@pytest.mark.parametrize("problem", sorted(BROKEN))
def test_broken_data_is_rejected(problem: str) -> None:
    with pytest.raises(IngredientDataError, match="invalid ingredient data"):
        parse_ingredient_data(_break(BROKEN[problem]))


def test_invalid_yaml_is_rejected() -> None:
    with pytest.raises(IngredientDataError, match="not valid YAML"):
        load_ingredient_text("groups: [unclosed")


def test_unbroken_copy_is_accepted() -> None:
    assert parse_ingredient_data(_raw()) == load_ingredient_data()


def test_verdicts_come_from_the_data_file() -> None:
    """Changing a wait in the data changes the verdict: no wait is hard-coded in the checker."""
    from needlecare.knowledge.inventory import Inventory

    raw = _raw()
    raw["groups"]["retinoid"]["schedule"][1]["from_day"] = 21
    inventory = Inventory(parse_ingredient_data(raw))
    (item,) = check_ingredients("Retinol", 15, inventory=inventory).ingredients
    assert (item.verdict, item.avoid_until_day) == ("avoid", 21)
    (default,) = check_ingredients("Retinol", 15).ingredients
    assert (default.verdict, default.avoid_until_day) == ("ok", None)
