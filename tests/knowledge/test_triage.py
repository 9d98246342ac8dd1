"""Triage: table-driven from red_flags.yaml, the redness bands, invalid input and monotonic properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.evidence import URGENCY_ORDER, FlagRule, Unmatched, evidence
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import SYMPTOMS, _day_range, redness_band, triage

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


#: The default treatment's outside-expected day (the general working rule).
OUTSIDE = 7
COLD_SORE = TreatmentParams(cold_sore=True)


def _rule_days(rule: FlagRule) -> list[int]:
    first, last = _day_range(rule, OUTSIDE)
    last = last if last is not None else first + 30
    return sorted({first, last, (first + last) // 2})


def _params(rule: FlagRule) -> TreatmentParams:
    return COLD_SORE if "cold_sore" in rule.when else TreatmentParams()


CASES = [
    pytest.param(rule, symptom, day, id=f"{rule.id}-{symptom}-day{day}")
    for rule in FLAGS.rules
    for symptom in rule.symptoms
    for day in _rule_days(rule)
]


@pytest.mark.parametrize(("rule", "symptom", "day"), CASES)
def test_each_rule_fires_for_each_of_its_symptoms(rule: FlagRule, symptom: str, day: int) -> None:
    reported = [symptom, *rule.also_any[:1]]
    params = _params(rule)
    result = triage(day, reported, treatment=params)
    reason = next(r for r in result.reasons if r.text.startswith(rule.sign))
    assert rule.action in reason.text
    assert reason.sources == EV.cite(rule.sources)
    assert RANK[result.urgency] <= RANK[rule.urgency]
    # the verdict is exactly the most urgent of the rules that match these symptoms on this day
    matching = [
        r for r in FLAGS.rules
        if any(s in reported for s in r.symptoms)
        and (not r.also_any or any(s in reported for s in r.also_any))
        and _day_range(r, OUTSIDE)[0] <= day
        and (_day_range(r, OUTSIDE)[1] is None or day <= (_day_range(r, OUTSIDE)[1] or 0))
        and (not r.when or any(getattr(params, c) for c in r.when))
    ]  # fmt: skip
    assert result.urgency == min((r.urgency for r in matching), key=RANK.__getitem__)


@pytest.mark.parametrize(
    "rule", [r for r in FLAGS.rules if _day_range(r, OUTSIDE)[0] > 0], ids=lambda r: r.id
)
def test_rules_do_not_fire_before_their_onset(rule: FlagRule) -> None:
    result = triage(_day_range(rule, OUTSIDE)[0] - 1, [rule.symptoms[0]], treatment=_params(rule))
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
        (3, [], 3, "expected"),
        (4, [], 3, "within_48h"),
        (2, ["unwell"], None, "same_day"),
        (5, ["nodules"], None, "same_day"),
        (0, ["pus"], None, "same_day"),
        (9, ["mild_swelling"], None, "within_48h"),
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
    assert any(t.startswith("Pus, yellow crusts") for t in starts)
    assert any(t.startswith("Redness 3 (moderate) on day 3") for t in starts)
    assert any(t.startswith("Darker patches") for t in starts)
    assert any(t.startswith("Dryness and flaking") for t in starts)


def test_redness_uses_the_anchor_words_and_sources() -> None:
    reason = triage(8, [], redness=2).reasons[0]
    assert reason.text.startswith("Redness 2 (mild) on day 8")
    assert "Chu et al., Dermatol Surg 2021 (A, systematic review)" in reason.sources
    assert reason.rule == "red_flags.redness_bands.beyond"


@pytest.mark.parametrize("redness", range(5))
@pytest.mark.parametrize(
    "params", [TreatmentParams(), TreatmentParams(depth_mm=0.25), TreatmentParams(device="rf")]
)
def test_every_redness_and_day_gets_the_band_of_its_place_in_the_course(
    redness: int, params: TreatmentParams
) -> None:
    course = expected_course(params)
    high, outside = course.typical_days[1], course.outside_expected_after_days
    for day in range(0, 60):
        name, band = redness_band(redness, day, course)
        if redness == 0:
            assert name == "clear"
        elif day <= high:
            assert name == "typical"
        elif day <= outside:
            assert name == ("fading" if redness <= 2 else "not_improving")
        else:
            assert name == ("beyond" if redness >= 2 else "almost_clear_late")
        result = triage(day, [], redness=redness, treatment=params)
        assert result.urgency == band.urgency
        assert result.reasons[0].rule == f"red_flags.redness_bands.{name}"


@pytest.mark.parametrize("params", [TreatmentParams(), COLD_SORE, TreatmentParams(depth_mm=0.25)])
def test_every_symptom_on_every_day_is_covered_by_a_rule(params: TreatmentParams) -> None:
    for symptom in SYMPTOMS:
        for day in range(0, 61):
            result = triage(day, [symptom], treatment=params)
            assert all(r.rule != "red_flags.unmatched" for r in result.reasons), (symptom, day)


def test_the_safety_net_escalates_and_cannot_be_routine() -> None:
    assert URGENCY_ORDER.index(FLAGS.unmatched.urgency) <= URGENCY_ORDER.index("within_48h")
    assert "no rule covers this" in FLAGS.unmatched.text
    with pytest.raises(ValueError, match="must escalate"):
        Unmatched(urgency="routine", text="x", sources=(), grade=None)


def test_treatment_sets_the_redness_thresholds() -> None:
    assert triage(4, redness=3, treatment=TreatmentParams(device="rf", depth_mm=1.0)).urgency == "expected"
    assert triage(4, redness=3, treatment=TreatmentParams(device="pen", depth_mm=1.0)).urgency == "within_48h"
    assert triage(5, redness=2, treatment=TreatmentParams(depth_mm=0.25)).urgency == "within_48h"
    late = triage(10, redness=3).reasons[0].text
    assert "after day 7" in late
    assert "3-4" not in late


def test_to_dict_contract() -> None:
    d = triage(2, ["fever"], redness=2).to_dict()
    assert d["urgency"] in URGENCY_ORDER
    assert all({"text", "sources"} <= set(r) <= {"text", "sources", "rule", "grade"} for r in d["reasons"])
    assert d["expected_course"]["outside_expected_after_days"] == 7
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


def test_symptom_groups_agree_with_the_rules() -> None:
    """The check-in form's groups: each symptom's group matches the urgency its rules give it."""
    urgencies = {s: {r.urgency for r in FLAGS.rules if s in r.symptoms} for s in SYMPTOMS}
    groups = {g.id: g.symptoms for g in FLAGS.symptom_groups}
    assert sorted(s for members in groups.values() for s in members) == sorted(SYMPTOMS)
    for symptom in groups["emergency"]:
        assert "emergency" in urgencies[symptom], symptom
    for symptom in groups["warning"]:
        assert urgencies[symptom] & {"same_day", "within_48h"}, symptom
        assert "emergency" not in urgencies[symptom] or symptom in {
            "fever",
            "spreading_redness",
            "swollen_lymph_nodes",
            "unwell",
        }
    for symptom in groups["common"]:
        assert "expected" in urgencies[symptom], symptom
    for symptom in groups["later"]:
        assert urgencies[symptom] == {"routine"}, symptom
