"""Reading a change in redness against COLIPA's minimal visible erythema, from grading.yaml."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.visibility import visibility

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
