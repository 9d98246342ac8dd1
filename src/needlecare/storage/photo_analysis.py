"""The stored analysis of a photo (``photos.analysis``): a versioned pydantic model, parsed when read.

The analysis job (:mod:`needlecare.jobs.photos`) stores the photo's report (``PhotoReport.to_dict()``, the
``analyze --json`` object) with the heatmap's colour scale. :class:`PhotoAnalysis` is that object as the web
pages, the exports and the API read it. Its ``version`` is written with every row; a row stored without one
reads as version 1 (the shape of every row written so far). A row that does not match its version (a required
key missing or renamed, a value of the wrong type, an unknown version) raises
:class:`InvalidStoredAnalysisError` when it is read, naming the key.

Serialized, a parsed analysis gives back the keys of the stored object and no others: a key absent from the
row is not written out as ``null``, and keys the model does not name (added by a newer writer, e.g. another
field of the baseline comparison) are kept as they are. Numbers keep their JSON type (an integer stays an
integer).
``version`` goes to the database only (:meth:`PhotoAnalysis.stored_json`), not to the API.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    PlainSerializer,
    PlainValidator,
    SerializerFunctionWrapHandler,
    ValidationError,
    WithJsonSchema,
    model_serializer,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core.core_schema import CoreSchema

#: The version :class:`PhotoAnalysis` reads and writes.
VERSION: Literal[1] = 1


class InvalidStoredAnalysisError(ValueError):
    """A stored analysis does not match the shape of its version."""


def _number(value: Any) -> float:
    """*value* unchanged when it is a JSON number (int or float, not bool); ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {type(value).__name__}")
    return value


def _same(value: Any) -> Any:
    return value


#: A JSON number read and written back as it is stored (``1`` stays ``1``, ``1.0`` stays ``1.0``).
Number = Annotated[
    float,
    PlainValidator(_number),
    PlainSerializer(_same, return_type=Any),
    WithJsonSchema({"type": "number"}),
]


