"""HTML pages for treatments: record one, see its expected course and today's aftercare, download the plan."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from needlecare.knowledge.treatment import AREAS, DEVICES, MAX_DEPTH_MM, MAX_PASSES
from needlecare.web.checkins import service as checkins
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.photos import service as photos
from needlecare.web.templating import render
from needlecare.web.treatments import api, course, schemas, service

router = APIRouter(include_in_schema=False)

FORM_CHOICES = {"devices": DEVICES, "areas": AREAS, "max_depth": MAX_DEPTH_MM, "max_passes": MAX_PASSES}


@router.get("/treatments/new")
def new_treatment(request: Request, user: CurrentUser) -> Response:
    """The treatment form."""
    return render(request, "treatment_new.html", {"user": user, **FORM_CHOICES})


@router.post("/treatments")
def create_treatment(
    form: Annotated[schemas.TreatmentCreate, Form()], user: CurrentUser, db: DbDep
) -> RedirectResponse:
    """Record the treatment and show it."""
    treatment = service.create(db, user=user, data=form)
    db.commit()
    return RedirectResponse(f"/treatments/{treatment.id}", status_code=303)


@router.get("/treatments/{treatment_id}")
def show_treatment(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Expected redness window, today's aftercare and links to photos, timeline and check-in."""
    treatment = service.get(db, user=user, treatment_id=treatment_id)
    info = api.detail(treatment)
    context = {
        "user": user,
        "t": treatment,
        "info": info,
        "plan_reasons": course.plan(treatment).get("reasons", []),
        "photos": photos.get_all(db, treatment=treatment),
        "checkins": checkins.get_all(db, treatment=treatment),
    }
    return render(request, "treatment.html", context)


@router.get("/treatments/{treatment_id}/plan.ics")
def plan_ics(treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Download the aftercare plan for a calendar app."""
    return api.ics_response(service.get(db, user=user, treatment_id=treatment_id))


@router.post("/treatments/{treatment_id}/delete")
def delete_treatment(treatment_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> RedirectResponse:
    """Delete the treatment with its photos and check-ins."""
    files = service.delete(db, treatment=service.get(db, user=user, treatment_id=treatment_id))
    db.commit()
    for relpath in files:
        ctx.store.delete(relpath)
    return RedirectResponse("/", status_code=303)
