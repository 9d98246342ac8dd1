"""HTML pages for clinics: my clinics, a clinic's page (staff: invite, patients, pending invitations, which
admins can withdraw; patient: leave), joining by invitation, recording a treatment for a patient and
correcting one the clinic recorded, the dashboard and received aftercare."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from needlecare.knowledge.evidence import URGENCY_ORDER
from needlecare.storage.clinics import STAFF_ROLES
from needlecare.storage.models import Treatment, User
from needlecare.web.clinics import (
    aftercare,
    alerts,
    corrections,
    dashboard,
    invitations,
    members,
    patients,
    schemas,
    service,
)
from needlecare.web.clinics import photos as clinic_photos
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, OptionalUser, RowId
from needlecare.web.photos.files import face_response
from needlecare.web.templating import render
from needlecare.web.treatments import today
from needlecare.web.treatments.pages import FORM_CHOICES, form_values
from needlecare.web.treatments.schemas import TreatmentCreate, TreatmentUpdate

router = APIRouter(include_in_schema=False)


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/clinics")
def my_clinics(request: Request, user: CurrentUser, db: DbDep) -> Response:
    """The clinics I belong to, a form to create one, and aftercare clinics sent me."""
    context = {
        "user": user,
        "memberships": members.memberships_of(db, user=user),
        "messages": aftercare.received(db, user=user),
    }
    return render(request, "clinics.html", context)


@router.post("/clinics")
def create_clinic(form: Annotated[schemas.ClinicCreate, Form()], user: CurrentUser, db: DbDep) -> Response:
    """Create a clinic (I become its admin) and open it."""
    clinic = members.create(db, user=user, data=form)
    db.commit()
    return _see_other(f"/clinics/{clinic.id}")


@router.get("/clinics/join")
def join_page(
    request: Request,
    token: Annotated[str, Query(min_length=1, max_length=1000)],
    user: OptionalUser,
    db: DbDep,
    ctx: CtxDep,
) -> Response:
    """What the invitation is for and (patients) the consent to give; visitors are asked to log in first."""
    invitation = invitations.resolve(db, tokens=service.tokens_of(ctx), token=token)
    context = {
        "user": user,
        "token": token,
        "invitation": invitation,
        "consent_text": invitations.consent_text(invitation.clinic.name),
        "link": service.join_link(ctx, token),
        "here": f"/clinics/join?token={token}",
    }
    return render(request, "clinic_join.html", context)


@router.post("/clinics/join")
def join(
    form: Annotated[schemas.InvitationAccept, Form()], user: CurrentUser, db: DbDep, ctx: CtxDep
) -> Response:
    """Accept the invitation and open the clinic."""
    member = invitations.accept(
        db, user=user, tokens=service.tokens_of(ctx), token=form.token, consent=form.consent
    )
    db.commit()
    alerts.notify(db, jobs=ctx.jobs, patient=user, base_url=ctx.settings.base_url)
    return _see_other(f"/clinics/{member.clinic_id}")


@router.get("/clinics/aftercare/{message_id}")
def show_aftercare(
    request: Request, message_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> Response:
    """Aftercare instructions a clinic sent me: today's card of the treatment first (the status and today's
    steps, from the same rules as the message), the message as sent folded below it."""
    message = aftercare.get_received(db, user=user, message_id=message_id)
    treatment = db.get(Treatment, message.treatment_id) if message.treatment_id else None
    card = (
        today.card(db, treatment, reminder_hour=ctx.settings.jobs.reminder_hour)
        if treatment is not None and treatment.user_id == user.id
        else None
    )
    return render(request, "clinic_aftercare.html", {"user": user, "m": message, "c": card})


def _clinic_page(
    request: Request,
    db: DbDep,
    user: User,
    clinic_id: int,
    *,
    new_link: str | None = None,
    status_code: int = 200,
) -> Response:
    member = members.membership(db, user=user, clinic_id=clinic_id)
    context: dict[str, object] = {
        "user": user,
        "member": member,
        "clinic": member.clinic,
        "new_link": new_link,
    }
    if member.role in STAFF_ROLES:
        context["patients"] = members.patients(db, clinic_id=clinic_id)
        context["pending"] = invitations.pending(db, user=user, clinic_id=clinic_id)
        context["roles"] = ("patient", "clinician", "admin") if member.role == "admin" else ("patient",)
    return render(request, "clinic.html", context, status_code=status_code)


@router.get("/clinics/{clinic_id}")
def show_clinic(request: Request, clinic_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Staff: invitations, patients, dashboard link. Patients: the clinic's contact and a way to leave."""
    return _clinic_page(request, db, user, clinic_id)


