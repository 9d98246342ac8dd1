"""Edge cases of INCI list parsing and name matching."""

from __future__ import annotations

import pytest

from needlecare.knowledge.inci_parser import name_candidates, normalise_name, split_inci, strip_percent
from needlecare.knowledge.ingredients import IngredientInputError, check_ingredients
from needlecare.knowledge.inventory import default_inventory


def _names(text: str) -> list[str]:
    return [token.text for token in split_inci(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Aqua, Glycerin, Niacinamide", ["Aqua", "Glycerin", "Niacinamide"]),
        ("Aqua; Glycerin;Niacinamide", ["Aqua", "Glycerin", "Niacinamide"]),
        ("Aqua\nGlycerin\r\nNiacinamide\n", ["Aqua", "Glycerin", "Niacinamide"]),
        ("Ingredients: Aqua, Glycerin", ["Aqua", "Glycerin"]),
        ("INGRÉDIENTS : Aqua, Glycérine", ["Aqua", "Glycérine"]),
        ("Inci: Aqua", ["Aqua"]),
        ("Aqua (Water, Eau), Glycerin", ["Aqua (Water, Eau)", "Glycerin"]),
        ("1,2-Hexanediol, Caprylyl Glycol", ["1,2-Hexanediol", "Caprylyl Glycol"]),
        ("Aqua,, Glycerin, ,", ["Aqua", "Glycerin"]),
        ("• Aqua • Glycerin", ["Aqua", "Glycerin"]),
        ("Aqua，Glycerin、Niacinamide", ["Aqua", "Glycerin", "Niacinamide"]),
        ("- Aqua\n- Glycerin", ["Aqua", "Glycerin"]),
        ("Aloe Barbadensis Leaf Juice*, Glycerin**", ["Aloe Barbadensis Leaf Juice", "Glycerin"]),
        ("Aqua, Citric Acid. *organic **natural origin", ["Aqua", "Citric Acid"]),
        ("Aqua, Glycerin*\n*Ingredients from organic farming", ["Aqua", "Glycerin"]),
        ("Aqua, Alcohol Denat., Glycerin.", ["Aqua", "Alcohol Denat.", "Glycerin"]),
        (
            "Active Ingredients: Zinc Oxide 20%. Inactive Ingredients: Water, Dimethicone",
            ["Zinc Oxide 20%", "Water", "Dimethicone"],
        ),
    ],
)
def test_split(text: str, expected: list[str]) -> None:
    assert _names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mica, Silica [+/-: CI 77891, CI 77491]",
        "Mica, Silica. May contain: CI 77891, CI 77491.",
        "Mica, Silica, may contain (CI 77891, CI 77491)",
        "Mica, Silica [May Contain / Peut Contenir (+/-): CI 77891, CI 77491]",
        "Mica, Silica\n+/- CI 77891, CI 77491",
    ],
)
def test_may_contain_sections(text: str) -> None:
    tokens = split_inci(text)
    assert [(t.text, t.may_contain) for t in tokens] == [
        ("Mica", False),
        ("Silica", False),
        ("CI 77891", True),
        ("CI 77491", True),
    ]


def test_may_contain_section_closed_by_bracket_lets_the_list_continue() -> None:
    tokens = split_inci("Talc [+/-: CI 77891, CI 77491], Silica")
    assert [(t.text, t.may_contain) for t in tokens] == [
        ("Talc", False),
        ("CI 77891", True),
        ("CI 77491", True),
        ("Silica", False),
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("Niacinamide 10%", 10.0), ("Retinol 0.3 %", 0.3), ("Zinc Oxide (18,6%)", 18.6), ("Glycerin", None)],
)
def test_percentages(text: str, value: float | None) -> None:
    (token,) = split_inci(text)
    assert token.text == text
    assert token.percent == value
    assert strip_percent(text)[1] == value


def test_unbalanced_parenthesis_does_not_swallow_the_list() -> None:
    assert _names("Aqua (Water, Glycerin, Niacinamide") == ["Aqua (Water", "Glycerin", "Niacinamide"]


def test_wrapped_line_joins_only_into_a_known_name() -> None:
    inventory = default_inventory()
    wrapped = "Aqua, Glycerin, Cetearyl\nAlcohol, Niacinamide\nDimethicone, Squalane"
    tokens = split_inci(wrapped, is_known=inventory.is_known)
    assert [t.text for t in tokens] == [
        "Aqua",
        "Glycerin",
        "Cetearyl Alcohol",
        "Niacinamide",
        "Dimethicone",
        "Squalane",
    ]
    # without an inventory every line break separates
    assert "Cetearyl" in [t.text for t in split_inci(wrapped)]


def test_normalise_name() -> None:
    assert normalise_name("Parfüm") == "parfum"
    assert normalise_name("ALCOHOL DENAT.") == normalise_name("alcohol denat")
    assert normalise_name("Alpha-Isomethyl Ionone") == normalise_name("Alpha Isomethyl Ionone")
    assert normalise_name("Aqua / Water") == "aqua/water"


def test_name_candidates_try_parenthesis_and_slash_parts() -> None:
    assert name_candidates("Water (Aqua)")[:3] == ["water (aqua)", "water", "aqua"]
    assert name_candidates("Titanium Dioxide [nano]")[1] == "titanium dioxide"
    assert "eau" in name_candidates("Aqua/Water/Eau")


