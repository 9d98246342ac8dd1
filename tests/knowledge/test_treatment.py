"""TreatmentParams: sane ranges, normalisation, and errors that echo the bad value."""

from __future__ import annotations

import math
from typing import Any

import pytest
from pydantic import ValidationError

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.treatment import TreatmentParams, parse_skin_type


def test_defaults_and_normalisation() -> None:
    p = TreatmentParams.create(depth_mm="1.5", passes="3", device=" RF ", area="Neck", skin_type="iv")
    assert (p.depth_mm, p.passes, p.device, p.area, p.skin_type) == (1.5, 3, "rf", "neck", 4)
    assert p.skin_type_roman == "IV"
    assert [p.sensitive, p.rosacea, p.bleeding, p.prp, p.serum] == [False] * 5


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (6, 6), ("3", 3), ("I", 1), ("vi", 6), ("V", 5)])
def test_skin_type_accepts_numbers_and_roman(value: object, expected: int) -> None:
    assert parse_skin_type(value) == expected
    assert TreatmentParams(depth_mm=1, skin_type=value).skin_type == expected


def test_params_are_frozen() -> None:
    p = TreatmentParams(depth_mm=1)
    with pytest.raises(ValidationError):
        p.depth_mm = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "echo"),
    [
        ("depth_mm", 5, "got 5"),
        ("depth_mm", 0, "got 0"),
        ("depth_mm", -0.5, "got -0.5"),
        ("depth_mm", 3.01, "got 3.01"),
        ("depth_mm", math.nan, "got nan"),
        ("depth_mm", "deep", "got 'deep'"),
        ("depth_mm", True, "got True"),
        ("passes", 0, "got 0"),
        ("passes", -1, "got -1"),
        ("passes", 21, "got 21"),
        ("passes", 1.5, "got 1.5"),
        ("device", "laser", "got 'laser'"),
        ("area", "foot", "got 'foot'"),
        ("skin_type", 7, "got 7"),
        ("skin_type", "VII", "got 'VII'"),
        ("skin_type", 0, "got 0"),
        ("skin_type", True, "got True"),
    ],
)
def test_invalid_values_give_one_line_errors(field: str, value: Any, echo: str) -> None:
    values: dict[str, Any] = {"depth_mm": 1.0, field: value}
    with pytest.raises(InvalidInputError) as info:
        TreatmentParams.create(**values)
    message = str(info.value)
    assert echo in message
    assert "\n" not in message
    with pytest.raises(ValueError, match=echo.replace(".", r"\.")):
        TreatmentParams(**values)


def test_depth_limits_are_inclusive_at_three_mm() -> None:
    assert TreatmentParams(depth_mm=3.0).depth_mm == 3.0
    assert TreatmentParams(depth_mm=0.01).depth_mm == 0.01


def test_unknown_field_rejected() -> None:
    with pytest.raises(InvalidInputError, match="colour"):
        TreatmentParams.create(depth_mm=1, colour="red")
