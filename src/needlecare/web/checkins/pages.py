"""HTML pages for the daily check-in: the form and the triage verdict."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.triage import SYMPTOMS
from needlecare.storage.models import AuditEvent, User
from needlecare.web.checkins import schemas, service
from needlecare.web.clinics import alerts
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.errors import UnprocessableError
from needlecare.web.form_errors import shows_errors_on
from needlecare.web.templating import render
from needlecare.web.treatments import service as treatments
from needlecare.web.treatments import today
from needlecare.web.validators import EventDate

router = APIRouter(include_in_schema=False)


def _form_context(
    _request: Request, db: Session, user: User | None, params: Mapping[str, Any]
) -> dict[str, Any]:
    treatment = treatments.of_form_path(db, user, params)
    today = treatments.today(treatment)
    return {
        "user": user,
        "t": treatment,
        "today": today,
        "day": treatments.day_number(treatment, today),
        "ratings": schemas.rating_labels(),
        "symptoms": SYMPTOMS,
        "symptom_groups": evidence().red_flags.symptom_groups,
    }


@router.get("/treatments/{treatment_id}/checkins/new")
def checkin_form(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Self-rating and symptom checklist."""
    context = _form_context(request, db, user, {"treatment_id": treatment_id})
    return render(request, "checkin_new.html", context)


@router.post("/treatments/{treatment_id}/checkins")
@shows_errors_on(
    "checkin_new.html",
    _form_context,
    {"self_rating": "How red is the treated skin", "symptoms": "Symptoms", "checked_on": "Date"},
)
def create_checkin(
    treatment_id: RowId,
    self_rating: Annotated[int, Form(ge=0, le=4)],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    symptoms: Annotated[list[str] | None, Form()] = None,
    checked_on: Annotated[EventDate | None, Form()] = None,
) -> RedirectResponse:
    """Triage and store the check-in, then show the verdict."""
    try:
        data = schemas.CheckInCreate(self_rating=self_rating, symptoms=symptoms or [], checked_on=checked_on)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    treatment = treatments.get(db, user=user, treatment_id=treatment_id)
    checkin = service.create(db, treatment=treatment, data=data)
    db.commit()
    alerts.notify(db, jobs=ctx.jobs, patient=user, base_url=ctx.settings.base_url)
    return RedirectResponse(f"/checkins/{checkin.id}", status_code=303)


@router.get("/checkins/{checkin_id}")
def show_checkin(request: Request, checkin_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """The verdict, prominently, with its reasons and sources."""
    checkin = service.get(db, user=user, checkin_id=checkin_id)
    urgency = str(checkin.triage.get("urgency", "routine"))
    context = {
        "user": user,
        "c": checkin,
        "urgency": urgency,
        "headline": schemas.URGENCY_HEADLINES.get(urgency, urgency),
        "symptom_text": [SYMPTOMS.get(s, s) for s in checkin.symptoms],
        "rating_text": schemas.rating_labels().get(checkin.self_rating, str(checkin.self_rating)),
        "clinics": [m.clinic for m in alerts.patient_clinics(db, user=user)],
        "urgent": urgency in alerts.URGENT_FOR_PATIENT,
        "red": urgency in today.ALERT,
        "handled": today.handled_event(db, checkin) if urgency in today.ALERT else None,
    }
    return render(request, "checkin.html", context)


@router.post("/checkins/{checkin_id}/handled")
def mark_handled(
    checkin_id: RowId,
    user: CurrentUser,
    db: DbDep,
    note: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    """The patient records that a red verdict was handled (they contacted their provider or a doctor).

    The record is an audit event naming the check-in, with the patient's optional note; the red card of the
    treatment then says when it was handled instead of asking again. A later red check-in is red again.
    """
    checkin = service.get(db, user=user, checkin_id=checkin_id)
    if str((checkin.triage or {}).get("urgency")) not in today.ALERT:
        raise UnprocessableError(
            "Only a check-in that asked you to contact someone today can be marked handled."
        )
    if today.handled_event(db, checkin) is None:
        detail = {"checkin_id": checkin.id, "treatment_id": checkin.treatment_id, "note": note.strip()}
        db.add(AuditEvent(user_id=user.id, action=today.HANDLED_ACTION, detail=detail))
        db.commit()
    return RedirectResponse(f"/treatments/{checkin.treatment_id}", status_code=303)
