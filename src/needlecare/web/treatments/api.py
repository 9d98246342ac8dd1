"""JSON API for treatments under ``/api/v1/treatments``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from needlecare.knowledge import treatment_course as course
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.treatments import calendar_file, schemas, service

router = APIRouter(prefix="/treatments", tags=["treatments"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such treatment for this user"}}


@router.get("")
def list_treatments(user: CurrentUser, db: DbDep) -> list[schemas.TreatmentPublic]:
    """The user's treatments, newest first."""
    return [schemas.TreatmentPublic.model_validate(t) for t in service.get_all(db, user=user)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_treatment(body: schemas.TreatmentCreate, user: CurrentUser, db: DbDep) -> schemas.TreatmentDetail:
    """Record a treatment."""
    treatment = service.create(db, user=user, data=body)
    # computed before the commit: a value it cannot compute with is never stored
    out = service.detail(treatment)
    db.commit()
    return out


@router.get("/{treatment_id}", responses=NOT_FOUND)
def read_treatment(treatment_id: RowId, user: CurrentUser, db: DbDep) -> schemas.TreatmentDetail:
    """One treatment with its expected course and today's aftercare."""
    return service.detail(service.get(db, user=user, treatment_id=treatment_id))


@router.patch("/{treatment_id}", responses=NOT_FOUND)
def update_treatment(
    treatment_id: RowId, body: schemas.TreatmentUpdate, user: CurrentUser, db: DbDep
) -> schemas.TreatmentDetail:
    """Change the fields sent."""
    treatment = service.update(db, treatment=service.get(db, user=user, treatment_id=treatment_id), data=body)
    out = service.detail(treatment)  # computed before the commit, as in create_treatment
    db.commit()
    return out


@router.delete("/{treatment_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_treatment(treatment_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """Delete a treatment with its photos (rows and files) and check-ins."""
    files = service.delete(db, treatment=service.get(db, user=user, treatment_id=treatment_id))
    db.commit()
    for relpath in files:
        ctx.store.delete(relpath)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{treatment_id}/plan", responses=NOT_FOUND)
def read_plan(treatment_id: RowId, user: CurrentUser, db: DbDep) -> dict[str, Any]:
    """The whole day-by-day aftercare plan with its reasons and sources."""
    return course.plan(service.get(db, user=user, treatment_id=treatment_id))


@router.get("/{treatment_id}/plan.ics", responses={**NOT_FOUND, 200: {"content": {"text/calendar": {}}}})
def read_plan_ics(treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """The aftercare plan as an iCalendar file."""
    return calendar_file.ics_response(service.get(db, user=user, treatment_id=treatment_id))
