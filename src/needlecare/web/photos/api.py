"""JSON API for photos: upload to a treatment, pre-upload quality check, read, image file, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response, UploadFile, status

from needlecare.jobs.slots import photo_slot
from needlecare.web.deps import MAX_ID, CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.photos import files, schemas, service
from needlecare.web.photos.advice import capture_advice
from needlecare.web.photos.sanitize import sanitize
from needlecare.web.photos.upload import read_upload
from needlecare.web.treatments import service as treatments
from needlecare.web.validators import EventDate

router = APIRouter(tags=["photos"])

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such treatment or photo for this user"},
    413: {"description": "Upload larger than the configured limit"},
    415: {"description": "Not a JPEG, PNG or HEIC image"},
    422: {"description": "Invalid form, or a photo that cannot be measured (no face)"},
}


@router.post("/photos/check", responses=ERRORS)
def check_photo(
    file: UploadFile,
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    treatment_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> schemas.PhotoCheck:
    """Measure a photo without storing it, to show quality and lighting warnings before saving.

    With ``treatment_id`` (one of the user's treatments that has a baseline photo) the answer also says
    whether the photo was taken under different light from the baseline, so the patient can retake it in
    the baseline's place and light before saving a photo whose change from baseline could not be trusted.
    """
    treatment = treatments.get(db, user=user, treatment_id=treatment_id) if treatment_id else None
    base_photo = service.baseline_of(db, treatment=treatment) if treatment else None
    data = read_upload(file, ctx.settings)
    with photo_slot():
        report = service.analyse(sanitize(data), base_photo, ctx.store).report
    comparison = report.get("baseline")
    light = None
    if base_photo is not None and comparison is not None:
        light = schemas.BaselineLight(
            baseline_photo_id=base_photo.id,
            lighting_differs=comparison["lighting_differs"],
            comparable=comparison["comparable"],
            notes=comparison["notes"],
        )
    advice = capture_advice(report["quality"]["warnings"], comparable=light.comparable if light else None)
    return schemas.PhotoCheck(
        quality=report["quality"], redness=report["redness"], baseline=light, advice=advice
    )


@router.post("/treatments/{treatment_id}/photos", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def upload_photo(
    treatment_id: RowId,
    file: UploadFile,
    consent: Annotated[schemas.Consent, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    is_baseline: Annotated[bool, Form()] = False,
    taken_on: Annotated[EventDate | None, Form()] = None,
) -> schemas.PhotoPublic:
    """Upload a photo (multipart field ``file``): EXIF stripped, checked, stored with the consent choice.

    The analysis (against the baseline, with the heatmap) runs as a background job: ``analysis_status`` is
    ``pending`` until ``GET /photos/{id}`` shows it ``done`` with the ``analysis`` (in-process jobs finish
    before this answers).
    """
    photo = service.store_upload(db, ctx, treatment_id, file, consent, is_baseline, taken_on, user)
    return schemas.PhotoPublic.of(photo)


@router.get("/treatments/{treatment_id}/photos", responses=ERRORS)
def list_photos(treatment_id: RowId, user: CurrentUser, db: DbDep) -> list[schemas.PhotoPublic]:
    """A treatment's photos in the order taken."""
    treatment = treatments.get(db, user=user, treatment_id=treatment_id)
    return [schemas.PhotoPublic.of(p) for p in service.get_all(db, treatment=treatment)]


@router.get("/photos/{photo_id:int}", responses=ERRORS)
def read_photo(photo_id: RowId, user: CurrentUser, db: DbDep) -> schemas.PhotoPublic:
    """One photo with its analysis."""
    return schemas.PhotoPublic.of(service.get(db, user=user, photo_id=photo_id))


@router.get("/photos/{photo_id:int}/image", responses={**ERRORS, 200: {"content": {"image/jpeg": {}}}})
def read_photo_image(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """The stored (EXIF-free) JPEG."""
    return files.image_response(ctx, service.get(db, user=user, photo_id=photo_id))


@router.get("/photos/{photo_id:int}/heatmap", responses={**ERRORS, 200: {"content": {"image/jpeg": {}}}})
def read_photo_heatmap(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """The redness heatmap drawn at upload (404 when none was drawn)."""
    return files.image_response(ctx, service.get(db, user=user, photo_id=photo_id), heatmap=True)


@router.delete("/photos/{photo_id:int}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def delete_photo(photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """Delete a photo (row and file)."""
    files = service.delete(db, photo=service.get(db, user=user, photo_id=photo_id))
    db.commit()
    for relpath in files:
        ctx.store.delete(relpath)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
