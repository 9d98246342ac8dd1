"""Is a measured change in redness visible to the eye? COLIPA's minimal visible erythema (``grading.yaml``).

A photo's change from its baseline is measured in OD_hb; :func:`needlecare.imaging.redness.a_star_change`
expresses it as the CIELAB a* change it makes on the person's own skin colour, the unit in which the
threshold was published (a rise of about 2.5 marks minimal visible redness; Wilhelm et al. 2001, grade B,
from irritant patch tests, not microneedling). The verdict says which side of the threshold the change lies
on, with the source; it is an aid to reading the number, not a diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from needlecare.hints import Float64Array
from needlecare.imaging.redness import a_star_change
from needlecare.knowledge.common import Reason
from needlecare.knowledge.evidence import evidence


@dataclass(frozen=True)
class Visibility:
    """Where a change in redness lies against the minimal visible change.

    Attributes
    ----------
    delta_a_star : float
        The change, as CIELAB a* (positive = redder).
    threshold : float
        Minimal visible change in a* (COLIPA).
    visible : bool
        ``abs(delta_a_star) >= threshold``.
    reason : Reason
        Plain-language reading with its source.
    headline : str
        The reading in a few plain words, for the top of a page ("Redder than before treatment: visible").
    """

    delta_a_star: float
    threshold: float
    visible: bool
    reason: Reason
    headline: str = ""

    def to_dict(self) -> dict[str, Any]:
        """``{"delta_a_star", "threshold", "visible", "reason": {"text", "sources"}}``."""
        return {
            "delta_a_star": self.delta_a_star,
            "threshold": self.threshold,
            "visible": self.visible,
            "reason": self.reason.to_dict(),
            "headline": self.headline,
        }


def visibility(delta_a_star: float) -> Visibility:
    """Read a change in redness (CIELAB a*, positive = redder) against minimal visible redness.

    Examples
    --------
    >>> visibility(3.1).visible, visibility(-0.4).visible
    (True, False)
    >>> visibility(3.1).headline, visibility(0.3).headline
    ('Redder than before treatment: visible', 'About the same as before treatment')
    """
    colipa = evidence().grading.colipa
    threshold = colipa.minimal_visible_delta_a_star
    size = f"about {abs(delta_a_star):.1f} in CIELAB a*"
    if delta_a_star >= threshold:
        text = (
            f"Redder than in the baseline photo by {size}: more than the {threshold:g} that marks redness "
            "you can just see."
        )
    elif delta_a_star <= -threshold:
        text = f"Less red than in the baseline photo by {size}: a difference you can see."
    elif round(abs(delta_a_star), 1) == 0:
        text = (
            "About as red as in the baseline photo (a change below 0.1 in CIELAB a*; "
            f"{threshold:g} marks redness you can just see)."
        )
    else:
        text = (
            f"{'Redder' if delta_a_star > 0 else 'Less red'} than in the baseline photo by {size}: less than "
            f"the {threshold:g} that marks redness you can just see, so the difference is likely not visible."
        )
    return Visibility(
        delta_a_star=delta_a_star,
        threshold=threshold,
        visible=abs(delta_a_star) >= threshold,
        reason=evidence().reason(text, colipa),
        headline=_headline(delta_a_star, threshold),
    )


def _headline(delta_a_star: float, threshold: float) -> str:
    """The reading in a few plain words (the same threshold as the full reason)."""
    if delta_a_star >= threshold:
        return "Redder than before treatment: visible"
    if delta_a_star <= -threshold:
        return "Less red than before treatment: visible"
    if delta_a_star >= threshold / 2:
        return "A little redder than before treatment: likely not visible"
    if delta_a_star <= -threshold / 2:
        return "A little less red than before treatment: likely not visible"
    return "About the same as before treatment"


def visible_index_change(skin_linear: Float64Array) -> float:
    """The rise of the redness index (OD_hb) that makes minimal visible redness on this skin colour.

    Solves ``a_star_change(skin_linear, x) = threshold`` (COLIPA's Δa*, ``grading.yaml``) by bisection: the
    a* change grows monotonically with added haemoglobin, so the root is unique (scipy.optimize would add
    0.3 s to the command line's start-up).

    Parameters
    ----------
    skin_linear : (3,) float
        Mean linear sRGB of the skin (0-1), e.g. of the baseline photo.

    Returns
    -------
    float
        OD_hb; NaN when even 2 OD_hb would not reach the threshold (not a skin colour).

    Examples
    --------
    >>> round(visible_index_change(np.array([0.45, 0.25, 0.18])), 2)  # a light-medium skin tone
    0.18
    """
    threshold = evidence().grading.colipa.minimal_visible_delta_a_star
    skin = np.asarray(skin_linear, dtype=np.float64)
    low, high = 0.0, 2.0
    if a_star_change(skin, high) < threshold:
        return float("nan")
    for _ in range(30):  # to 2e-9 OD_hb
        middle = (low + high) / 2
        low, high = (middle, high) if a_star_change(skin, middle) < threshold else (low, middle)
    return (low + high) / 2
