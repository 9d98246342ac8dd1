"""One recovery model: for every treatment, the plan, the ingredient checker, triage and the expected course
give the same answer to the same question (Hypothesis over all treatment combinations)."""

from __future__ import annotations

import math
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.knowledge.evidence import URGENCY_ORDER, evidence
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.ingredient_data import load_ingredient_data
from needlecare.knowledge.ingredients import check_ingredients
from needlecare.knowledge.plan import PLAN_DAYS, aftercare_plan
from needlecare.knowledge.treatment import AREAS, DEVICES, TreatmentParams
from needlecare.knowledge.triage import SYMPTOMS, triage

TREATED = date(2026, 6, 1)
DATA = load_ingredient_data()
#: One label name per ingredient group that has a wait (its first curated entry).
GROUP_NAMES_WITH_WAITS = {
    group: DATA.groups[group].ingredients[0].inci
    for milestone in evidence().aftercare.milestones
    for group in milestone.groups
}

treatments = st.builds(
    TreatmentParams,
    depth_mm=st.one_of(st.none(), st.sampled_from([0.1, 0.25, 0.26, 0.5, 1.0, 1.49, 1.5, 2.0, 3.0])),
    passes=st.integers(1, 20),
    device=st.sampled_from(DEVICES),
    area=st.sampled_from(AREAS),
    skin_type=st.one_of(st.none(), st.integers(1, 6)),
    sensitive=st.booleans(),
    rosacea=st.booleans(),
    bleeding=st.booleans(),
    prp=st.booleans(),
    serum=st.booleans(),
    cold_sore=st.booleans(),
)


def at_least(urgency: str, floor: str) -> bool:
    return URGENCY_ORDER.index(urgency) <= URGENCY_ORDER.index(floor)


@settings(max_examples=120, deadline=None)
@given(params=treatments)
def test_plan_return_day_is_the_checkers_avoid_until_day(params: TreatmentParams) -> None:
    plan = aftercare_plan(TREATED, params)
    milestones = {m.id: m for m in plan.milestones}
    for group, name in GROUP_NAMES_WITH_WAITS.items():
        milestone = next(m for m in plan.milestones if group in m.groups)
        (day0,) = check_ingredients(name, 0, treatment=params).ingredients
        assert day0.group == group
        if day0.verdict == "avoid":
            assert plan.return_day(group) == day0.avoid_until_day, (group, params)
            (back,) = check_ingredients(name, milestone.day, treatment=params).ingredients
            assert back.verdict != "avoid"
        else:  # never avoided: the plan announces the end of its caution period
            assert day0.verdict == "caution"
            assert plan.return_day(group) == day0.caution_until_day
        end = milestones[milestone.id].caution_until_day
        (before_end,) = check_ingredients(name, milestone.day, treatment=params).ingredients
        if end is not None and end > milestone.day:
            assert (before_end.verdict, before_end.caution_until_day) == ("caution", end)
        for day in plan.days:
            (item,) = check_ingredients(name, day.day, treatment=params).ingredients
            listed = (
                evidence()
                .aftercare.milestones[[m.id for m in evidence().aftercare.milestones].index(milestone.id)]
                .avoid
            )
            assert (listed in day.avoid) == (item.verdict == "avoid"), (group, day.day)


@settings(max_examples=150, deadline=None)
@given(params=treatments, day=st.integers(0, 60), redness=st.integers(1, 4))
def test_triage_follows_the_treatments_expected_course(
    params: TreatmentParams, day: int, redness: int
) -> None:
    course = expected_course(params)
    urgency = triage(day, redness=redness, treatment=params).urgency
    if day > course.outside_expected_after_days:
        assert urgency != "expected"
    if day <= course.typical_days[1]:
        assert urgency == "expected"  # no escalation inside the typical window without another sign


