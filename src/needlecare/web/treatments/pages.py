"""HTML pages for treatments: record or correct one, its expected course and today's aftercare, the plan."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.treatment import AREAS, DEVICES, FLAG_FIELDS, MAX_DEPTH_MM, MAX_PASSES
from needlecare.storage.models import Treatment, User
from needlecare.web.checkins import service as checkins
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.form_errors import shows_errors_on
from needlecare.web.photos import service as photos
from needlecare.web.templating import render
from needlecare.web.treatments import calendar_file, labels, schemas, service, today

router = APIRouter(include_in_schema=False)

FORM_CHOICES = {
    "devices": DEVICES,
    "areas": AREAS,
    "max_depth": MAX_DEPTH_MM,
    "max_passes": MAX_PASSES,
    "skin_types": labels.SKIN_TYPES,
    "flags": labels.FLAGS,
}

#: The depth field's step in mm; a stored depth off this grid is shown with ``step="any"`` so it can be kept.
DEPTH_STEP_MM = 0.05


def form_values(treatment: Treatment) -> dict[str, Any]:
    """The treatment form's field values for *treatment* (plus ``depth_step`` for the depth field)."""
    values = schemas.TreatmentCreate.model_validate(treatment, from_attributes=True).model_dump()
    on_grid = abs(round(treatment.depth_mm / DEPTH_STEP_MM) * DEPTH_STEP_MM - treatment.depth_mm) < 1e-9
    values["depth_step"] = DEPTH_STEP_MM if on_grid else "any"
    return values


#: The treatment form's labels, for the summary of its errors.
FORM_LABELS = {
    "treated_on": "Date of treatment",
    "device": "Device",
    "depth_mm": "Needle depth",
    "passes": "Passes",
    "area": "Treated area",
    "skin_type": "Skin type",
    "timezone": "Your time zone",
    "notes": "Notes",
}


def _new_context(
    _request: Request, _db: Session, user: User | None, _params: Mapping[str, Any]
) -> dict[str, Any]:
    return {"user": user, **FORM_CHOICES}


def _edit_context(
    _request: Request, db: Session, user: User | None, params: Mapping[str, Any]
) -> dict[str, Any]:
    treatment = service.of_form_path(db, user, params)
    return {
        "user": user,
        "t": treatment,
        "values": form_values(treatment),
        "clinic": service.recorded_by(db, treatment=treatment),
        "form_action": f"/treatments/{treatment.id}/edit",
        **FORM_CHOICES,
    }


@router.get("/treatments/new")
def new_treatment(request: Request, user: CurrentUser, db: DbDep) -> Response:
    """The treatment form."""
    return render(request, "treatment_new.html", _new_context(request, db, user, {}))


@router.post("/treatments")
@shows_errors_on("treatment_new.html", _new_context, FORM_LABELS)
def create_treatment(
    form: Annotated[schemas.TreatmentCreate, Form()], user: CurrentUser, db: DbDep
) -> RedirectResponse:
    """Record the treatment and show it."""
    treatment = service.create(db, user=user, data=form)
    db.commit()
    return RedirectResponse(f"/treatments/{treatment.id}", status_code=303)


@router.get("/treatments/{treatment_id}/edit")
def edit_treatment(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """The treatment form filled with the treatment's values (owner only; see :func:`save_treatment`)."""
    context = _edit_context(request, db, user, {"treatment_id": treatment_id})
    return render(request, "treatment_edit.html", context)


@router.post("/treatments/{treatment_id}/edit")
@shows_errors_on("treatment_edit.html", _edit_context, FORM_LABELS)
def save_treatment(
    treatment_id: RowId, form: Annotated[schemas.TreatmentCreate, Form()], user: CurrentUser, db: DbDep
) -> RedirectResponse:
    """Save the corrected treatment and show it.

    The form is validated like the one that records a treatment (invalid input: the form again with the
    errors inline, nothing changed), and every field is replaced (an unticked box is ``false``, empty notes
    are removed). Only the owner may edit, including a treatment a clinic recorded for them; clinic staff get
    404 like anyone else (:func:`service.update` explains why, and what else follows the change).
    """
    treatment = service.get(db, user=user, treatment_id=treatment_id)
    service.update(db, treatment=treatment, data=schemas.TreatmentUpdate.model_validate(form.model_dump()))
    db.commit()
    return RedirectResponse(f"/treatments/{treatment.id}", status_code=303)


@router.get("/treatments/{treatment_id}")
def show_treatment(
    request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> Response:
    """Expected redness window, today's aftercare and links to photos, timeline and check-in."""
    treatment = service.get(db, user=user, treatment_id=treatment_id)
    info = service.detail(treatment)
    context = {
        "user": user,
        "t": treatment,
        "info": info,
        "c": today.card(db, treatment, reminder_hour=ctx.settings.jobs.reminder_hour),
        "on_page": True,
        "flag_fields": FLAG_FIELDS,
        "deleted": request.query_params.get("deleted"),
        "plan_reasons": course.plan(treatment).get("reasons", []),
        "photos": photos.get_all(db, treatment=treatment),
        "photo_summary": photos.plain_summary,
        "factor_names": labels.FACTOR_NAMES,
        "skin_types": labels.SKIN_TYPES,
        "checkins": checkins.get_all(db, treatment=treatment),
    }
    return render(request, "treatment.html", context)


@router.get("/treatments/{treatment_id}/plan.ics")
def plan_ics(treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Download the aftercare plan for a calendar app."""
    return calendar_file.ics_response(service.get(db, user=user, treatment_id=treatment_id))


@router.get("/treatments/{treatment_id}/delete")
def confirm_delete_treatment(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Ask before deleting: what goes with the treatment."""
    treatment = service.get(db, user=user, treatment_id=treatment_id)
    photos, checkins = len(treatment.photos), len(treatment.checkins)
    details = [
        f"the treatment of {treatment.treated_on:%d %b %Y} ({treatment.device}, {treatment.depth_mm:g} mm)",
        f"{photos} photo{'s' if photos != 1 else ''} with their measurements",
        f"{checkins} check-in{'s' if checkins != 1 else ''}",
        "its aftercare reminders",
    ]
    context = {
        "user": user,
        "what": "this treatment",
        "details": details,
        "action": f"/treatments/{treatment.id}/delete",
        "cancel": f"/treatments/{treatment.id}",
    }
    return render(request, "confirm_delete.html", context)


@router.post("/treatments/{treatment_id}/delete")
def delete_treatment(treatment_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> RedirectResponse:
    """Delete the treatment with its photos and check-ins; the front page says it was done."""
    files = service.delete(db, treatment=service.get(db, user=user, treatment_id=treatment_id))
    db.commit()
    for relpath in files:
        ctx.store.delete(relpath)
    return RedirectResponse("/?deleted=treatment", status_code=303)
