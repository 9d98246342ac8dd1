"""Recovery curve: fit a series of redness measurements after treatment and classify the course.

Model: ``v(t) = b + A * exp(-(t - t_peak) / tau)`` for ``t >= t_peak``, with the baseline ``b`` fixed, ``t``
in days since treatment and ``t_peak`` the time of the highest measurement, so an early rise
(redness often peaks on day 0-1) does not distort the decay. ``A`` and ``tau`` are fitted by least squares
(:func:`scipy.optimize.curve_fit`, started from a log-linear fit); their covariance gives a 95 % band for the
curve and for the resolution day by the delta method.

Tolerance ``tol`` ("back to baseline"): 0.5 grade for 0-4 self-reports, else 10 % of the largest measured
excess over baseline, or an explicit ``tolerance`` (e.g. COLIPA's 2.5 for a*); the conventions are in
``grading.yaml``. Resolution day: ``t_peak + tau * ln(A / tol)`` (``t_peak`` if ``A <= tol``).

Classification, on the series smoothed by a 3-point running median (``s``), with ``end`` the median of the
last three raw values and a change counted as meaningful when it is at least ``delta = max(2 * tol,
3 * noise)`` (noise: robust SD from second differences; two tolerances = one whole grade on the 0-4 scale):

1. ``returned_after_improving``: the lowest smoothed point lies at least ``delta`` below an earlier point and
   ``end`` is at least ``delta`` above it (improved, then came back);
2. ``worsening``: ``end`` is at least ``delta`` above the first smoothed value and has not come down from the
   highest by ``max(delta, half the rise)``;
   (for 1 and 2 the resolution day is reported as infinite / ``None``: the decay model does not apply);
3. ``slower_than_expected``: the estimated resolution day is later than ``expected_resolution_day`` (default:
   the working rule's outside-expected day, 7);
4. ``expected`` otherwise.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from needlecare.hints import Float64Array
from needlecare.knowledge.common import DISCLAIMER, InvalidInputError, Reason
from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.treatment import TreatmentParams

Classification = Literal["expected", "slower_than_expected", "worsening", "returned_after_improving"]

#: Each classification in the patient's words (the timeline, today's card and the clinic pages say these).
CLASSIFICATION_WORDS: dict[str, str] = {
    "expected": "Recovering as expected",
    "slower_than_expected": "Healing more slowly than expected",
    "worsening": "Redness is getting stronger",
    "returned_after_improving": "Redness came back after improving",
}
Scale = Literal["index", "self_report"]

#: z for a two-sided 95 % band.
Z95 = 1.959964
#: Points in the sampled curve of :meth:`RecoveryFit.to_dict`.
CURVE_POINTS = 61
_TAU_BOUNDS = (1e-3, 1e4)


@dataclass(frozen=True)
class RecoveryFit:
    """Fitted recovery curve and its classification. Times in days since treatment, values in input units."""

    classification: Classification
    reason: Reason
    scale: Scale
    baseline: float
    tolerance: float
    t_peak: float
    amplitude: float
    tau_days: float
    covariance: Float64Array  # (2, 2) covariance of (amplitude, tau_days); NaN when not estimable
    resolution_day: float
    resolution_band: tuple[float, float]
    expected_resolution_day: float
    times: Float64Array  # (n,) sorted
    values: Float64Array  # (n,)

    def predict(self, t: Float64Array | Sequence[float]) -> tuple[Float64Array, Float64Array, Float64Array]:
        """Curve value and 95 % band at days *t* (shape (m,)) -> (value, lower, upper), each (m,).

        Before ``t_peak`` the curve is held at its peak value.
        """
        t = np.asarray(t, dtype=np.float64)
        dt = np.maximum(t - self.t_peak, 0.0)
        decay = np.exp(-dt / self.tau_days)
        value = self.baseline + self.amplitude * decay
        jac = np.stack([decay, self.amplitude * dt / self.tau_days**2 * decay], axis=-1)  # (m, 2)
        cov = np.nan_to_num(self.covariance, nan=0.0, posinf=0.0)
        sd = np.sqrt(np.maximum(np.einsum("mi,ij,mj->m", jac, cov, jac), 0.0))
        return value, value - Z95 * sd, value + Z95 * sd

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary with the curve sampled on ``CURVE_POINTS`` days for charts."""
        end = max(float(self.times[-1]), self.expected_resolution_day)
        if math.isfinite(self.resolution_day):
            end = max(end, min(self.resolution_day * 1.2, float(self.times[-1]) + 60.0))
        grid: Float64Array = np.linspace(float(self.times[0]), end, CURVE_POINTS, dtype=np.float64)
        value, lower, upper = self.predict(grid)
        finite = math.isfinite(self.resolution_day)
        return {
            "classification": self.classification,
            "reasons": [self.reason.to_dict()],
            "scale": self.scale,
            "baseline": self.baseline,
            "tolerance": self.tolerance,
            "amplitude": self.amplitude,
            "tau_days": self.tau_days,
            "t_peak": self.t_peak,
            "resolution_day": round(self.resolution_day, 3) if finite else None,
            "resolution_band": [round(x, 3) if math.isfinite(x) else None for x in self.resolution_band],
            "expected_resolution_day": self.expected_resolution_day,
            "points": [
                {"t": float(t), "value": float(v)} for t, v in zip(self.times, self.values, strict=True)
            ],
            "curve": [
                {"t": round(float(t), 4), "value": float(v), "lower": float(lo), "upper": float(hi)}
                for t, v, lo, hi in zip(grid, value, lower, upper, strict=True)
            ],
            "disclaimer": DISCLAIMER,
        }


