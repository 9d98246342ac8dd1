"""Photos a patient shares with their practitioner: staff of the patient's clinic see exactly those (the same
aligned face crops the patient sees), every view is in the patient's audit trail, and leaving ends it."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
import pytest
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import select

from needlecare.storage.models import AuditEvent, Photo, Treatment
from needlecare.web.context import WebContext

from .clinic_setup import Member, create_clinic, join, signup, staff_treatment
from .conftest import api_treatment


def _photo(
    ctx: WebContext, owner: Member, tid: int, day: int, consent: str, *, baseline: bool = False
) -> int:
    """A stored photo file and its row, with an analysed face box (no analysis job needed)."""
    image = np.full((600, 800, 3), 30, np.uint8)
    image[150:450, 250:550] = (200, 120 + day, 100)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=90)
    rel = f"{owner.uid}/{tid}-{day}-{consent}.jpg"
    path = ctx.store.path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    with ctx.sessions() as db:
        treated = db.get(Treatment, tid)
        assert treated is not None
        photo = Photo(
            user_id=owner.uid, treatment_id=tid, taken_on=treated.treated_on + dt.timedelta(days=day),
            day=day, is_baseline=baseline, consent=consent, file_path=rel, width=800, height=600,
            analysis={"face": {"box": [250, 150, 300, 300]}, "redness": {"index": 1.0 + day / 10}},
        )  # fmt: skip
        db.add(photo)
        db.commit()
        return photo.id


@dataclass
class Scene:
    doc: Member
    pat: Member
    cid: int
    tid: int
    shared: list[int]
    private: int


@pytest.fixture
def scene(app: FastAPI, ctx: WebContext) -> Scene:
    doc = signup(app, "doc@example.org")
    cid = create_clinic(doc)
    pat = join(app, doc, cid, "pat@example.org", "patient", "Pat")
    tid = staff_treatment(doc, cid, pat, days_ago=3)
    before = _photo(ctx, pat, tid, -1, "clinician", baseline=True)
    private = _photo(ctx, pat, tid, 1, "private")
    after = _photo(ctx, pat, tid, 3, "clinician")
    return Scene(doc, pat, cid, tid, [before, after], private)


def views(ctx: WebContext, uid: int) -> list[AuditEvent]:
    with ctx.sessions() as db:
        stmt = select(AuditEvent).where(AuditEvent.user_id == uid, AuditEvent.action == "clinic_photo_viewed")
        return list(db.scalars(stmt.order_by(AuditEvent.id)))


def test_staff_see_exactly_the_shared_photos_as_the_patient_sees_them(scene: Scene, ctx: WebContext) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    record = doc.client.get(f"/api/v1/clinics/{cid}/patients/{pat.uid}").json()
    shared = [m["photo_id"] for m in record["treatments"][0]["measurements"] if m["shared"]]
    assert sorted(shared) == sorted(scene.shared)
    for pid in scene.shared:
        r = doc.client.get(f"/api/v1/clinics/{cid}/photos/{pid}/face")
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["cache-control"] == "private, no-store"
        assert r.content == pat.client.get(f"/photos/{pid}/face").content  # the patient's aligned crop
    assert doc.client.get(f"/api/v1/clinics/{cid}/photos/{scene.private}/face").status_code == 404
    assert doc.client.get(f"/photos/{scene.shared[0]}/face").status_code == 404  # never the patient's route
    page = doc.client.get(f"/clinics/{cid}/patients/{pat.uid}").text
    assert "Before and after" in page
    for pid in scene.shared:
        assert f"/clinics/{cid}/photos/{pid}/face" in page
    assert f"/clinics/{cid}/photos/{scene.private}/face" not in page
    assert doc.client.get(f"/clinics/{cid}/photos/{scene.shared[1]}/face").status_code == 200

    seen = views(ctx, pat.uid)
    assert len(seen) == 3  # two API views and one page view
    assert {e.photo_id for e in seen} == set(scene.shared)
    assert {e.detail["viewer_id"] for e in seen} == {doc.uid}
    account = pat.client.get("/account").text  # the patient reads the trail
    assert "Who saw your shared photos" in account
    assert account.count("doc@example.org") == 3


def test_no_photo_of_anyone_else_and_none_after_the_patient_leaves(
    scene: Scene, ctx: WebContext, app: FastAPI
) -> None:
    doc, pat, cid = scene.doc, scene.pat, scene.cid
    # a patient of no clinic who shares a photo "with my practitioner"
    loner = signup(app, "loner@example.org")
    loner_photo = _photo(ctx, loner, api_treatment(loner.client, loner.headers), 1, "clinician")
    assert doc.client.get(f"/api/v1/clinics/{cid}/photos/{loner_photo}/face").status_code == 404
    # staff of another clinic, and the patient member itself
    other = signup(app, "other@example.org")
    other_cid = create_clinic(other, "Elsewhere")
    for pid in scene.shared:
        assert other.client.get(f"/api/v1/clinics/{other_cid}/photos/{pid}/face").status_code == 404
        assert other.client.get(f"/api/v1/clinics/{cid}/photos/{pid}/face").status_code == 404
        assert pat.client.get(f"/api/v1/clinics/{cid}/photos/{pid}/face").status_code == 403
    assert doc.client.get(f"/api/v1/clinics/{cid}/photos/999999/face").status_code == 404
    assert views(ctx, pat.uid) == []
    assert views(ctx, loner.uid) == []

    r = pat.client.post(f"/api/v1/clinics/{cid}/leave", headers=pat.headers)
    assert r.status_code == 204
    for pid in scene.shared:
        assert doc.client.get(f"/api/v1/clinics/{cid}/photos/{pid}/face").status_code == 404
        assert doc.client.get(f"/clinics/{cid}/photos/{pid}/face").status_code == 404
    assert views(ctx, pat.uid) == []
