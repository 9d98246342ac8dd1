"""One wording of why a photo is left out of the recovery curve, for every page, export and record."""

from __future__ import annotations

from needlecare.analysis.left_out import OTHER_LIGHT, SEVERAL_FACES, left_out
from needlecare.storage.photo_analysis import parse_analysis


def test_the_verdict_follows_the_stored_comparison() -> None:
    several = parse_analysis({"face": {"faces_found": 2}, "baseline": {"comparable": False}})
    other_light = parse_analysis({"face": {"faces_found": 1}, "baseline": {"comparable": False}})
    trusted = parse_analysis({"face": {"faces_found": 2}, "baseline": {"comparable": True}})
    assert left_out(several) is SEVERAL_FACES
    assert left_out(other_light) is OTHER_LIGHT
    assert left_out(trusted) is None
    assert left_out(parse_analysis({"face": {"faces_found": 1}})) is None  # a baseline photo: no comparison
    assert left_out(None) is None


def test_the_light_reason_names_both_places_the_light_is_matched_on() -> None:
    assert "eyes" in OTHER_LIGHT.reason
    assert "surrounds the face" in OTHER_LIGHT.reason
    assert str(OTHER_LIGHT).endswith(OTHER_LIGHT.advice)
