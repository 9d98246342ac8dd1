"""needlecare: measurement and decision support for the days after microneedling.

Decision support, never a diagnosis: every verdict carries the rule and source behind it.

The public Python API:

- :func:`needlecare.analyze_photo` measures facial redness in a photo (see :mod:`needlecare.analysis`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["__version__", "analyze_photo"]
__version__ = "0.1.0"

if TYPE_CHECKING:
    from needlecare.analysis.pipeline import analyze_photo


def __getattr__(name: str) -> Any:
    # Lazy import keeps `import needlecare` and `--help` fast: MediaPipe and OpenCV load on first use.
    if name == "analyze_photo":
        from needlecare.analysis.pipeline import analyze_photo

        return analyze_photo
    raise AttributeError(f"module 'needlecare' has no attribute {name!r}")
