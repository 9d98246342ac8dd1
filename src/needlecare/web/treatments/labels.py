"""Human-readable names of a treatment's fields and values: the treatment form and mails about a treatment."""

from __future__ import annotations

import datetime as dt
import textwrap

#: The devices as the form and mails name them.
DEVICE_NAMES = {
    "roller": "Derma roller",
    "pen": "Microneedling pen",
    "rf": "Radiofrequency microneedling",
    "stamp": "Derma stamp",
}

#: Fitzpatrick skin types 1-6.
SKIN_TYPES = {
    1: "I – always burns",
    2: "II – usually burns",
    3: "III – sometimes burns",
    4: "IV – rarely burns",
    5: "V – very rarely burns",
    6: "VI – never burns",
}

#: The yes/no fields (check boxes on the form).
FLAGS = {
    "sensitive": "Sensitive skin",
    "rosacea": "Rosacea",
    "bleeding": "Pinpoint bleeding during treatment",
    "prp": "PRP applied",
    "serum": "Serum applied during treatment",
    "cold_sore": "I have had cold sores",
}

#: The factors as a treatment's summary names them.
FACTOR_NAMES = {**FLAGS, "cold_sore": "History of cold sores"}

#: Every editable field, in the form's order.
FIELD_NAMES = {
    "treated_on": "Date of treatment",
    "device": "Device",
    "depth_mm": "Needle depth",
    "passes": "Passes",
    "area": "Treated area",
    "skin_type": "Skin type (Fitzpatrick)",
    **FLAGS,
    "timezone": "Time zone",
    "notes": "Notes",
}

#: Notes longer than this are shortened in mails (the treatment page shows them in full).
NOTES_SHOWN = 80


def long_date(day: dt.date) -> str:
    """*day* as ``20 November 2026`` (no leading zero)."""
    return f"{day.day} {day:%B %Y}"


def value_text(field: str, value: object) -> str:
    """The value of *field* as a patient reads it, e.g. ``1.5 mm``, ``Microneedling pen`` or ``yes``."""
    if isinstance(value, dt.date):
        return long_date(value)
    if field in FLAGS:
        return "yes" if value else "no"
    if field == "device":
        return DEVICE_NAMES.get(str(value), str(value))
    if field == "skin_type" and isinstance(value, int):
        return SKIN_TYPES.get(value, str(value))
    if field == "depth_mm" and isinstance(value, (int, float)):
        return f"{value:g} mm"
    if field == "notes":
        if not value:
            return "none"
        return f'"{_shortened(str(value))}"'
    return str(value)


def _shortened(text: str) -> str:
    """*text* on one line, cut after a word (mid-word only if the first word is too long) with "…" to at most
    :data:`NOTES_SHOWN` characters."""
    text = " ".join(text.split())
    if len(text) <= NOTES_SHOWN:
        return text
    if " " in text[:NOTES_SHOWN]:
        return textwrap.shorten(text, NOTES_SHOWN, placeholder="…")
    return text[: NOTES_SHOWN - 1] + "…"


def change_lines(changes: dict[str, tuple[object, object]]) -> list[str]:
    """One line per changed field, in the form's order: ``Needle depth: 1 mm → 1.5 mm``.

    Parameters
    ----------
    changes
        ``{field: (old value, new value)}`` as :func:`needlecare.web.treatments.service.changes` returns.
    """
    lines = []
    for field, name in FIELD_NAMES.items():
        if field in changes:
            old, new = changes[field]
            lines.append(f"{name}: {value_text(field, old)} → {value_text(field, new)}")
    return lines
