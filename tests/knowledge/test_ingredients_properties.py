"""Property tests (Hypothesis) for the ingredient checker: monotonic verdicts, order-preserving parsing."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from needlecare.knowledge.inci_parser import split_inci
from needlecare.knowledge.ingredient_data import SEVERITY
from needlecare.knowledge.ingredients import check_ingredients
from needlecare.knowledge.inventory import default_inventory

KNOWN_NAMES = default_inventory().names()
RANK = {**SEVERITY, "unknown": 0}

_word = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789éü", min_size=1, max_size=9
)
_name = st.lists(_word, min_size=1, max_size=4).map(" ".join)
_separator = st.sampled_from([", ", " , ", ";", "; ", "\n", ",\n", " ;\n"])


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.sampled_from(KNOWN_NAMES), min_size=1, max_size=6), day=st.integers(0, 40))
def test_verdicts_never_get_stricter_with_time(names: list[str], day: int) -> None:
    text = ", ".join(names)
    today = check_ingredients(text, day).ingredients
    tomorrow = check_ingredients(text, day + 1).ingredients
    assert len(today) == len(tomorrow) == len(names)
    for now, later in zip(today, tomorrow, strict=True):
        assert now.group == later.group
        assert RANK[later.verdict] <= RANK[now.verdict]
        if now.verdict in ("ok", "soothing"):
            assert later.verdict == now.verdict  # once fine, stays fine


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(KNOWN_NAMES), day=st.integers(0, 30))
def test_avoid_until_day_is_exactly_when_avoid_ends(name: str, day: int) -> None:
    (item,) = check_ingredients(name, day).ingredients
    if item.verdict != "avoid":
        assert item.avoid_until_day is None
        return
    assert item.avoid_until_day is not None
    assert item.avoid_until_day > day
    (on_the_day,) = check_ingredients(name, item.avoid_until_day).ingredients
    assert on_the_day.verdict != "avoid"
    (day_before,) = check_ingredients(name, item.avoid_until_day - 1).ingredients
    assert day_before.verdict == "avoid"
    assert day_before.avoid_until_day == item.avoid_until_day


@settings(max_examples=150, deadline=None)
@given(
    names=st.lists(_name, min_size=1, max_size=12), separators=st.lists(_separator, min_size=12, max_size=12)
)
def test_parsing_keeps_every_name_in_order(names: list[str], separators: list[str]) -> None:
    assume(not any(re.search(r"(?i)may\s+contain|peut\s+contenir|kann\s+enthalten", n) for n in names))
    text = names[0] + "".join(sep + name for sep, name in zip(separators, names[1:], strict=False))
    assert [token.text for token in split_inci(text)] == [name.strip() for name in names]


@settings(max_examples=60, deadline=None)
@given(names=st.lists(st.sampled_from(KNOWN_NAMES), min_size=2, max_size=6), day=st.integers(0, 20))
def test_each_verdict_is_independent_of_the_rest_of_the_label(names: list[str], day: int) -> None:
    together = check_ingredients(", ".join(names), day).ingredients
    alone = [check_ingredients(name, day).ingredients[0] for name in names]
    assert [item.name for item in together] == names
    assert [(i.group, i.verdict, i.avoid_until_day) for i in together] == [
        (i.group, i.verdict, i.avoid_until_day) for i in alone
    ]


@settings(max_examples=40, deadline=None)
@given(names=st.lists(st.sampled_from(KNOWN_NAMES), min_size=1, max_size=8), day=st.integers(0, 20))
def test_summary_waits_for_the_last_avoided_ingredient(names: list[str], day: int) -> None:
    report = check_ingredients(", ".join(names), day)
    waits = [item.avoid_until_day for item in report.ingredients if item.avoid_until_day is not None]
    assert report.summary()["avoid_until_day"] == (max(waits) if waits else None)
    assert sum(report.summary()["counts"].values()) == len(names)