@pytest.mark.parametrize(
    ("label", "inci", "group"),
    [
        ("Fragrance (Parfum)", "Parfum", "fragrance"),
        ("Water (Aqua)", "Aqua", "neutral"),
        ("Tocopherol (Vitamin E)", "Tocopherol", "vitamin_e"),
        ("Aqua/Water/Eau", "Aqua", "neutral"),
        ("Caprylic/Capric Triglyceride", "Caprylic/Capric Triglyceride", "neutral"),
        ("PARFUM", "Parfum", "fragrance"),
        ("parfüm", "Parfum", "fragrance"),
        ("Vitamin C", "Ascorbic Acid", "l_ascorbic_acid"),
        ("Avobenzone", "Butyl Methoxydibenzoylmethane", "chemical_uv_filter"),
        ("Retinaldehyde", "Retinal", "retinoid"),
        ("BHA", "BHA", "neutral"),  # butylated hydroxyanisole, not a beta hydroxy acid
        ("Hyaluronic Acid", "Hyaluronic Acid", "neutral"),
        ("Ethylhexyl Salicylate", "Ethylhexyl Salicylate", "chemical_uv_filter"),
        ("Alcohol", "Alcohol", "alcohol_denat"),
        ("SD Alcohol 40-B", "Alcohol Denat.", "alcohol_denat"),
    ],
)
def test_synonyms_and_forms(label: str, inci: str, group: str) -> None:
    (item,) = check_ingredients(label, 0).ingredients
    assert (item.inci, item.group) == (inci, group)


@pytest.mark.parametrize(
    ("typo", "inci"),
    [
        ("Niacinamid", "Niacinamide"),
        ("Glycerine", "Glycerin"),  # a listed synonym, not a typo
        ("Sodium Hyaluronat", "Sodium Hyaluronate"),
        ("Cetearyl Alcohl", "Cetearyl Alcohol"),
        ("Phenoxyethanl", "Phenoxyethanol"),
        ("Retinyl Palmitat", "Retinyl Palmitate"),
        ("Butylene Glycole", "Butylene Glycol"),
    ],
)
def test_small_typos_are_matched(typo: str, inci: str) -> None:
    (item,) = check_ingredients(typo, 0).ingredients
    assert item.inci == inci


@pytest.mark.parametrize("name", ["Retinol", "Retinal", "Retinyl Palmitate", "Retinyl Acetate"])
def test_retinoid_names_are_exact_not_fuzzy(name: str) -> None:
    (item,) = check_ingredients(name, 0).ingredients
    assert item.inci == name
    assert item.matched_by == "exact"
    assert item.group == "retinoid"


@pytest.mark.parametrize(
    "name",
    [
        "Cetearyl Alcohol",
        "Cetyl Alcohol",
        "Stearyl Alcohol",
        "Behenyl Alcohol",
        "Cetearyl Alcohl",
        "Cetearyl Alcohol.",
        "CETEARYL ALCOHOL",
        "Cetostearyl Alcohol",
        "Myristyl Alcohol",
        "Lanolin Alcohol",
        "Cetearyl Alcohol (and) Cetearyl Glucoside",
    ],
)
def test_fatty_alcohols_are_never_drying_alcohol(name: str) -> None:
    (item,) = check_ingredients(name, 0).ingredients
    assert item.group != "alcohol_denat"
    assert item.verdict != "avoid"


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("Retinyl Sunflowerseedate Retinoate", "retinoid"),
        ("Lavandula Stoechas Flower Oil", "fragrance"),
        ("Citrus Reticulata Peel Oil", "fragrance"),
        ("Rosa Moschata Seed Oil", "neutral"),  # carrier oil, not an essential oil
        ("Camellia Japonica Seed Oil", "neutral"),
        ("Glycolic Acid (and) Arginine", "aha_bha_pha"),
        ("Aminopropyl Ascorbyl Phosphate", "l_ascorbic_acid"),
        ("Coconut Shell Powder", "physical_exfoliant"),
        ("CI 19140", "neutral"),
    ],
)
def test_name_patterns(name: str, group: str) -> None:
    (item,) = check_ingredients(name, 0).ingredients
    assert item.group == group
    assert item.matched_by == "pattern"
    assert item.inci is None
    assert "form of its name" in item.reason


@pytest.mark.parametrize("name", ["Ferulic Acid", "Galactomyces Ferment Filtrate", "Xyzzy", "Glutathione"])
def test_unknown_names_are_reported_never_silently_fine(name: str) -> None:
    (item,) = check_ingredients(name, 10).ingredients
    assert item.verdict == "unknown"
    assert item.group == "unknown"
    assert item.inci is None
    assert item.avoid_until_day is None
    assert "ask your provider" in item.reason
    assert item.sources


@pytest.mark.parametrize("text", ["", "   ", ",,;", "*organic", "\n\n"])
def test_no_ingredients_is_an_input_error(text: str) -> None:
    with pytest.raises(IngredientInputError, match="no ingredients"):
        check_ingredients(text, 0)


@pytest.mark.parametrize("day", [-1, -100, 1.5, "3", True])
def test_bad_day_is_an_input_error(day: object) -> None:
    with pytest.raises(IngredientInputError, match="day"):
        check_ingredients("Aqua", day)  # type: ignore[arg-type]
