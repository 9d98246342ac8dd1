"""Expected course: rules straight from durations.yaml, the JSON contract, and the monotonic properties."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.expect import ExpectedCourse, expected_course, extending_factors
from needlecare.knowledge.treatment import AREAS, DEVICES, TreatmentParams

RULE = evidence().durations.working_rule
ADJ = evidence().durations.adjustments


def course(**kw: Any) -> ExpectedCourse:
    values: dict[str, Any] = {"depth_mm": 0.5, "device": "pen", "area": "face", "skin_type": 2}
    values.update(kw)
    return expected_course(TreatmentParams(**values))


def texts(c: ExpectedCourse) -> str:
    return " ".join(r.text for r in c.reasons)


def test_base_case_is_the_working_rule() -> None:
    c = course()
    assert c.typical_days == RULE.typical_days == (1, 3)
    assert c.outside_expected_after_days == RULE.outside_expected_after_days == 7
    assert c.reasons[0].text == RULE.statement
    assert "not a published guideline" in c.reasons[0].text
    assert "Chu et al., Dermatol Surg 2021 (A, systematic review)" in c.reasons[0].sources


@pytest.mark.parametrize(
    ("change", "factor"),
    [
        ({"depth_mm": RULE.extend_when.min_depth_mm}, "deep"),
        ({"depth_mm": 2.5}, "deep"),
        ({"bleeding": True}, "bleeding"),
        ({"skin_type": 4}, "dark_skin"),
        ({"skin_type": "VI"}, "dark_skin"),
        ({"device": "rf"}, "rf"),
        ({"area": "body"}, "body"),
    ],
)
def test_each_extending_factor_allows_up_to_seven_days(change: dict[str, Any], factor: str) -> None:
    c = course(**change)
    assert extending_factors(TreatmentParams(**{"depth_mm": 0.5, **change})) == [factor]
    assert c.typical_days == (RULE.typical_days[0], RULE.extended_high_days)
    assert c.outside_expected_after_days == RULE.outside_expected_after_days
    assert getattr(ADJ, factor).text in texts(c)


def test_just_below_deep_threshold_is_not_extended() -> None:
    assert course(depth_mm=1.49).typical_days == (1, 3)


def test_short_needles_resolve_within_hours() -> None:
    c = course(depth_mm=ADJ.short_needles.max_depth_mm)
    low_h, high_h = ADJ.short_needles.typical_hours
    assert c.typical_days == pytest.approx((low_h / 24, high_h / 24))
    assert c.typical_days[1] <= 1.0
    assert c.outside_expected_after_days == ADJ.short_needles.outside_expected_after_days == 3
    assert ADJ.short_needles.text in texts(c)
    assert c.to_dict()["typical_hours"] == [0.5, 24]
    assert "Hoesly et al., Arch Dermatol 2012 (A, clinical study)" in c.reasons[1].sources


def test_short_needles_with_an_extending_factor_use_the_general_rule() -> None:
    c = course(depth_mm=0.25, skin_type=5)
    assert c.typical_days == (1, 7)
    assert ADJ.short_needles.text not in texts(c)


def test_roller_longer_than_pen() -> None:
    roller, pen = course(device="roller"), course(device="pen")
    assert roller.typical_days == (1, ADJ.roller.min_high_days) == (1, 4)
    assert pen.typical_days == (1, 3)
    assert ADJ.roller.text in texts(roller)
    assert ADJ.pen.text in texts(pen)


@pytest.mark.parametrize("area", ["neck", "chest"])
def test_neck_and_chest_slightly_longer(area: str) -> None:
    assert course(area=area).typical_days == (1, 3 + ADJ.neck_chest.extra_high_days)
    assert course(area=area, device="roller").typical_days == (1, 5)
    assert course(area=area, device="rf").typical_days == (1, 7)


@pytest.mark.parametrize(
    ("flag", "note"),
    [("prp", "prp"), ("serum", "serum"), ("sensitive", "sensitive"), ("rosacea", "rosacea")],
)
def test_flags_without_duration_data_add_a_reason_and_keep_the_window(flag: str, note: str) -> None:
    base, flagged = course(), course(**{flag: True})
    assert flagged.typical_days == base.typical_days
    assert flagged.outside_expected_after_days == base.outside_expected_after_days
    assert getattr(ADJ, note).text in texts(flagged)
    assert getattr(ADJ, note).text not in texts(base)


def test_prp_reason_says_there_is_no_data_and_cites_the_case() -> None:
    reason = next(r for r in course(prp=True).reasons if r.text.startswith("PRP"))
    assert "no published data" in reason.text
    assert reason.sources == ("Wu R et al., CCID 2022 (A, one case report)",)


def test_passes_reason_always_present_without_sources() -> None:
    reason = next(r for r in course(passes=12).reasons if r.text.startswith("Number of passes"))
    assert "no published data" in reason.text
    assert reason.sources == ()


def test_scalp_and_stamp_say_no_data() -> None:
    assert "no published duration data" in texts(course(area="scalp"))
    assert "no published duration data" in texts(course(device="stamp"))


def test_to_dict_contract() -> None:
    d = course(device="rf", prp=True).to_dict()
    assert {"typical_days", "outside_expected_after_days", "reasons"} <= d.keys()
    assert d["typical_days"] == [1, 7]
    assert d["outside_expected_after_days"] == 7
    assert all({"text", "sources"} <= set(r) <= {"text", "sources", "rule", "grade"} for r in d["reasons"])
    assert all(isinstance(s, str) for r in d["reasons"] for s in r["sources"])
    assert "not a diagnosis" in d["disclaimer"]


params_strategy = st.builds(
    TreatmentParams,
    depth_mm=st.floats(min_value=0.05, max_value=3.0),
    passes=st.integers(1, 20),
    device=st.sampled_from(DEVICES),
    area=st.sampled_from(AREAS),
    skin_type=st.integers(1, 6),
    sensitive=st.booleans(),
    rosacea=st.booleans(),
    bleeding=st.booleans(),
    prp=st.booleans(),
    serum=st.booleans(),
)


def not_shorter(a: ExpectedCourse, b: ExpectedCourse) -> bool:
    """*b*'s window is nowhere shorter than *a*'s."""
    return (
        b.typical_days[0] >= a.typical_days[0]
        and b.typical_days[1] >= a.typical_days[1]
        and b.outside_expected_after_days >= a.outside_expected_after_days
    )


@settings(max_examples=150, deadline=None)
@given(params_strategy)
def test_window_is_ordered(p: TreatmentParams) -> None:
    c = expected_course(p)
    assert 0 < c.typical_days[0] <= c.typical_days[1] <= c.outside_expected_after_days


@settings(max_examples=150, deadline=None)
@given(params_strategy, st.floats(min_value=0.0, max_value=3.0))
def test_deeper_never_shortens(p: TreatmentParams, extra: float) -> None:
    deeper = p.model_copy(update={"depth_mm": min(3.0, p.depth_mm + extra)})
    assert not_shorter(expected_course(p), expected_course(deeper))


@settings(max_examples=100, deadline=None)
@given(params_strategy, st.integers(0, 19))
def test_more_passes_never_shortens(p: TreatmentParams, extra: int) -> None:
    more = p.model_copy(update={"passes": min(20, p.passes + extra)})
    assert not_shorter(expected_course(p), expected_course(more))


@settings(max_examples=100, deadline=None)
@given(params_strategy)
def test_rf_never_shortens(p: TreatmentParams) -> None:
    assert not_shorter(expected_course(p), expected_course(p.model_copy(update={"device": "rf"})))


@settings(max_examples=100, deadline=None)
@given(params_strategy, st.integers(0, 5))
def test_darker_skin_never_shortens(p: TreatmentParams, extra: int) -> None:
    darker = p.model_copy(update={"skin_type": min(6, p.skin_type + extra)})
    assert not_shorter(expected_course(p), expected_course(darker))


@settings(max_examples=100, deadline=None)
@given(params_strategy)
def test_body_site_never_shortens(p: TreatmentParams) -> None:
    assert not_shorter(expected_course(p), expected_course(p.model_copy(update={"area": "body"})))


@settings(max_examples=100, deadline=None)
@given(params_strategy, st.sampled_from(["sensitive", "rosacea", "bleeding", "prp", "serum"]))
def test_flags_never_shorten(p: TreatmentParams, flag: str) -> None:
    assert not_shorter(expected_course(p), expected_course(p.model_copy(update={flag: True})))