@router.post("/clinics/{clinic_id}/invitations")
def invite(
    request: Request,
    clinic_id: RowId,
    form: Annotated[schemas.InvitationCreate, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
) -> Response:
    """Send an invitation; the page shows its link too (for handing over in person)."""
    _, link, _ = service.send_invitation(request, db, ctx, user=user, clinic_id=clinic_id, data=form)
    return _clinic_page(request, db, user, clinic_id, new_link=link, status_code=201)


@router.post("/clinics/{clinic_id}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    clinic_id: RowId, invitation_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> Response:
    """Withdraw a pending invitation (admins only), e-mail the invitee, and return to the clinic's page."""
    service.withdraw_invitation(db, ctx, user=user, clinic_id=clinic_id, invitation_id=invitation_id)
    return _see_other(f"/clinics/{clinic_id}")


@router.post("/clinics/{clinic_id}/leave")
def leave(clinic_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Leave the clinic (its staff lose access at once)."""
    members.leave(db, user=user, clinic_id=clinic_id)
    db.commit()
    return _see_other("/clinics")


@router.post("/clinics/{clinic_id}/members/{user_id}/remove")
def remove_member(clinic_id: RowId, user_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Remove a member (admins only) and return to the clinic's page."""
    members.remove(db, admin=user, clinic_id=clinic_id, user_id=user_id)
    db.commit()
    return _see_other(f"/clinics/{clinic_id}")


@router.get("/clinics/{clinic_id}/dashboard")
def show_dashboard(
    request: Request,
    clinic_id: RowId,
    query: Annotated[schemas.DashboardQuery, Query()],
    user: CurrentUser,
    db: DbDep,
) -> Response:
    """Patients in recovery, those needing attention first, with filters and search."""
    rows = dashboard.dashboard(db, user=user, clinic_id=clinic_id, query=query)
    member = members.membership(db, user=user, clinic_id=clinic_id)
    context = {
        "user": user,
        "clinic": member.clinic,
        "rows": rows,
        "query": query,
        "urgencies": URGENCY_ORDER,
    }
    return render(request, "clinic_dashboard.html", context)


@router.get("/clinics/{clinic_id}/patients/{patient_id}")
def show_patient(
    request: Request, clinic_id: RowId, patient_id: RowId, user: CurrentUser, db: DbDep
) -> Response:
    """A patient's treatments, check-ins and measurements (staff only); those the clinic recorded can be
    edited."""
    rec = patients.record(db, staff=user, clinic_id=clinic_id, patient_id=patient_id)
    clinic = members.membership(db, user=user, clinic_id=clinic_id).clinic
    flags = alerts.open_flags(db, clinic_id=clinic_id, patient_id=patient_id)
    context = {"user": user, "clinic": clinic, "rec": rec, "flags": flags}
    return render(request, "clinic_patient.html", context)


@router.get("/clinics/{clinic_id}/patients/{patient_id}/treatments/new")
def new_patient_treatment(
    request: Request, clinic_id: RowId, patient_id: RowId, user: CurrentUser, db: DbDep
) -> Response:
    """The treatment form, for a patient of the clinic."""
    member = members.patient(db, staff=user, clinic_id=clinic_id, patient_id=patient_id)
    context = {
        "user": user,
        "form_action": f"/clinics/{clinic_id}/patients/{patient_id}/treatments",
        "form_for": member.display_name or member.user.email,
        **FORM_CHOICES,
    }
    return render(request, "treatment_new.html", context)


@router.post("/clinics/{clinic_id}/patients/{patient_id}/treatments")
def create_patient_treatment(
    clinic_id: RowId,
    patient_id: RowId,
    form: Annotated[TreatmentCreate, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
) -> Response:
    """Record the treatment, send the aftercare and return to the dashboard."""
    service.record_and_send(db, ctx, user=user, clinic_id=clinic_id, patient_id=patient_id, data=form)
    return _see_other(f"/clinics/{clinic_id}/dashboard")


@router.get("/clinics/{clinic_id}/patients/{patient_id}/treatments/{treatment_id}/edit")
def edit_patient_treatment(
    request: Request, clinic_id: RowId, patient_id: RowId, treatment_id: RowId, user: CurrentUser, db: DbDep
) -> Response:
    """The treatment form filled with a treatment the clinic recorded for the patient (staff only)."""
    treatment = corrections.recorded_treatment(
        db, staff=user, clinic_id=clinic_id, patient_id=patient_id, treatment_id=treatment_id
    )
    member = members.patient(db, staff=user, clinic_id=clinic_id, patient_id=patient_id)
    context = {
        "user": user,
        "t": treatment,
        "values": form_values(treatment),
        "clinic": member.clinic,
        "patient_url": f"/clinics/{clinic_id}/patients/{patient_id}",
        "form_for": member.display_name or member.user.email,
        "form_action": f"/clinics/{clinic_id}/patients/{patient_id}/treatments/{treatment_id}/edit",
        **FORM_CHOICES,
    }
    return render(request, "clinic_treatment_edit.html", context)


@router.post("/clinics/{clinic_id}/patients/{patient_id}/treatments/{treatment_id}/edit")
def save_patient_treatment(
    clinic_id: RowId,
    patient_id: RowId,
    treatment_id: RowId,
    form: Annotated[TreatmentCreate, Form()],
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
) -> Response:
    """Save the corrected treatment and return to the patient's page.

    Validated and applied like the patient's own edit form (every field replaced; invalid input: the same 422
    page, nothing changed), through :func:`service.correct_and_notify` (the patient is mailed what changed).
    """
    data = TreatmentUpdate.model_validate(form.model_dump())
    service.correct_and_notify(
        db, ctx, user=user, clinic_id=clinic_id, patient_id=patient_id, treatment_id=treatment_id, data=data
    )
    return _see_other(f"/clinics/{clinic_id}/patients/{patient_id}")


@router.post("/clinics/{clinic_id}/flags/{flag_id}/handled")
def handle_flag(
    clinic_id: RowId,
    flag_id: RowId,
    form: Annotated[schemas.FlagHandle, Form()],
    user: CurrentUser,
    db: DbDep,
) -> Response:
    """Mark a flag handled (staff) and return to the dashboard."""
    alerts.handle(db, staff=user, clinic_id=clinic_id, flag_id=flag_id, note=form.note)
    db.commit()
    return _see_other(f"/clinics/{clinic_id}/dashboard")


@router.get("/clinics/{clinic_id}/photos/{photo_id}/face")
def shared_photo(clinic_id: RowId, photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep) -> Response:
    """A shared photo's aligned face crop for the patient page's <img> (staff; audited)."""
    photo = clinic_photos.shared_photo(db, staff=user, clinic_id=clinic_id, photo_id=photo_id, view="face")
    db.commit()
    return face_response(ctx, photo)
