"""HTML pages for photos: capture with the previous photo as a framing guide, result, image, delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.plan import expect_line
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.visibility import visibility
from needlecare.storage.models import Photo, Treatment, User
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.form_errors import shows_errors_on
from needlecare.web.photos import files, schemas, service
from needlecare.web.templating import render
from needlecare.web.timeline.service import not_comparable_reason
from needlecare.web.treatments import service as treatments
from needlecare.web.validators import EventDate

router = APIRouter(include_in_schema=False)


def _capture_context(
    _request: Request, db: Session, user: User | None, params: Mapping[str, Any]
) -> dict[str, Any]:
    treatment = treatments.of_form_path(db, user, params)
    return {
        "user": user,
        "t": treatment,
        "guide": service.baseline_of(db, treatment=treatment) or service.latest_of(db, treatment=treatment),
        "has_baseline": service.baseline_of(db, treatment=treatment) is not None,
        "consent_choices": schemas.CONSENT_CHOICES,
        "today": treatments.today(treatment),
    }


@router.get("/treatments/{treatment_id}/photos/new")
def capture_page(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Upload or take a photo; the latest photo is overlaid translucently to help frame the new one."""
    context = _capture_context(request, db, user, {"treatment_id": treatment_id})
    return render(request, "photo_new.html", context)


@router.post("/treatments/{treatment_id}/photos")
@shows_errors_on(
    "photo_new.html",
    _capture_context,
    {"file": "Photo", "taken_on": "Taken on", "consent": "Consent for this photo"},
    default_field="file",
)
def upload(
    treatment_id: RowId,
    file: UploadFile,
    consent: Annotated[schemas.Consent, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    is_baseline: Annotated[bool, Form()] = False,
    taken_on: Annotated[EventDate | None, Form()] = None,
) -> RedirectResponse:
    """Store the photo and show its analysis."""
    photo = service.store_upload(db, ctx, treatment_id, file, consent, is_baseline, taken_on, user)
    return RedirectResponse(f"/photos/{photo.id}", status_code=303)


def _course_line(treatment: Treatment, day: int, is_baseline: bool) -> str:
    """Where the photo's day lies on the treatment's usual course (the plan's redness line for that day)."""
    if is_baseline or day < 0:
        return ""
    course = expected_course(TreatmentParams.of(treatment))
    return f"Day {day}: {expect_line(course, day)}"


def _trend(photo: Photo, photos: Sequence[Photo]) -> str:
    """How this photo compares with the previous comparable one, in plain words (both against the baseline,
    read against the same minimal visible change as the baseline reading)."""
    change_of = service.comparable_change
    now = change_of(photo)
    if now is None or photo.is_baseline:
        return ""
    earlier = [p for p in photos if not p.is_baseline and p.id != photo.id and p.taken_on <= photo.taken_on]
    before = (photo.taken_on, photo.id)
    earlier = [p for p in earlier if (p.taken_on, p.id) < before and change_of(p) is not None]
    if not earlier:
        return ""
    last = max(earlier, key=lambda p: (p.taken_on, p.id))
    step = now - (change_of(last) or 0.0)
    half = visibility(0.0).threshold / 2
    word = "less red than" if step <= -half else "redder than" if step >= half else "about as red as"
    return f"Since your photo of day {last.day}: {word} then."


@router.get("/photos/{photo_id}")
def show_photo(request: Request, photo_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Region scores, quality warnings and the baseline side by side."""
    photo = service.get(db, user=user, photo_id=photo_id)
    treatment = treatments.get(db, user=user, treatment_id=photo.treatment_id)
    baseline = None if photo.is_baseline else service.baseline_of(db, treatment=treatment)
    comparison = None if photo.analysis is None else photo.analysis.baseline
    change = None if comparison is None else comparison.delta_a_star
    context = {
        "user": user,
        "p": photo,
        "t": treatment,
        "a": photo.analysis,
        "visibility": None if change is None else visibility(float(change)),
        "course_line": _course_line(treatment, photo.day, photo.is_baseline),
        "trend": _trend(photo, service.get_all(db, treatment=treatment)),
        "not_comparable": not_comparable_reason(photo.analysis),
        "baseline": baseline,
        "consent_text": schemas.CONSENT_CHOICES.get(photo.consent, photo.consent),
    }
    return render(request, "photo.html", context)


@router.get("/photos/{photo_id}/face")
def face(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """The photo cropped to the face (the whole photo when no face was found), for pairs and the guide."""
    return files.face_response(ctx, service.get(db, user=user, photo_id=photo_id))


@router.get("/photos/{photo_id}/image")
def photo_image(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """The stored JPEG for the page's <img>."""
    return files.image_response(ctx, service.get(db, user=user, photo_id=photo_id))


@router.get("/photos/{photo_id}/heatmap")
def photo_heatmap(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """The heatmap JPEG for the page's <img>."""
    return files.image_response(ctx, service.get(db, user=user, photo_id=photo_id), heatmap=True)


@router.get("/photos/{photo_id}/delete")
def confirm_delete(request: Request, photo_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Ask before deleting a photo."""
    photo = service.get(db, user=user, photo_id=photo_id)
    label = "the baseline photo" if photo.is_baseline else f"the photo of day {photo.day}"
    context = {
        "user": user,
        "what": "this photo",
        "details": [f"{label} ({photo.taken_on:%d %b %Y}), its measurement and heatmap"],
        "action": f"/photos/{photo.id}/delete",
        "cancel": f"/photos/{photo.id}",
    }
    return render(request, "confirm_delete.html", context)


@router.post("/photos/{photo_id}/delete")
def delete(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> RedirectResponse:
    """Delete the photo (row and file) and return to the treatment, which says it was done."""
    photo = service.get(db, user=user, photo_id=photo_id)
    treatment_id = photo.treatment_id
    files = service.delete(db, photo=photo)
    db.commit()
    for relpath in files:
        ctx.store.delete(relpath)
    return RedirectResponse(f"/treatments/{treatment_id}?deleted=photo", status_code=303)
