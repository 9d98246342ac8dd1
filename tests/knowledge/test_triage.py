"""Triage: table-driven from red_flags.yaml, the redness bands, invalid input and monotonic properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.evidence import URGENCY_ORDER, FlagRule, evidence
from needlecare.knowledge.triage import SYMPTOMS, triage

EV = evidence()
FLAGS = EV.red_flags
RANK = {u: i for i, u in enumerate(URGENCY_ORDER)}  # 0 = most urgent

REQUIRED = {
    "breathing_difficulty", "facial_swelling", "hives", "fever", "spreading_redness", "swollen_lymph_nodes",
    "pus", "warmth", "increasing_pain", "blisters", "itchy_rash", "persistent_bumps", "nodules", "darkening",
    "linear_marks", "flaking", "tightness",
}  # fmt: skip


def test_vocabulary_contains_the_contract_symptoms() -> None:
    assert SYMPTOMS.keys() >= REQUIRED
    assert {"tingling", "cold_sore", "unwell"} <= SYMPTOMS.keys()
    assert all(isinstance(v, str) and v for v in SYMPTOMS.values())


def _rule_days(rule: FlagRule) -> list[int]:
    last = rule.max_day if rule.max_day is not None else rule.min_day + 30
    return sorted({rule.min_day, last, (rule.min_day + last) // 2})


CASES = [
    pytest.param(rule, symptom, day, id=f"{rule.id}-{symptom}-day{day}")
    for rule in FLAGS.rules
    for symptom in rule.symptoms
    for day in _rule_days(rule)
]


@pytest.mark.parametrize(("rule", "symptom", "day"), CASES)
def test_each_rule_fires_for_each_of_its_symptoms(rule: FlagRule, symptom: str, day: int) -> None:
    reported = [symptom, *rule.also_any[:1]]
    result = triage(day, reported)
    reason = next(r for r in result.reasons if r.text.startswith(rule.sign))
    assert rule.action in reason.text
    assert reason.sources == EV.cite(rule.sources)
    assert RANK[result.urgency] <= RANK[rule.urgency]
    # the verdict is exactly the most urgent of the rules that match these symptoms on this day
    matching = [
        r for r in FLAGS.rules
        if any(s in reported for s in r.symptoms)
        and (not r.also_any or any(s in reported for s in r.also_any))
        and r.min_day <= day and (r.max_day is None or day <= r.max_day)
    ]  # fmt: skip
    assert result.urgency == min((r.urgency for r in matching), key=RANK.__getitem__)


@pytest.mark.parametrize("rule", [r for r in FLAGS.rules if r.min_day > 0], ids=lambda r: r.id)
def test_rules_do_not_fire_before_their_onset(rule: FlagRule) -> None:
    result = triage(rule.min_day - 1, [rule.symptoms[0]])
    assert not any(r.text.startswith(rule.sign) for r in result.reasons)


@pytest.mark.parametrize(
    ("day", "symptoms", "redness", "urgency"),
    [
        (0, ["breathing_difficulty"], None, "emergency"),
        (0, ["hives"], None, "emergency"),
        (2, ["fever"], None, "same_day"),
        (2, ["fever", "unwell"], None, "emergency"),
        (2, ["pus"], None, "same_day"),
        (1, ["tingling", "blisters"], None, "same_day"),
        (2, ["widespread_blisters"], None, "emergency"),
        (2, ["itchy_rash"], None, "within_48h"),
        (10, ["persistent_bumps"], None, "within_48h"),
        (21, ["nodules"], None, "within_48h"),
        (30, ["darkening"], None, "routine"),
        (60, ["linear_marks"], None, "routine"),
        (4, ["flaking", "tightness"], None, "expected"),
        (2, ["flaking"], None, "expected"),
        (7, ["tightness"], None, "expected"),
        (0, ["warmth"], None, "expected"),
        (2, ["warmth"], None, "same_day"),
        (12, ["flaking"], None, "routine"),
        (5, [], None, "expected"),
        (1, [], 4, "expected"),
        (3, [], 3, "within_48h"),
        (4, [], 2, "expected"),
        (8, [], 2, "within_48h"),
        (8, [], 1, "routine"),
        (20, [], 0, "expected"),
        (5, ["flaking"], 2, "expected"),
        (3, ["breathing_difficulty", "flaking"], 1, "emergency"),
    ],
)
def test_examples(day: int, symptoms: list[str], redness: int | None, urgency: str) -> None:
    assert triage(day, symptoms, redness=redness).urgency == urgency


def test_highest_urgency_wins_and_all_reasons_are_listed() -> None:
    result = triage(3, ["flaking", "darkening", "pus", "hives"], redness=3)
    assert result.urgency == "emergency"
    starts = [r.text for r in result.reasons]
    assert any(t.startswith("Hives, swelling") for t in starts)
    assert any(t.startswith("Increasing redness, warmth") for t in starts)
    assert any(t.startswith("Redness 3 (moderate) on day 3") for t in starts)
    assert any(t.startswith("Darker patches") for t in starts)
    assert any(t.startswith("Dryness and flaking") for t in starts)


def test_redness_uses_the_anchor_words_and_sources() -> None:
    reason = triage(8, [], redness=2).reasons[0]
    assert reason.text.startswith("Redness 2 (mild) on day 8")
    assert "Chu et al., Dermatol Surg 2021 (A)" in reason.sources


@pytest.mark.parametrize("redness", range(5))
def test_every_redness_and_day_is_covered_by_exactly_the_first_band(redness: int) -> None:
    for day in range(0, 60):
        bands = [
            b for b in FLAGS.redness_rules
            if b.min_redness <= redness <= b.max_redness and b.min_day <= day
            and (b.max_day is None or day <= b.max_day)
        ]  # fmt: skip
        assert len(bands) == 1, (redness, day, [b.id for b in bands])
        assert triage(day, [], redness=redness).urgency == bands[0].urgency


def test_unmatched_symptom_is_reported_not_ignored() -> None:
    result = triage(0, ["tingling"])
    assert result.urgency == "routine"
    assert SYMPTOMS["tingling"] in result.reasons[0].text


def test_to_dict_contract() -> None:
    d = triage(2, ["fever"], redness=2).to_dict()
    assert d["urgency"] in URGENCY_ORDER
    assert all(set(r) == {"text", "sources"} for r in d["reasons"])
    assert "not a diagnosis" in d["disclaimer"]


@pytest.mark.parametrize(
    ("day", "symptoms", "redness", "message"),
    [
        (-1, [], None, "got -1"),
        (2.5, [], None, "got 2.5"),
        (True, [], None, "got True"),
        (100000, [], None, "got 100000"),
        (2, ["sneezing"], None, "unknown symptom 'sneezing'"),
        (2, ["fever", "FEVER"], None, "unknown symptom 'FEVER'"),
        (2, [], 5, "got 5"),
        (2, [], -1, "got -1"),
        (2, [], 2.5, "got 2.5"),
    ],
)
def test_invalid_input(day: object, symptoms: list[str], redness: object, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message.replace(".", r"\.")):
        triage(day, symptoms, redness=redness)  # type: ignore[arg-type]


def test_single_string_symptom_accepted() -> None:
    assert triage(1, "hives").urgency == "emergency"


symptom_sets = st.lists(st.sampled_from(sorted(SYMPTOMS)), max_size=5, unique=True)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 60), symptom_sets, st.sampled_from(sorted(SYMPTOMS)), st.none() | st.integers(0, 4))
def test_adding_a_symptom_never_lowers_urgency(
    day: int, symptoms: list[str], extra: str, redness: int | None
) -> None:
    before = triage(day, symptoms, redness=redness)
    after = triage(day, [*symptoms, extra], redness=redness)
    assert RANK[after.urgency] <= RANK[before.urgency]
    assert len(after.reasons) >= len(before.reasons)


@settings(max_examples=100, deadline=None)
@given(st.integers(8, 60), st.integers(0, 3))
def test_more_redness_after_day_7_never_lowers_urgency(day: int, redness: int) -> None:
    assert (
        RANK[triage(day, [], redness=redness + 1).urgency] <= RANK[triage(day, [], redness=redness).urgency]
    )
