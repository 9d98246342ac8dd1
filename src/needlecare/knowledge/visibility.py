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
    """

    delta_a_star: float
    threshold: float
    visible: bool
    reason: Reason

    def to_dict(self) -> dict[str, Any]:
        """``{"delta_a_star", "threshold", "visible", "reason": {"text", "sources"}}``."""
        return {
            "delta_a_star": self.delta_a_star,
            "threshold": self.threshold,
            "visible": self.visible,
            "reason": self.reason.to_dict(),
        }


def visibility(delta_a_star: float) -> Visibility:
    """Read a change in redness (CIELAB a*, positive = redder) against minimal visible redness.

    Examples
    --------
    >>> visibility(3.1).visible, visibility(-0.4).visible
    (True, False)
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
    )