@settings(max_examples=100, deadline=None)
@given(
    params=treatments,
    day=st.integers(0, 400),
    symptoms=st.sets(st.sampled_from(sorted(SYMPTOMS)), max_size=3),
)
def test_every_symptom_is_answered_by_a_sourced_rule(
    params: TreatmentParams, day: int, symptoms: set[str]
) -> None:
    result = triage(day, sorted(symptoms), treatment=params)
    for reason in result.reasons:
        if symptoms:
            assert reason.sources, reason
            assert reason.rule is not None, reason
            assert reason.rule != "red_flags.unmatched", reason
    if "unwell" in symptoms:
        assert at_least(result.urgency, "same_day")
    if symptoms & {"pus", "nodules"} and day < 7:
        assert at_least(result.urgency, "same_day")


@settings(max_examples=60, deadline=None)
@given(params=treatments)
def test_plan_says_what_triage_says_about_redness(params: TreatmentParams) -> None:
    course = expected_course(params)
    plan = aftercare_plan(TREATED, params)
    for day in plan.days:
        verdict = triage(day.day, redness=2, treatment=params).urgency
        outside = day.day > course.outside_expected_after_days
        assert ("outside" in day.expect or "cleared" in day.expect) == (day.day > course.typical_days[1])
        assert (verdict != "expected") == outside
        if outside:
            assert "contact your provider" in day.expect


@settings(max_examples=60, deadline=None)
@given(params=treatments)
def test_every_plan_line_carries_its_sources(params: TreatmentParams) -> None:
    plan = aftercare_plan(TREATED, params)
    assert len(plan.days) == PLAN_DAYS + 1
    for day in plan.days:
        assert {i.text for i in day.items} >= {*day.do, *day.avoid, *day.caution, day.expect}
        for item in day.items:
            assert item.reason.sources, item
            assert item.reason.rule, item
    for milestone in plan.milestones:
        assert milestone.reason.sources
    if params.device != "rf":
        cited = {s for d in plan.days for i in d.items for s in i.reason.sources}
        cited |= {s for r in plan.reasons for s in r.sources}
        assert not any(s.startswith("Wu X") for s in cited)


def test_darker_skin_changes_the_plan() -> None:
    light = aftercare_plan(TREATED, TreatmentParams(depth_mm=0.5, skin_type=2))
    dark = aftercare_plan(TREATED, TreatmentParams(depth_mm=0.5, skin_type=6))
    assert light.to_dict() != dark.to_dict()
    tanning = {
        p: next(m.day for m in plan.milestones if m.id == "tanning")
        for p, plan in (("II", light), ("VI", dark))
    }
    assert tanning == {"II": 7, "VI": 14}
    assert any("PIH" in line or "darkens" in line for line in dark.days[3].do)
    assert not any("darkens" in line for line in light.days[3].do)


def test_cold_sores_and_prp_bring_the_herpes_watch() -> None:
    base = TreatmentParams(depth_mm=1.0, skin_type=2)
    plain = aftercare_plan(TREATED, base).days[1].do
    sores = aftercare_plan(TREATED, base.model_copy(update={"cold_sore": True})).days[1].do
    prp = aftercare_plan(TREATED, base.model_copy(update={"prp": True})).days[1].do
    assert not any("cold-sore" in line or "cold sores" in line for line in plain)
    assert any("antiviral prophylaxis" in line for line in sores)
    assert any("grouped blisters" in line for line in prp)
    assert not any("antiviral prophylaxis" in line for line in prp)
    assert (
        triage(0, ["tingling"], treatment=base.model_copy(update={"cold_sore": True})).urgency == "same_day"
    )


def test_unknown_treatment_takes_the_cautious_side_of_each_answer() -> None:
    unknown = TreatmentParams()
    plan = aftercare_plan(TREATED, unknown)
    assert plan.column == "deep"
    assert "dark_skin" in plan.conditions
    course = expected_course(unknown)
    assert (course.typical_days, course.outside_expected_after_days) == ((1.0, 3.0), 7.0)
    assert math.isclose(
        min(
            expected_course(TreatmentParams(depth_mm=d)).outside_expected_after_days for d in (0.5, 1.0, 1.5)
        ),
        7.0,
    )


def test_the_ingredient_article_states_every_wait_of_the_table() -> None:
    from needlecare.knowledge.library import article_by_slug

    article = article_by_slug("soothing-and-avoid-ingredients")
    assert article is not None
    for milestone in evidence().aftercare.milestones:
        if milestone.groups:
            assert milestone.range in article.body, milestone.id
