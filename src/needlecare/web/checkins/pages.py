"""HTML pages for the daily check-in: the form and the triage verdict."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from starlette.responses import Response

from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.triage import SYMPTOMS
from needlecare.web.checkins import schemas, service
from needlecare.web.clinics import alerts
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.templating import render
from needlecare.web.treatments import service as treatments

router = APIRouter(include_in_schema=False)


@router.get("/treatments/{treatment_id}/checkins/new")
def checkin_form(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Self-rating and symptom checklist."""
    treatment = treatments.get(db, user=user, treatment_id=treatment_id)
    today = treatments.today(treatment)
    context = {
        "user": user,
        "t": treatment,
        "today": today,
        "day": treatments.day_number(treatment, today),
        "ratings": schemas.rating_labels(),
        "symptoms": SYMPTOMS,
        "symptom_groups": evidence().red_flags.symptom_groups,
    }
    return render(request, "checkin_new.html", context)


@router.post("/treatments/{treatment_id}/checkins")
def create_checkin(
    treatment_id: RowId,
    self_rating: Annotated[int, Form(ge=0, le=4)],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
    symptoms: Annotated[list[str] | None, Form()] = None,
    checked_on: Annotated[dt.date | None, Form()] = None,
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
    }
    return render(request, "checkin.html", context)
