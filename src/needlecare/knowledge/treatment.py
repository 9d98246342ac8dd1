"""The treatment a patient had, validated: the input of
:func:`~needlecare.knowledge.expect.expected_course` and :func:`~needlecare.knowledge.plan.aftercare_plan`.

The limits here are input sanity checks, not clinical facts: the longest needles in the evidence are 2.5 mm,
so depths above :data:`MAX_DEPTH_MM` are rejected as typing errors (the issue names 5 mm).
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
    depth_mm : float
        Needle depth in mm, 0 < depth <= 3.0.
    passes : int
        Number of passes, 1..20.
    device : {"roller", "pen", "rf", "stamp"}
        ``rf`` = radiofrequency microneedling. Case-insensitive on input.
    area : {"face", "neck", "chest", "body", "scalp"}
        Treated area. Case-insensitive on input.
    skin_type : int
        Fitzpatrick type 1..6 (``"I"``..``"VI"`` accepted on input).
    sensitive, rosacea, bleeding, prp, serum : bool
        Sensitive skin, rosacea, pinpoint-bleeding endpoint, PRP applied, serum applied during treatment.

    Construct with keyword arguments (pydantic raises ``ValidationError``, a ``ValueError``) or with
    :meth:`create`, which raises :class:`InvalidInputError` with one plain line.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    depth_mm: float
    passes: int = 1
    device: Device = "pen"
    area: Area = "face"
    skin_type: int = 2
    sensitive: bool = False
    rosacea: bool = False
    bleeding: bool = False
    prp: bool = False
    serum: bool = False

    @field_validator("depth_mm", mode="before")
    @classmethod
    def _depth(cls, value: Any) -> float:
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
    def _skin_type(cls, value: Any) -> int:
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
        """The parameters of any object with the same attribute names (e.g. a stored treatment row)."""
        return cls(**{name: getattr(record, name) for name in cls.model_fields})

    @property
    def skin_type_roman(self) -> str:
        """Skin type as a roman numeral, ``"I"``..``"VI"``."""
        return next(k for k, v in _ROMAN.items() if v == self.skin_type)


def first_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as one plain line (``"depth must be ..., got 5"``)."""
    err = exc.errors()[0]
    msg = str(err["msg"]).removeprefix("Value error, ")
    field = ".".join(str(p) for p in err["loc"])
    if not field or field.split(".")[0].split("_")[0] in msg:
        return msg
    return f"{field}: {msg}"
