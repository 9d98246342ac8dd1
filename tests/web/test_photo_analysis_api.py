"""The API's photo analysis: the stored JSON object byte for byte (no ``version``, no added ``null`` keys,
numbers as stored, unknown keys kept), typed in the OpenAPI schema; the photo page reads the same model."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa
from starlette.testclient import TestClient

from needlecare.storage.models import Photo
from needlecare.web.context import WebContext

from .conftest import api_signup, api_treatment

#: The photos table seen as plain JSON, to store a row as an older (unversioned) writer left it.
RAW = sa.table("photos", sa.column("id", sa.Integer()), sa.column("analysis", sa.JSON()))

#: A follow-up's analysis as stored, without ``version``: an integer where a float is usual, keys the model
#: does not name (``light_match``, ``extra``) and optional keys left out (``photo``, ``face`` pose, ...).
STORED: dict[str, Any] = {
    "redness": {"index": 0.81, "unit": "OD_hb", "unit_description": "OD_hb: optical density — haemoglobin"},
    "regions": {"forehead": {"index": 1, "pixels": 5120}, "chin": {"index": None, "pixels": 12}},
    "face": {"box": [250, 150, 300, 300], "faces_found": 1},
    "quality": {"ok": True, "warnings": [], "messages": [], "colour_reference": "none"},
    "notes": [],
    "baseline": {"delta": 0.2, "delta_a_star": 3.0, "comparable": True, "light_match": {"eyes": 0.01}},
    "heatmap_scale": {"min": 0.1, "max": 1.0, "unit": "OD_hb", "from": "baseline"},
    "extra": {"kept": True},
}


def _photo(client: TestClient, ctx: WebContext) -> tuple[int, int]:
    """A treatment with one photo whose analysis is :data:`STORED` written as raw JSON; (treatment, photo)."""
    headers = api_signup(client)
    tid = api_treatment(client, headers, treated_on="2026-11-01")
    uid = client.get("/api/v1/auth/me").json()["id"]
    with ctx.sessions() as db:
        photo = Photo(
            user_id=uid, treatment_id=tid, taken_on=dt.date(2026, 11, 3), day=2, consent="private",
            file_path=f"{uid}/a.jpg", heatmap_path=f"{uid}/a.heatmap.jpg", width=1, height=1,
        )  # fmt: skip
        db.add(photo)
        db.flush()
        db.execute(sa.update(RAW).where(RAW.c.id == photo.id).values(analysis=STORED))
        db.commit()
        return tid, photo.id


def test_the_api_gives_the_stored_analysis_byte_for_byte(client: TestClient, ctx: WebContext) -> None:
    tid, pid = _photo(client, ctx)
    stored = '"analysis":' + json.dumps(STORED, ensure_ascii=False, separators=(",", ":")) + ","
    one = client.get(f"/api/v1/photos/{pid}")
    assert one.status_code == 200
    assert stored in one.text
    assert '"version"' not in one.text
    listed = client.get(f"/api/v1/treatments/{tid}/photos")
    assert stored in listed.text


def test_the_openapi_schema_types_the_analysis(client: TestClient) -> None:
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    photo = next(s for name, s in schemas.items() if name.startswith("PhotoPublic"))
    options = photo["properties"]["analysis"]["anyOf"]
    assert {"type": "null"} in options
    analysis = schemas[next(o["$ref"] for o in options if "$ref" in o).rsplit("/", 1)[1]]
    assert {"redness", "regions", "face", "quality", "notes", "baseline", "heatmap_scale"} <= set(
        analysis["properties"]
    )
    assert analysis["additionalProperties"] is True
    assert schemas["BaselineComparison"]["required"] == ["comparable"]
    assert schemas["HeatmapScale"]["required"] == ["min", "max", "from"]


def test_the_photo_page_reads_the_heatmap_scale(client: TestClient, ctx: WebContext) -> None:
    _, pid = _photo(client, ctx)
    page = client.get(f"/photos/{pid}").text
    assert "The colours use the same scale as every photo of this treatment" in page
    assert "(Scale 0.100–1.000 OD_hb.)" in page
    assert "0.810" in page
