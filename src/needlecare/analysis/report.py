"""The redness report of one photo, and its JSON form (the ``analyze --json`` contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from needlecare.hints import FloatArray, ImageU8, Mask
from needlecare.imaging.quality import QualityWarning
from needlecare.imaging.reference import ColourReference

UNIT_DESCRIPTION = (
    "OD_hb: natural-log optical density along the unit haemoglobin direction of linear sRGB, with melanin "
    "and shading removed; +1 OD_hb is the change from adding haemoglobin absorption of 1 OD_hb"
)


@dataclass(frozen=True)
class RegionScore:
    """Robust (10-90 % trimmed) mean index of a region, None when too few pixels were measurable."""

    index: float | None
    pixels: int


@dataclass(frozen=True)
class FaceGeometry:
    """Face box ``(x, y, w, h)`` in pixels of the full-resolution, upright photo; head pose in degrees."""

    box: tuple[int, int, int, int]
    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class AnalysisFrame:
    """Arrays of the analysis frame (the face crop scaled to a fixed eye distance), kept for pictures and
    baseline registration; not part of the JSON."""

    rgb: ImageU8
    linear: FloatArray
    index_map: FloatArray
    valid: Mask
    regions: dict[str, Mask]
    landmarks: FloatArray
    native_eye_distance: float
    #: ``(left, top, right, bottom)`` of the frame's crop in the full-resolution upright photo, px (the frame
    #: is this rectangle scaled, not rotated); pictures drawn finer than the frame map back through it.
    source_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


@dataclass(frozen=True)
class BaselineComparison:
    """Follow-up minus baseline, per region and for the whole face (positive = redder than baseline)."""

    photo: str | None
    index: float
    delta: float
    regions: dict[str, dict[str, float | None]]
    lighting_differs: bool
    comparable: bool
    notes: list[str]
    difference_pixels: int
    difference_mean: float | None
    difference_map: FloatArray | None = field(default=None, repr=False, compare=False)
    delta_a_star: float | None = None
    visible_delta: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "photo": self.photo,
            "index": self.index,
            "delta": self.delta,
            "delta_a_star": self.delta_a_star,
            "visible_delta": self.visible_delta,
            "regions": self.regions,
            "lighting_differs": self.lighting_differs,
            "comparable": self.comparable,
            "notes": self.notes,
            "difference_map": {"pixels": self.difference_pixels, "mean": self.difference_mean},
        }


@dataclass(frozen=True)
class PhotoReport:
    """Everything measured on one photo. ``to_dict()`` is the ``analyze --json`` object."""

    photo: str | None
    index: float
    unit: str
    regions: dict[str, RegionScore]
    face: FaceGeometry
    warnings: list[QualityWarning]
    reference: ColourReference
    faces_found: int
    notes: list[str]
    frame: AnalysisFrame = field(repr=False, compare=False)
    baseline: BaselineComparison | None = None

    @property
    def quality_ok(self) -> bool:
        """True when no quality warning limits the measurement."""
        return not self.warnings

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of the contract (extra keys only add information)."""
        result: dict[str, Any] = {
            "photo": self.photo,
            "redness": {"index": self.index, "unit": self.unit, "unit_description": UNIT_DESCRIPTION},
            "regions": {name: {"index": s.index, "pixels": s.pixels} for name, s in self.regions.items()},
            "face": {
                "box": list(self.face.box),
                "yaw": self.face.yaw,
                "pitch": self.face.pitch,
                "roll": self.face.roll,
                "faces_found": self.faces_found,
            },
            "quality": {
                "ok": self.quality_ok,
                "warnings": [w.code for w in self.warnings],
                "messages": [w.message for w in self.warnings],
                "colour_reference": self.reference.kind,
                "colour_reference_detail": self.reference.detail,
            },
            "notes": self.notes,
        }
        if self.baseline is not None:
            result["baseline"] = self.baseline.to_dict()
        return result
