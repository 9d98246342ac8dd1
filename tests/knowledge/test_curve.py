"""Recovery curve: reference fits, the four classes on constructed series, noise robustness, invalid input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from needlecare.hints import Float64Array
from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.curve import CURVE_POINTS, fit_recovery
from needlecare.knowledge.evidence import evidence

T = np.arange(0.0, 10.0, 0.5)  # two measurements a day for ten days

SERIES: dict[str, Float64Array] = {
    "expected": 3.0 * np.exp(-T / 1.5),
    "slower_than_expected": 3.0 * np.exp(-T / 5.0),
    "worsening": 1.0 + 0.25 * T,
    "returned_after_improving": np.where(
        T < 4, 3.0 * np.exp(-T / 1.2), 3.0 * np.exp(-4 / 1.2) + 0.5 * (T - 4)
    ),
}


def test_noise_free_exponential_is_recovered_exactly() -> None:
    fit = fit_recovery(T, 0.8 + 2.0 * np.exp(-T / 2.0), baseline=0.8, tolerance=0.1)
    assert fit.amplitude == pytest.approx(2.0, rel=1e-6)
    assert fit.tau_days == pytest.approx(2.0, rel=1e-6)
    assert fit.t_peak == 0.0
    assert fit.resolution_day == pytest.approx(2.0 * math.log(2.0 / 0.1), rel=1e-6)  # 5.99 days
    assert fit.classification == "expected"


def test_relative_tolerance_for_index_scale_comes_from_grading_yaml() -> None:
    fit = fit_recovery(T, SERIES["expected"])
    rel = evidence().grading.index_relative_tolerance
    assert fit.tolerance == pytest.approx(rel * 3.0)
    assert fit.resolution_day == pytest.approx(1.5 * math.log(1 / rel), rel=1e-6)  # 3.45 days


@pytest.mark.parametrize("name", list(SERIES))
def test_constructed_series_are_classified(name: str) -> None:
    fit = fit_recovery(T, SERIES[name])
    assert fit.classification == name
    if name in ("worsening", "returned_after_improving"):
        assert math.isinf(fit.resolution_day)
        assert fit.to_dict()["resolution_day"] is None
        assert "outside the expected course" in fit.reason.text


@pytest.mark.parametrize("name", list(SERIES))
@pytest.mark.parametrize("seed", range(12))
def test_small_noise_does_not_flip_the_class(name: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    clean = SERIES[name]
    noisy = clean + rng.normal(0.0, 0.05 * float(clean.max()), clean.size)
    assert fit_recovery(T, noisy).classification == name


def test_band_covers_the_true_resolution_day_under_noise() -> None:
    truth = 1.5 * math.log(10.0)
    hits = 0
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        y = SERIES["expected"] + rng.normal(0.0, 0.05, T.size)
        fit = fit_recovery(T, y, tolerance=0.3)
        low, high = fit.resolution_band
        assert low <= fit.resolution_day <= high
        hits += low <= truth <= high
        assert fit.resolution_day == pytest.approx(truth, abs=1.0)
    assert hits >= 15


def test_early_peak_is_skipped() -> None:
    t = np.array([0.0, 1, 2, 3, 4, 5, 6])
    y = np.array(
        [2.0, 3.0, 3.0 * np.exp(-1), 3.0 * np.exp(-2), 3.0 * np.exp(-3), 3.0 * np.exp(-4), 3 * np.exp(-5)]
    )
    fit = fit_recovery(t, y, tolerance=0.1)
    assert fit.t_peak == 1.0
    assert fit.tau_days == pytest.approx(1.0, rel=1e-4)
    assert fit.resolution_day == pytest.approx(1.0 + math.log(30.0), rel=1e-4)
    assert fit.classification == "expected"


def test_expected_resolution_day_sets_the_cut() -> None:
    y = SERIES["expected"]  # resolves on day 3.45
    assert fit_recovery(T, y, expected_resolution_day=3.0).classification == "slower_than_expected"
    assert fit_recovery(T, y, expected_resolution_day=4.0).classification == "expected"
    default = evidence().durations.working_rule.outside_expected_after_days
    assert fit_recovery(T, y).expected_resolution_day == default


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ([4, 3, 2, 1, 1, 0, 0], "expected"),
        ([3, 3, 3, 3, 2, 2, 2], "slower_than_expected"),
        ([3, 2, 1, 0, 1, 2, 2], "returned_after_improving"),
        ([1, 1, 2, 2, 3, 3, 4], "worsening"),
        ([2, 4, 3, 2, 1, 0, 0], "expected"),
    ],
)
def test_self_report_series(values: list[int], name: str) -> None:
    fit = fit_recovery([0, 1, 2, 3, 4, 5, 7], values, scale="self_report")
    assert fit.tolerance == evidence().grading.self_report_tolerance
    assert fit.classification == name


def test_baseline_is_respected() -> None:
    # a person with rosacea: usual redness 1.2 (index units); the series decays toward it, not toward 0
    fit = fit_recovery(T, 1.2 + SERIES["expected"], baseline=1.2)
    assert fit.classification == "expected"
    assert fit.amplitude == pytest.approx(3.0, rel=1e-6)


def test_unsorted_input_is_sorted() -> None:
    order = np.random.default_rng(0).permutation(T.size)
    fit = fit_recovery(T[order], SERIES["expected"][order])
    assert np.all(np.diff(fit.times) > 0)
    assert fit.classification == "expected"


def test_to_dict_samples_the_curve_with_band() -> None:
    rng = np.random.default_rng(3)
    fit = fit_recovery(T, SERIES["slower_than_expected"] + rng.normal(0, 0.1, T.size))
    d = fit.to_dict()
    assert d["classification"] == "slower_than_expected"
    assert len(d["curve"]) == CURVE_POINTS
    assert all(p["lower"] <= p["value"] <= p["upper"] for p in d["curve"])
    assert any(p["upper"] > p["lower"] for p in d["curve"])
    assert d["curve"][-1]["t"] >= d["resolution_day"]
    assert len(d["points"]) == T.size
    assert d["reasons"][0]["sources"]
    assert "not a diagnosis" in d["disclaimer"]


@pytest.mark.parametrize(
    ("times", "values", "kwargs", "message"),
    [
        ([0, 1], [1, 0], {}, "at least 3"),
        ([0, 1, 2], [1, 0], {}, "differ in length"),
        ([0, 1, math.nan], [1, 0, 0], {}, "finite"),
        ([-1, 1, 2], [1, 0, 0], {}, ">= 0"),
        ([1, 1, 1], [1, 0, 0], {}, "more than one point in time"),
        ([0, 1, 2], [5, 3, 1], {"scale": "self_report"}, "between 0 and 4"),
        ([0, 1, 2], [3, 2, 1], {"scale": "percent"}, "scale"),
        ([0, 1, 2], [3, 2, 1], {"tolerance": 0.0}, "tolerance"),
        ([0, 1, 2], [3, 2, 1], {"expected_resolution_day": -2.0}, "expected_resolution_day"),
    ],
)
def test_invalid_input(
    times: list[float], values: list[float], kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        fit_recovery(times, values, **kwargs)  # type: ignore[arg-type]


def test_the_treatment_sets_the_expected_day() -> None:
    from needlecare.knowledge.treatment import TreatmentParams

    times, values = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [3.0, 2.6, 2.2, 1.9, 1.6, 1.4]
    short = fit_recovery(times, values, scale="self_report", treatment=TreatmentParams(depth_mm=0.25))
    general = fit_recovery(times, values, scale="self_report")
    assert (short.expected_resolution_day, general.expected_resolution_day) == (3.0, 7.0)
    assert short.classification == "slower_than_expected"
    assert "Contact your provider within 24-48 hours" in short.reason.text
