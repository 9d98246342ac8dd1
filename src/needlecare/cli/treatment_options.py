"""The treatment options shared by ``expect``, ``plan``, ``ingredients`` and ``triage``.

Every option is optional. What is not given is unknown, and each rule takes its own cautious side (see
:mod:`needlecare.knowledge.treatment`): the longest waits and the darker-skin sun advice in the plan and the
ingredient checker, the general (shortest standard) redness window in ``expect`` and ``triage``. An unknown
device is taken as a pen and an unknown area as the face.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from needlecare.cli.errors import fail
from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.treatment import TreatmentParams

DepthOpt = Annotated[
    float | None,
    typer.Option("--depth", help="Needle depth in mm (more than 0, at most 3); unknown if left out."),
]
PassesOpt = Annotated[int, typer.Option("--passes", help="Number of passes, 1-20.")]
DeviceOpt = Annotated[str, typer.Option("--device", help="roller, pen, rf or stamp.")]
AreaOpt = Annotated[str, typer.Option("--area", help="face, neck, chest, body or scalp.")]
SkinOpt = Annotated[
    str | None, typer.Option("--skin-type", help="Fitzpatrick skin type 1-6 (or I-VI); unknown if left out.")
]
SensitiveOpt = Annotated[bool, typer.Option("--sensitive", help="Sensitive skin.")]
RosaceaOpt = Annotated[bool, typer.Option("--rosacea", help="Rosacea.")]
BleedingOpt = Annotated[bool, typer.Option("--bleeding", help="Treated to a pinpoint-bleeding endpoint.")]
PrpOpt = Annotated[bool, typer.Option("--prp", help="PRP applied.")]
SerumOpt = Annotated[bool, typer.Option("--serum", help="Serum applied during treatment.")]
ColdSoreOpt = Annotated[bool, typer.Option("--cold-sores", help="A history of cold sores (herpes).")]


def treatment_params(prefix: str = "Error: ", **values: Any) -> TreatmentParams:
    """Validated :class:`TreatmentParams` from the option values, or one stderr line and exit status 2."""
    try:
        return TreatmentParams.create(**values)
    except InvalidInputError as exc:
        fail(str(exc), prefix)


#: Every treatment option: its parameter name, its Typer annotation, its default and the
#: :class:`TreatmentParams` field it fills.
_OPTIONS: tuple[tuple[str, Any, Any, str], ...] = (
    ("depth", DepthOpt, None, "depth_mm"),
    ("device", DeviceOpt, "pen", "device"),
    ("skin_type", SkinOpt, None, "skin_type"),
    ("passes", PassesOpt, 1, "passes"),
    ("area", AreaOpt, "face", "area"),
    ("sensitive", SensitiveOpt, False, "sensitive"),
    ("rosacea", RosaceaOpt, False, "rosacea"),
    ("bleeding", BleedingOpt, False, "bleeding"),
    ("prp", PrpOpt, False, "prp"),
    ("serum", SerumOpt, False, "serum"),
    ("cold_sores", ColdSoreOpt, False, "cold_sore"),
)


@dataclass(frozen=True)
class TreatmentOptions:
    """The treatment options as given on the command line, validated when :meth:`params` is called (so a
    command checks its own arguments first, in its own order)."""

    values: dict[str, Any]

    def params(self, prefix: str = "Error: ") -> TreatmentParams:
        """The validated treatment, or one stderr line (after *prefix*) and exit status 2."""
        return treatment_params(prefix, **self.values)


#: The default of a command's ``treatment`` parameter; :func:`with_treatment_options` always passes the
#: options given.
GIVEN = TreatmentOptions({})


def with_treatment_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give *command* the treatment options (``--depth``, ``--device``...) where its ``treatment``
    parameter stands; it receives them as one :class:`TreatmentOptions`.

    Typer reads the command's parameters from its signature and annotations, so the wrapper's list the
    options in place of ``treatment``.
    """
    own = inspect.signature(command, eval_str=True)
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    options = [
        inspect.Parameter(name, kind, default=default, annotation=annotation)
        for name, annotation, default, _ in _OPTIONS
    ]
    parameters: list[inspect.Parameter] = []
    for parameter in own.parameters.values():
        parameters.extend(options if parameter.name == "treatment" else [parameter])

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        given = {field: kwargs.pop(name) for name, _, _, field in _OPTIONS}
        command(treatment=TreatmentOptions(given), **kwargs)

    wrapper.__signature__ = own.replace(parameters=parameters)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": None}
    return wrapper
