"""What to change before saving a photo, in the patient's words, from the quality check's warning codes."""

from __future__ import annotations

from collections.abc import Iterable

#: Quality warning code -> what to do about it (the codes of :mod:`needlecare.imaging.quality` and the
#: pipeline's ``several_faces``).
ADVICE = {
    "face_too_small": "Come closer: your face should fill the outline.",
    "underexposed": "More light: face a window or a lamp.",
    "overexposed": "Less light on the face: no flash, out of direct sun.",
    "highlights_clipped": "Less glare: no flash, out of direct sun.",
    "blurred": "Hold the phone still, and tap the screen on your face to focus.",
    "head_turned": "Look straight into the camera, head level.",
    "several_faces": "Only you in the photo, please.",
    "compressed": "Use the camera's own photo, not a screenshot or one sent through a messaging app.",
}

#: When the light cannot be matched with the baseline photo's.
DIFFERENT_LIGHT = (
    "Take it in the same place and light as your before-treatment photo, without glasses, "
    "so that the whites of your eyes show."
)


def capture_advice(codes: Iterable[str], *, comparable: bool | None = None) -> list[str]:
    """The steps that would make the photo measurable and comparable, most important first.

    Parameters
    ----------
    codes
        The quality warning codes of the check.
    comparable
        Whether the photo can be compared with the treatment's baseline (``None``: no baseline named).

    Examples
    --------
    >>> capture_advice(["underexposed", "face_too_small"])
    ['Come closer: your face should fill the outline.', 'More light: face a window or a lamp.']
    """
    found = set(codes)
    advice = [text for code, text in ADVICE.items() if code in found]
    if comparable is False:
        advice.append(DIFFERENT_LIGHT)
    return advice
