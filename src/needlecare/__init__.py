"""needlecare: measurement and decision support for the days after microneedling.

Decision support, never a diagnosis: every verdict carries the rule and source behind it.

The public Python API:

- :func:`needlecare.analyze_photo` measures facial redness in a photo (see :mod:`needlecare.analysis`);
- :class:`needlecare.TreatmentParams` is the one treatment context that the recovery answers take:
  :func:`needlecare.expected_course`, :func:`needlecare.aftercare_plan`, :func:`needlecare.check_ingredients`
  (``treatment=``), :func:`needlecare.triage` (``treatment=``) and :func:`needlecare.fit_recovery`
  (``treatment=``), all from :mod:`needlecare.knowledge`.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__all__ = [
    "TreatmentParams",
    "__version__",
    "aftercare_plan",
    "analyze_photo",
    "check_ingredients",
    "expected_course",
    "fit_recovery",
    "triage",
]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from needlecare.analysis.pipeline import analyze_photo
    from needlecare.knowledge.curve import fit_recovery
    from needlecare.knowledge.expect import expected_course
    from needlecare.knowledge.ingredients import check_ingredients
    from needlecare.knowledge.plan import aftercare_plan
    from needlecare.knowledge.treatment import TreatmentParams
    from needlecare.knowledge.triage import triage

#: Where each public name lives; imported on first use.
_HOMES = {
    "analyze_photo": "needlecare.analysis.pipeline",
    "TreatmentParams": "needlecare.knowledge.treatment",
    "expected_course": "needlecare.knowledge.expect",
    "aftercare_plan": "needlecare.knowledge.plan",
    "check_ingredients": "needlecare.knowledge.ingredients",
    "triage": "needlecare.knowledge.triage",
    "fit_recovery": "needlecare.knowledge.curve",
}


def __getattr__(name: str) -> Any:
    # Lazy import keeps `import needlecare` and `--help` fast: MediaPipe and OpenCV load on first use.
    if name in _HOMES:
        return getattr(import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'needlecare' has no attribute {name!r}")
