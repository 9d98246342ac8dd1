"""The ingredient data file: waits match evidence.md §4, and a broken file is rejected when loaded."""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from needlecare.knowledge.cosing_annexes import annex_version, load_annex_names
from needlecare.knowledge.evidence import FILES, evidence, load_evidence
from needlecare.knowledge.ingredient_data import (
    GROUP_NAMES,
    IngredientDataError,
    load_ingredient_data,
    load_ingredient_text,
    parse_ingredient_data,
)
from needlecare.knowledge.ingredients import check_ingredients, group_verdict
from needlecare.knowledge.inventory import default_inventory
from needlecare.knowledge.treatment import TreatmentParams

RAW_TEXT = resources.files("needlecare.knowledge").joinpath("data", "ingredients.yaml").read_text("utf-8")

# evidence.md §3-4 read by hand: (group, first day it is no longer avoided after standard needling (the short
# end of each clinic range), after deep needling (the long end), after RF (the long end, at least day 7 for
# heat and actives while the RF barrier recovers)). None: no wait.
EVIDENCE_WAITS = [
    ("retinoid", 7, 14, 14),  # 7-14 days
    ("bakuchiol", 7, 14, 14),  # follows retinoids
    ("aha_bha_pha", 5, 7, 7),  # 5-7 days
    ("azelaic_acid", 5, 7, 7),  # follows the acids
    ("l_ascorbic_acid", 5, 7, 7),
    ("benzoyl_peroxide", 5, 7, 7),
    ("fragrance", 3, 3, 7),  # 24-72 h at least: until the 48-72 h barrier recovery; RF barrier 7 days
    ("alcohol_denat", 10, 14, 14),  # 10-14 days
    ("physical_exfoliant", 7, 7, 7),  # until flaking stops, ~day 7
    ("vitamin_e", 2, 3, 3),  # open channels (days 0-1); 1.5 mm leaked longest
    ("arnica", 2, 3, 3),
    ("peptide", 2, 3, 3),
    ("copper_peptide", 2, 3, 3),
    ("growth_factor", 2, 3, 3),
    ("chemical_uv_filter", 0, 0, 0),  # never avoided: mineral preferred (caution) in week 1
    ("soothing", None, None, None),
    ("calming", None, None, None),
    ("anti_inflammatory", None, None, None),
    ("neutral", None, None, None),
]
STANDARD = TreatmentParams(depth_mm=0.5, skin_type=2)
DEEP = TreatmentParams(depth_mm=1.5, skin_type=2)
RF = TreatmentParams(depth_mm=1.0, device="rf", skin_type=2)


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(RAW_TEXT)
    return copy.deepcopy(data)


def test_packaged_data_loads_with_all_groups() -> None:
    data = load_ingredient_data()
    assert set(data.groups) == set(GROUP_NAMES)
    assert "curated" in data.inventory_source.lower()
    assert "not a diagnosis" in data.disclaimer.lower()


def test_data_file_states_it_is_curated_not_cosing() -> None:
    header = RAW_TEXT.split("version:")[0]
    assert "CURATED" in header
    assert "NOT the EU CosIng inventory" in header


@pytest.mark.parametrize(("group", "standard", "deep", "rf"), EVIDENCE_WAITS)
def test_waits_match_evidence(group: str, standard: int | None, deep: int | None, rf: int | None) -> None:
    data = load_ingredient_data()
    for params, wait in ((STANDARD, standard), (DEEP, deep), (RF, rf)):
        if wait is None:
            assert group_verdict(data, group, 0, params).wait is None
            continue
        if wait > 0:
            assert group_verdict(data, group, wait - 1, params).verdict == "avoid"
            assert group_verdict(data, group, 0, params).avoid_until_day == wait
        assert group_verdict(data, group, wait, params).verdict in {"caution", "ok"}
        assert group_verdict(data, group, 60, params).verdict == data.groups[group].healed


def test_chemical_filters_are_caution_in_week_one_and_ok_after() -> None:
    data = load_ingredient_data()
    for params in (STANDARD, DEEP, RF):
        assert group_verdict(data, "chemical_uv_filter", 0, params).verdict == "caution"
        assert group_verdict(data, "chemical_uv_filter", 6, params).caution_until_day == 7
        assert group_verdict(data, "chemical_uv_filter", 7, params).verdict == "ok"


@pytest.mark.parametrize("group", GROUP_NAMES)
def test_every_group_cites_sources_that_cover_ingredients(group: str) -> None:
    rule = load_ingredient_data().groups[group]
    sources = evidence().sources
    assert rule.sources
    for source in rule.sources:
        assert set(sources[source].covers) & {"ingredients", "reaction", "soothing"}, (group, source)


def test_day0_note_is_cited_with_case_reports() -> None:
    (note,) = [note for note in load_ingredient_data().notes if note.id == "open_channels"]
    assert note.through_day == 1
    assert "sterile" in note.text
    assert {"soltani2014", "drug_delivery_reaction"} <= set(note.sources)


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
    "unknown healed verdict": lambda raw: raw["groups"]["fragrance"].__setitem__("healed", "maybe"),
    "healed may not be avoid": lambda raw: raw["groups"]["fragrance"].__setitem__("healed", "avoid"),
    "no sources": lambda raw: raw["groups"]["retinoid"].__setitem__("sources", []),
    "unknown source id": lambda raw: raw["groups"]["retinoid"].__setitem__("sources", ["nobody2020"]),
    "unknown source id in an entry": lambda raw: raw["groups"]["soothing"]["ingredients"].append(
        {"inci": "Made Up Extract", "sources": ["nobody2020"]}
    ),
    "schedule in the ingredient file": lambda raw: raw["groups"]["retinoid"].__setitem__(
        "schedule", [{"from_day": 0, "verdict": "avoid"}]
    ),
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


def test_verdicts_come_from_the_table_of_waits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Changing a wait in aftercare.yaml changes the checker's verdict: no wait is hard-coded in it."""
    from needlecare.knowledge import waits

    data_dir = resources.files("needlecare.knowledge").joinpath("data")
    for name in FILES:
        text = data_dir.joinpath(f"{name}.yaml").read_text("utf-8")
        if name == "aftercare":
            text = text.replace(
                "wait_days: {standard: 7, deep: 14, rf: 14}\n    groups: [retinoid",
                "wait_days: {standard: 7, deep: 21, rf: 21}\n    groups: [retinoid",
            )
        (tmp_path / f"{name}.yaml").write_text(text, "utf-8")
    changed = load_evidence(tmp_path)
    monkeypatch.setattr(waits, "evidence", lambda: changed)
    (item,) = check_ingredients("Retinol", 15, treatment=DEEP).ingredients
    assert (item.verdict, item.avoid_until_day) == ("avoid", 21)
    monkeypatch.undo()
    (default,) = check_ingredients("Retinol", 15, treatment=DEEP).ingredients
    assert (default.verdict, default.avoid_until_day) == ("ok", None)
