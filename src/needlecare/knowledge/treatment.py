"""The treatment a patient had, validated: the one treatment context that the expected course, the aftercare
plan, the ingredient checker, triage and the recovery curve all take.

The limits here are input sanity checks, not clinical facts: the longest needles in the evidence are 2.5 mm,
so depths above :data:`MAX_DEPTH_MM` are rejected as typing errors.

Unknown values (no depth, no skin type: what the command line and the Python API allow) are resolved by each
rule to its own cautious side, the "most cautious common case":

* waits (plan and ingredient checker) use the long end of each range, as after deep needling, and the
  darker-skin sun window and PIH advice;
* the expected course and triage use the general working rule (typical 1-3 days, outside the expected course
  after day 7), the shortest window of a standard in-clinic treatment, so that triage escalates soonest.
  Very short needles (0.25 mm or less) settle faster still: give the depth to get their window.

An unknown device is taken as a pen and an unknown area as the face (the common case; rollers, RF, neck,
chest and body only lengthen windows and waits).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.evidence import Area, Device

#: Largest accepted needle depth in mm (input sanity limit).
MAX_DEPTH_MM = 3.0
#: Largest accepted number of passes (input sanity limit).
MAX_PASSES = 20

DEVICES: tuple[Device, ...] = ("roller", "pen", "rf", "stamp")
#: The yes/no fields of a treatment, in the order they are listed.
FLAG_FIELDS: tuple[str, ...] = ("sensitive", "rosacea", "bleeding", "prp", "serum", "cold_sore")
AREAS: tuple[Area, ...] = ("face", "neck", "chest", "body", "scalp")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}


def parse_skin_type(value: object) -> int:
    """Fitzpatrick skin type from ``1``..``6``, ``"3"`` or a roman numeral ``"I"``..``"VI"`` -> int 1..6.

    Raises
    ------
    InvalidInputError
        For anything else (``7``, ``"VII"``, ``0``, ``True``), echoing the value.
    """
    if isinstance(value, bool):
        raise InvalidInputError(f"skin type must be 1-6 or I-VI, got {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.strip().upper() in _ROMAN:
        number = _ROMAN[value.strip().upper()]
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise InvalidInputError(f"skin type must be 1-6 or I-VI, got {value!r}")
    if not 1 <= number <= 6:
        raise InvalidInputError(f"skin type must be 1-6 or I-VI, got {value!r}")
    return number


class TreatmentParams(BaseModel):
    """One microneedling treatment.

    Attributes
    ----------
    depth_mm : float or None
        Needle depth in mm, 0 < depth <= 3.0; ``None`` when unknown (see the module docstring).
    passes : int
        Number of passes, 1..20.
    device : {"roller", "pen", "rf", "stamp"}
        ``rf`` = radiofrequency microneedling. Case-insensitive on input.
    area : {"face", "neck", "chest", "body", "scalp"}
        Treated area. Case-insensitive on input.
    skin_type : int or None
        Fitzpatrick type 1..6 (``"I"``..``"VI"`` accepted on input); ``None`` when unknown.
    sensitive, rosacea, bleeding, prp, serum : bool
        Sensitive skin, rosacea, pinpoint-bleeding endpoint, PRP applied, serum applied during treatment.
    cold_sore : bool
        The patient has had cold sores (herpes labialis).

    Construct with keyword arguments (pydantic raises ``ValidationError``, a ``ValueError``) or with
    :meth:`create`, which raises :class:`InvalidInputError` with one plain line.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    depth_mm: float | None = None
    passes: int = 1
    device: Device = "pen"
    area: Area = "face"
    skin_type: int | None = None
    sensitive: bool = False
    rosacea: bool = False
    bleeding: bool = False
    prp: bool = False
    serum: bool = False
    cold_sore: bool = False

    @field_validator("depth_mm", mode="before")
    @classmethod
    def _depth(cls, value: Any) -> float | None:
        if value is None:
            return None
        try:
            depth = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"depth must be a number of mm, got {value!r}") from None
        if isinstance(value, bool) or not 0 < depth <= MAX_DEPTH_MM:
            raise ValueError(f"depth must be more than 0 and at most {MAX_DEPTH_MM:g} mm, got {value!r}")
        return depth

    @field_validator("passes", mode="before")
    @classmethod
    def _passes(cls, value: Any) -> int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value, ok = int(value), True
        if not ok or not 1 <= value <= MAX_PASSES:
            raise ValueError(f"passes must be a whole number from 1 to {MAX_PASSES}, got {value!r}")
        return int(value)

    @field_validator("device", "area", mode="before")
    @classmethod
    def _choice(cls, value: Any, info: Any) -> str:
        options = DEVICES if info.field_name == "device" else AREAS
        if isinstance(value, str) and value.strip().lower() in options:
            return value.strip().lower()
        raise ValueError(f"{info.field_name} must be one of {', '.join(options)}, got {value!r}")

    @field_validator("skin_type", mode="before")
    @classmethod
    def _skin_type(cls, value: Any) -> int | None:
        if value is None:
            return None
        try:
            return parse_skin_type(value)
        except InvalidInputError as exc:
            raise ValueError(str(exc)) from None

    @classmethod
    def create(cls, **values: Any) -> TreatmentParams:
        """Validate *values*; on error raise :class:`InvalidInputError` with the first problem on one line."""
        try:
            return cls(**values)
        except ValidationError as exc:
            raise InvalidInputError(first_error(exc)) from None

    @classmethod
    def of(cls, record: Any) -> TreatmentParams:
        """The parameters of any object with the same attribute names (e.g. a stored treatment row).

        Attributes the object lacks keep their defaults.
        """
        return cls(**{name: getattr(record, name) for name in cls.model_fields if hasattr(record, name)})

    @property
    def skin_type_roman(self) -> str:
        """Skin type as a roman numeral, ``"I"``..``"VI"``, or ``"unknown"``."""
        return next((k for k, v in _ROMAN.items() if v == self.skin_type), "unknown")

    def describe(self) -> str:
        """One plain line: ``"1.5 mm pen, face, skin type IV"`` (``"depth unknown"`` when not given)."""
        depth = "depth unknown" if self.depth_mm is None else f"{self.depth_mm:g} mm"
        return f"{depth} {self.device}, {self.area}, skin type {self.skin_type_roman}"


def first_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one plain line (``"depth must be ..., got 5"``)."""
    err = exc.errors()[0]
    msg = str(err["msg"]).removeprefix("Value error, ")
    field = ".".join(str(p) for p in err["loc"])
    if not field or field.split(".")[0].split("_")[0] in msg:
        return msg
    return f"{field}: {msg}"
