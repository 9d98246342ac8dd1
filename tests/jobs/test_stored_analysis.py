"""The analysis the job stores matches the stored-analysis model: every key the model names is written (a key
renamed in the report fails here, not silently on a page), and the stored JSON reads back unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from needlecare.jobs import photos
from needlecare.storage.photo_analysis import PhotoAnalysis, StoredObject, parse_analysis


def _unwritten(model: BaseModel, where: str = "") -> list[str]:
    """Declared keys of *model* and its nested stored objects that the stored JSON did not have."""
    missing = [f"{where}{name}" for name in type(model).model_fields if name not in model.model_fields_set]
    missing = [name for name in missing if name != "version"]  # the column type adds it when writing
    for name in model.model_fields_set & set(type(model).model_fields):
        value = getattr(model, name)
        children = value.items() if isinstance(value, dict) else [("", value)]
        for key, child in children:
            if isinstance(child, StoredObject):
                missing += _unwritten(child, f"{where}{name}{'.' + key if key else ''}.")
    return missing


def _stored(faces_dir: Path, name: str, baseline: Path | None) -> dict[str, Any]:
    """What the job stores for test face *name*, as it reads back from a JSON column."""
    report = photos.measure((faces_dir / name).read_bytes(), baseline, heatmap=False).report
    loaded: dict[str, Any] = json.loads(json.dumps(report))
    return loaded


def test_the_job_writes_every_key_the_model_names(faces_dir: Path) -> None:
    follow_up = _stored(faces_dir, "obama2.jpg", faces_dir / "obama.jpg")
    analysis = parse_analysis(follow_up)
    assert _unwritten(analysis) == []
    assert analysis.baseline is not None
    assert analysis.model_dump(mode="json") == follow_up
    alone = parse_analysis(_stored(faces_dir, "obama.jpg", None))
    assert alone.baseline is None
    assert _unwritten(alone) == ["baseline"]  # measured without a baseline photo


def test_the_model_names_every_section_of_the_report() -> None:
    sections = {"photo", "redness", "regions", "face", "quality", "notes", "baseline", "heatmap_scale"}
    assert set(PhotoAnalysis.model_fields) == sections | {"version"}