class StoredObject(BaseModel):
    """A JSON object of the stored analysis: unknown keys kept, serialized with the keys it was read with."""

    model_config = ConfigDict(extra="allow", frozen=True, serialize_by_alias=True)

    @model_serializer(mode="wrap")
    def _stored_keys(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The serialized object without the declared keys the stored object did not have."""
        data = handler(self)
        fields = type(self).model_fields
        absent = {
            field.serialization_alias or field.alias or name
            for name, field in fields.items()
            if name not in self.model_fields_set
        }
        return {key: value for key, value in data.items() if key not in absent}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The schema of the fields (the serializer writes a subset of them, so its own would say nothing)."""
        fields_only = {key: value for key, value in core_schema.items() if key != "serialization"}
        return handler(fields_only)


class Redness(StoredObject):
    """The whole-face redness index and its unit."""

    index: Number
    unit: str | None = None
    unit_description: str | None = None


class RegionScore(StoredObject):
    """One face region's index (``None``: too few measurable pixels) and its measured pixels."""

    index: Number | None
    pixels: int


class Face(StoredObject):
    """The measured face: box ``[x, y, w, h]`` (px of the upright photo), head pose (degrees), faces found."""

    box: tuple[int, int, int, int] | None = None
    yaw: Number | None = None
    pitch: Number | None = None
    roll: Number | None = None
    faces_found: int | None = None


class Quality(StoredObject):
    """Photo quality: ``ok`` when no warning limits the measurement, the warning codes and messages, and how
    colour was normalised (``colour_reference``)."""

    ok: bool
    warnings: list[str] = Field(default_factory=list)
    messages: list[str] = Field(default_factory=list)
    colour_reference: str | None = None
    colour_reference_detail: str | None = None


class RegionChange(StoredObject):
    """One region's index on the baseline photo and its change since (``None``: not measurable)."""

    baseline: Number | None = None
    delta: Number | None = None


class DifferenceMap(StoredObject):
    """Pixels and mean of the registered follow-up-minus-baseline difference map."""

    pixels: int | None = None
    mean: Number | None = None


class BaselineComparison(StoredObject):
    """The photo against its treatment's baseline photo (positive changes are redder than the baseline).

    ``comparable`` is False when the two were taken under other light with no colour card and no match of the
    light on the eyes, or with more than one face: the change then mixes skin and light (or faces).
    """

    photo: str | None = None
    index: Number | None = None
    delta: Number | None = None
    delta_a_star: Number | None = None
    visible_delta: Number | None = None
    regions: dict[str, RegionChange] = Field(default_factory=dict)
    lighting_differs: bool | None = None
    comparable: bool
    notes: list[str] = Field(default_factory=list)
    difference_map: DifferenceMap | None = None


class HeatmapScale(StoredObject):
    """The colour scale of the photo's heatmap and where it comes from (``baseline`` or ``this photo``)."""

    min: Number
    max: Number
    unit: str | None = None
    source: str = Field(alias="from")


class PhotoAnalysis(StoredObject):
    """The stored analysis of one photo, version 1.

    Every section is optional (a missing one reads as ``None``, a missing list as empty); inside a section,
    the keys it means nothing without are required: ``redness.index``, each region's ``index`` and
    ``pixels``, ``quality.ok``, ``baseline.comparable`` and the heatmap scale's ``min``, ``max`` and
    ``from``.
    """

    version: Literal[1] = Field(default=VERSION, exclude=True)
    photo: str | None = None
    redness: Redness | None = None
    regions: dict[str, RegionScore] = Field(default_factory=dict)
    face: Face | None = None
    quality: Quality | None = None
    notes: list[str] = Field(default_factory=list)
    baseline: BaselineComparison | None = None
    heatmap_scale: HeatmapScale | None = None

    @property
    def index(self) -> float | None:
        """The whole-face redness index, or None when the face was not measured."""
        return None if self.redness is None else self.redness.index

    def region_index(self, region: str) -> float | None:
        """Index of face *region*, None when it had too few measurable pixels or was not measured."""
        score = self.regions.get(region)
        return None if score is None else score.index

    @property
    def comparable(self) -> bool:
        """Whether the index may be compared with the baseline's (True when there is no comparison)."""
        return self.baseline is None or self.baseline.comparable

    @property
    def comparable_delta_a_star(self) -> float | None:
        """The change from the baseline in CIELAB a*, None when not measured or not comparable."""
        if self.baseline is None or not self.baseline.comparable:
            return None
        return self.baseline.delta_a_star

    @property
    def several_faces(self) -> bool:
        """Whether more than one face was found in the photo."""
        return self.face is not None and (self.face.faces_found or 1) > 1

    def stored_json(self) -> dict[str, Any]:
        """The JSON object written to the database: ``version`` first, then the analysis as read."""
        return {"version": self.version, **self.model_dump(mode="json")}


def parse_analysis(data: Any) -> PhotoAnalysis:
    """The stored JSON *data* as a :class:`PhotoAnalysis`; an object without ``version`` is version 1.

    Raises
    ------
    InvalidStoredAnalysisError
        *data* is not an object of a known version's shape; the message names the keys.

    Examples
    --------
    >>> parse_analysis({"redness": {"index": 0.5, "unit": "OD_hb"}}).version
    1
    >>> parse_analysis({"redness": {"value": 0.5}})
    Traceback (most recent call last):
    ...
    needlecare.storage.photo_analysis.InvalidStoredAnalysisError: stored photo analysis does not match \
version 1: redness.index: Field required
    """
    if isinstance(data, PhotoAnalysis):
        return data
    if not isinstance(data, dict):
        raise InvalidStoredAnalysisError(f"stored photo analysis is not a JSON object: {type(data).__name__}")
    try:
        return PhotoAnalysis.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        version = data.get("version", VERSION)
        raise InvalidStoredAnalysisError(
            f"stored photo analysis does not match version {version}: {problems}"
        ) from exc
