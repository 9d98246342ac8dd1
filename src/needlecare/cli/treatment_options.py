"""The treatment options shared by ``expect``, ``plan``, ``ingredients`` and ``triage``.

Every option is optional. What is not given is unknown, and each rule takes its own cautious side (see
:mod:`needlecare.knowledge.treatment`): the longest waits and the darker-skin sun advice in the plan and the
ingredient checker, the general (shortest standard) redness window in ``expect`` and ``triage``. An unknown
device is taken as a pen and an unknown area as the face.
"""

from __future__ import annotations

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
