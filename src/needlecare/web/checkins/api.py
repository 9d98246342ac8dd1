"""JSON API for daily check-ins and the symptom vocabulary."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from needlecare.knowledge.triage import SYMPTOMS
from needlecare.storage.models import CheckIn, User
from needlecare.web.checkins import schemas, service
from needlecare.web.clinics import alerts
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.treatments import service as treatments

router = APIRouter(tags=["check-ins"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such treatment or check-in for this user"}
}


@router.get("/symptoms")
def list_symptoms() -> dict[str, str]:
    """Symptom ids accepted by check-ins, with their plain descriptions."""
    return dict(SYMPTOMS)


def public(db: Session, user: User, checkin: CheckIn) -> schemas.CheckInPublic:
    """The API view of *checkin*, with the clinics' emergency contacts when its verdict is urgent."""
    out = schemas.CheckInPublic.model_validate(checkin)
    if str(checkin.triage.get("urgency")) in alerts.URGENT_FOR_PATIENT:
        out.clinic_contacts = [
            schemas.ClinicContact(
                clinic_id=m.clinic.id, name=m.clinic.name, emergency_contact=m.clinic.emergency_contact
            )
            for m in alerts.patient_clinics(db, user=user)
        ]
    return out


@router.post("/treatments/{treatment_id}/checkins", status_code=status.HTTP_201_CREATED, responses=NOT_FOUND)
def create_checkin(
    treatment_id: RowId, body: schemas.CheckInCreate, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> schemas.CheckInPublic:
    """Record a check-in; the response carries the triage verdict with reasons and sources.

    A verdict more urgent than routine raises a flag in each clinic the patient joined (same-day and
    emergency ones are mailed to the clinic's alert address at once).
    """
    checkin = service.create(
        db, treatment=treatments.get(db, user=user, treatment_id=treatment_id), data=body
    )
    db.commit()
    alerts.notify(db, jobs=ctx.jobs, patient=user, base_url=ctx.settings.base_url)
    return public(db, user, checkin)


@router.get("/treatments/{treatment_id}/checkins", responses=NOT_FOUND)
def list_checkins(treatment_id: RowId, user: CurrentUser, db: DbDep) -> list[schemas.CheckInPublic]:
    """A treatment's check-ins in date order."""
    treatment = treatments.get(db, user=user, treatment_id=treatment_id)
    return [schemas.CheckInPublic.model_validate(c) for c in service.get_all(db, treatment=treatment)]


@router.get("/checkins/{checkin_id}", responses=NOT_FOUND)
def read_checkin(checkin_id: RowId, user: CurrentUser, db: DbDep) -> schemas.CheckInPublic:
    """One check-in with its verdict."""
    return public(db, user, service.get(db, user=user, checkin_id=checkin_id))


@router.delete("/checkins/{checkin_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_checkin(checkin_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Delete a check-in."""
    service.delete(db, checkin=service.get(db, user=user, checkin_id=checkin_id))
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
