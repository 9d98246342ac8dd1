"""Real-looking INCI labels (tests/fixtures/inci/*.txt) checked against hand-written expectations.

The expectations in ``expected.yaml`` were written from evidence.md §3-4 (which group, which wait), not by
running the checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from needlecare.knowledge.ingredients import IngredientReport, IngredientResult, check_ingredients

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inci"
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((FIXTURES / "expected.yaml").read_text("utf-8"))


def _by_name(report: IngredientReport, name: str) -> IngredientResult:
    found = [item for item in report.ingredients if item.name == name]
    assert len(found) == 1, f"{name!r} not found once in {[item.name for item in report.ingredients]}"
    return found[0]


def test_every_fixture_has_expectations() -> None:
    labels = sorted(path.name for path in FIXTURES.glob("*.txt"))
    assert len(labels) >= 10
    assert sorted(EXPECTED) == labels


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_label_verdicts(label: str) -> None:
    spec = EXPECTED[label]
    report = check_ingredients((FIXTURES / label).read_text("utf-8"), spec["day"])
    assert report.day == spec["day"]
    assert len(report.ingredients) == spec["count"], [item.name for item in report.ingredients]
    for expected in spec["expect"]:
        item = _by_name(report, expected["name"])
        for key in ("group", "verdict", "inci", "may_contain", "percent", "matched_by", "inventory"):
            if key in expected:
                assert getattr(item, key) == expected[key], (expected["name"], key, getattr(item, key))
        if expected["verdict"] == "avoid":
            assert item.avoid_until_day == expected.get("avoid_until_day", item.avoid_until_day)
            assert item.avoid_until_day is not None
            assert item.avoid_until_day > spec["day"]
            assert f"day {item.avoid_until_day}" in item.reason
        else:
            assert item.avoid_until_day is None
        assert item.reason.strip()
        assert item.sources
        assert all(source.strip() for source in item.sources)


@pytest.mark.parametrize("label", sorted(EXPECTED))
def test_label_order_is_kept(label: str) -> None:
    """Names come back in the order they are printed on the label."""
    text = (FIXTURES / label).read_text("utf-8")
    report = check_ingredients(text, EXPECTED[label]["day"])
    flat = " ".join(text.split())  # a name wrapped across lines is joined with one space
    positions = [flat.find(item.name) for item in report.ingredients]
    assert all(position >= 0 for position in positions)
    assert positions == sorted(positions)


def test_fragranced_lotion_product_summary() -> None:
    report = check_ingredients((FIXTURES / "fragranced_body_lotion.txt").read_text("utf-8"), 2)
    summary = report.to_dict()["summary"]
    assert summary["verdict"] == "avoid"
    assert summary["avoid_until_day"] == 3
    # 3 essential oils, parfum, limonene, linalool, geraniol, citral, benzyl alcohol
    assert summary["counts"]["avoid"] == 9
    assert sum(summary["counts"].values()) == 19


def test_chemical_sunscreen_is_fine_after_two_weeks() -> None:
    report = check_ingredients((FIXTURES / "chemical_sunscreen_spf50.txt").read_text("utf-8"), 14)
    verdicts = {item.verdict for item in report.ingredients}
    assert verdicts <= {"ok", "unknown"}
    assert [item.name for item in report.ingredients if item.verdict == "unknown"] == [
        "Diethylhexyl 2,6-Naphthalate"
    ]