def _median3(y: Float64Array) -> Float64Array:
    """3-point running median (ends kept) -> same shape as *y*."""
    if y.size < 3:
        return y.copy()
    out = y.copy()
    out[1:-1] = np.median(np.stack([y[:-2], y[1:-1], y[2:]]), axis=0)
    return out


def _noise(y: Float64Array) -> float:
    """Robust noise SD from second differences (0 for fewer than 4 points)."""
    if y.size < 4:
        return 0.0
    return float(1.4826 * np.median(np.abs(np.diff(y, 2))) / math.sqrt(6.0))


def _check(times: Sequence[float], values: Sequence[float], scale: str) -> tuple[Float64Array, Float64Array]:
    t = np.asarray(times, dtype=np.float64).ravel()
    v = np.asarray(values, dtype=np.float64).ravel()
    if t.size != v.size:
        raise InvalidInputError(f"times and values differ in length ({t.size} vs {v.size})")
    if t.size < 3:
        raise InvalidInputError(f"need at least 3 measurements to fit a recovery curve, got {t.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
        raise InvalidInputError("times and values must be finite numbers")
    if np.any(t < 0):
        raise InvalidInputError(f"times must be days since treatment (>= 0), got {float(t.min())}")
    if scale not in ("index", "self_report"):
        raise InvalidInputError(f"scale must be 'index' or 'self_report', got {scale!r}")
    if scale == "self_report" and (np.any(v < 0) or np.any(v > 4)):
        raise InvalidInputError("self-reported redness must lie between 0 and 4")
    order = np.argsort(t, kind="stable")
    if np.ptp(t) <= 0:
        raise InvalidInputError("measurements must span more than one point in time")
    return t[order], v[order]


def _fit(dt: Float64Array, y: Float64Array) -> tuple[float, float, Float64Array]:
    """Least-squares ``y = A exp(-dt / tau)`` -> (A, tau, 2x2 covariance)."""
    pos = y > 0
    tau0 = 3.0
    if pos.sum() >= 2 and np.ptp(dt[pos]) > 0:
        slope = np.polyfit(dt[pos], np.log(y[pos]), 1)[0]
        if slope < 0:
            tau0 = float(np.clip(-1.0 / slope, *_TAU_BOUNDS))
    a0 = max(float(y[0]), float(y.max()), 1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            popt, pcov = curve_fit(
                lambda x, a, tau: a * np.exp(-x / tau),
                dt,
                y,
                p0=(a0, float(np.clip(tau0, 0.01, 1e3))),
                bounds=((0.0, _TAU_BOUNDS[0]), (np.inf, _TAU_BOUNDS[1])),
                maxfev=10000,
            )
        except RuntimeError:  # no convergence: report a flat curve
            return a0, _TAU_BOUNDS[1], np.full((2, 2), np.nan)
    return float(popt[0]), float(popt[1]), np.asarray(pcov, dtype=np.float64)


def _outside_action(classification: Classification) -> str:
    """What to do about an off-course recovery, from the triage rule for the same finding (red_flags.yaml)."""
    flags = evidence().red_flags
    if classification == "returned_after_improving":
        rule = next(r for r in flags.rules if r.id == "redness_returning")
        return rule.action
    return flags.redness_bands.beyond.action or flags.unmatched.text


def fit_recovery(
    times_days: Sequence[float],
    values: Sequence[float],
    *,
    baseline: float = 0.0,
    expected_resolution_day: float | None = None,
    scale: Scale = "index",
    tolerance: float | None = None,
    treatment: TreatmentParams | None = None,
) -> RecoveryFit:
    """Fit a recovery curve toward *baseline* and classify the course.

    Parameters
    ----------
    times_days : sequence of float, shape (n,), n >= 3
        Days since treatment (>= 0), any order.
    values : sequence of float, shape (n,)
        Redness: a photo index (any unit) or a 0-4 self-report (``scale="self_report"``).
    baseline : float
        The person's usual (pre-treatment) value in the same unit.
    expected_resolution_day : float, optional
        Day by which redness should be gone; default the outside-expected day of *treatment*'s expected
        course (:func:`~needlecare.knowledge.expect.expected_course`; the general working rule's day 7 when
        no treatment is given).
    scale : {"index", "self_report"}
        Sets the default tolerance (see module docstring).
    tolerance : float, optional
        Excess over baseline counted as resolved (same unit as *values*), > 0.
    treatment : TreatmentParams, optional
        The treatment whose expected course sets the default *expected_resolution_day*.

    Raises
    ------
    InvalidInputError
        Fewer than 3 points, mismatched lengths, non-finite or negative times, self-report outside 0-4.
    """
    t, v = _check(times_days, values, scale)
    ev = evidence()
    rule = ev.durations.working_rule
    if expected_resolution_day is None:
        expected_resolution_day = expected_course(treatment or TreatmentParams()).outside_expected_after_days
    expected_day = float(expected_resolution_day)
    if not math.isfinite(baseline) or not (math.isfinite(expected_day) and expected_day > 0):
        raise InvalidInputError(
            "baseline must be finite and expected_resolution_day a positive number of days"
        )
    y = v - baseline
    tol = _tolerance(y, scale, tolerance)
    returned, worsening = _course_shape(y, tol)
    t_peak, amp, tau, cov, res, band = _resolution(t, y, tol)
    if returned or worsening:  # the decay model does not describe the course: no resolution estimate
        res, band = math.inf, (math.inf, math.inf)
    classification, text = _verdict(returned, worsening, res, expected_day)
    return RecoveryFit(
        classification=classification,
        reason=ev.reason(text, rule),
        scale=scale,
        baseline=float(baseline),
        tolerance=tol,
        t_peak=t_peak,
        amplitude=amp,
        tau_days=tau,
        covariance=cov,
        resolution_day=res,
        resolution_band=band,
        expected_resolution_day=expected_day,
        times=t,
        values=v,
    )


def _tolerance(y: Float64Array, scale: Scale, tolerance: float | None) -> float:
    """The excess over baseline counted as resolved: *tolerance* if given, else the scale's default."""
    if tolerance is not None:
        if not (math.isfinite(tolerance) and tolerance > 0):
            raise InvalidInputError(f"tolerance must be a positive number, got {tolerance!r}")
        return float(tolerance)
    grading = evidence().grading
    if scale == "self_report":
        return float(grading.self_report_tolerance)
    return grading.index_relative_tolerance * float(np.abs(y).max()) or 1e-9


def _course_shape(y: Float64Array, tol: float) -> tuple[bool, bool]:
    """``(returned, worsening)``: whether redness came back after improving, or is rising, beyond noise."""
    smooth = _median3(y)
    delta = max(2.0 * tol, 3.0 * _noise(y))
    end = float(np.median(y[-3:]))
    low = int(np.argmin(smooth))
    improved = float(smooth[: low + 1].max() - smooth[low]) >= delta
    returned = improved and low < y.size - 1 and end - float(smooth[low]) >= delta
    rise = float(smooth.max() - smooth[0])
    worsening = end - float(smooth[0]) >= delta and float(smooth.max()) - end < max(delta, 0.5 * rise)
    return returned, worsening


def _resolution(
    t: Float64Array, y: Float64Array, tol: float
) -> tuple[float, float, float, Float64Array, float, tuple[float, float]]:
    """The decay fitted from the peak: ``(t_peak, amplitude, tau, covariance, resolution day, 95 % band)``."""
    peak = int(np.argmax(y))  # raw: a one-day peak (day 0-1) is real and the median would flatten it
    if t.size - peak < 3:
        peak = 0
    amp, tau, cov = _fit(t[peak:] - t[peak], y[peak:])
    t_peak = float(t[peak])
    if amp <= tol:
        return t_peak, amp, tau, cov, t_peak, (t_peak, t_peak)
    log_ratio = math.log(amp / tol)
    res = t_peak + tau * log_ratio
    grad = np.array([tau / amp, log_ratio])
    sd = math.sqrt(max(float(grad @ cov @ grad), 0.0)) if np.all(np.isfinite(cov)) else math.inf
    return t_peak, amp, tau, cov, res, (max(t_peak, res - Z95 * sd), res + Z95 * sd)


def _verdict(returned: bool, worsening: bool, res: float, expected_day: float) -> tuple[Classification, str]:
    """The classification and its sentence (with the action when outside the expected course)."""
    classification: Classification
    if returned:
        classification, text = "returned_after_improving", "Redness improved and then came back"
    elif worsening:
        classification, text = "worsening", "Redness is getting stronger instead of fading"
    elif res > expected_day:
        classification = "slower_than_expected"
        text = (
            f"At this rate redness fades by about day {res:.1f}, later than the expected day {expected_day:g}"
        )
    else:
        classification = "expected"
        text = f"Redness fades by about day {res:.1f}, within the expected {expected_day:g} days"
    text += (
        f"; that is outside the expected course: {_outside_action(classification)}"
        if classification != "expected"
        else "; this matches the expected course."
    )
    text += " (needlecare's working rule, a derivation from the studies cited, not a published guideline.)"
    return classification, text
