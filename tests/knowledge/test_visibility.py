"""Reading a change in redness against COLIPA's minimal visible erythema, from grading.yaml."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from needlecare.imaging.redness import a_star_change
from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.visibility import visibility, visible_index_change

THRESHOLD = evidence().grading.colipa.minimal_visible_delta_a_star


def test_threshold_and_source_come_from_the_data_file() -> None:
    verdict = visibility(THRESHOLD + 0.1)
    assert verdict.threshold == THRESHOLD == 2.5
    assert verdict.visible
    assert verdict.reason.sources == evidence().cite(evidence().grading.colipa.sources)
    assert verdict.reason.sources  # cited, not a working rule
    assert "Redder" in verdict.reason.text
    assert f"{THRESHOLD:g}" in verdict.reason.text


@pytest.mark.parametrize(
    ("delta", "visible", "words"),
    [
        (3.2, True, "Redder"),
        (1.0, False, "likely not visible"),
        (-0.8, False, "Less red"),
        (-3.0, True, "Less red"),
    ],
)
def test_each_side_of_the_threshold(delta: float, visible: bool, words: str) -> None:
    verdict = visibility(delta)
    assert verdict.visible is visible
    assert words in verdict.reason.text
    assert verdict.to_dict()["reason"]["sources"] == list(verdict.reason.sources)


@given(st.floats(-20, 20))
def test_visible_exactly_beyond_the_threshold(delta: float) -> None:
    assert visibility(delta).visible is (abs(delta) >= THRESHOLD)


@settings(max_examples=30)
@given(st.floats(0.15, 0.7), st.floats(0.05, 0.45), st.floats(0.03, 0.35))
def test_visible_index_change_reaches_the_threshold_exactly(red: float, green: float, blue: float) -> None:
    skin = np.array([red, green, blue])
    rise = visible_index_change(skin)
    if np.isnan(rise):  # colours where even 2 OD_hb stay below the threshold are not skin
        assert a_star_change(skin, 2.0) < THRESHOLD
        return
    assert 0 < rise < 2
    assert a_star_change(skin, rise) == pytest.approx(THRESHOLD, abs=1e-4)
    assert visibility(a_star_change(skin, rise * 1.01)).visible
    assert not visibility(a_star_change(skin, rise * 0.99)).visible


def test_darker_skin_needs_a_larger_rise_to_look_redder() -> None:
    light, dark = np.array([0.6, 0.45, 0.35]), np.array([0.12, 0.06, 0.035])
    assert visible_index_change(dark) > visible_index_change(light)
