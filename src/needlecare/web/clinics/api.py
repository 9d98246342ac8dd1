"""JSON API for clinics under ``/api/v1/clinics``: clinics, invitations, patients, treatments (record and
correct), dashboard."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from needlecare.storage.clinics import ClinicInvitation, ClinicMembership, ClinicMessage
from needlecare.web.clinics import (
    aftercare,
    alerts,
    dashboard,
    invitations,
    members,
    patients,
    schemas,
    service,
)
from needlecare.web.clinics import photos as clinic_photos
from needlecare.web.deps import CtxDep, CurrentUser, DbDep, RowId
from needlecare.web.photos.files import face_response
from needlecare.web.treatments import service as treatments
from needlecare.web.treatments.schemas import TreatmentCreate, TreatmentDetail, TreatmentUpdate

router = APIRouter(prefix="/clinics", tags=["clinics"])

ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "A member without the role this needs"},
    404: {"description": "No such clinic (or patient) for this user"},
}
TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Tampered or unknown invitation token"},
    403: {"description": "The invitation is for another e-mail address"},
    409: {"description": "Already a member"},
    410: {"description": "Expired, already used or withdrawn invitation"},
}
EDIT_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    404: {
        "description": "No such clinic or patient for this user, or no such treatment this clinic recorded"
    },
    422: {"description": "Invalid values, or a date after one of the patient's check-ins"},
}
REVOKE_ERRORS: dict[int | str, dict[str, Any]] = {
    409: {"description": "The invitation was already accepted, has expired or was already withdrawn"},
}


def membership_public(member: ClinicMembership) -> schemas.MembershipPublic:
    """API view of a membership."""
    return schemas.MembershipPublic(
        clinic=schemas.ClinicPublic.model_validate(member.clinic),
        role=member.role,  # type: ignore[arg-type]
        status=member.status,  # type: ignore[arg-type]
        joined_at=member.updated_at,
    )


def invitation_public(invitation: ClinicInvitation) -> schemas.InvitationPublic:
    """API view of an invitation with the inviter's e-mail (never its link)."""
    inviter = invitation.invited_by
    return schemas.InvitationPublic.model_validate(invitation).model_copy(
        update={"invited_by_email": inviter.email if inviter is not None else None}
    )


def message_public(message: ClinicMessage) -> schemas.AftercareMessage:
    """API view of an aftercare message or correction note with its clinic's name and emergency contact."""
    return schemas.AftercareMessage(
        id=message.id,
        clinic_id=message.clinic_id,
        clinic_name=message.clinic.name,
        emergency_contact=message.clinic.emergency_contact,
        treatment_id=message.treatment_id,
        subject=message.subject,
        body=message.body,
        created_at=message.created_at,
        sent_at=message.delivered_at,
        kind=message.kind,
    )


@router.get("")
def list_clinics(user: CurrentUser, db: DbDep) -> list[schemas.MembershipPublic]:
    """The clinics the caller belongs to, with their role."""
    return [membership_public(m) for m in members.memberships_of(db, user=user)]


@router.post("", status_code=status.HTTP_201_CREATED)
def create_clinic(body: schemas.ClinicCreate, user: CurrentUser, db: DbDep) -> schemas.MembershipPublic:
    """Create a clinic; the caller becomes its admin."""
    clinic = members.create(db, user=user, data=body)
    db.commit()
    return membership_public(members.membership(db, user=user, clinic_id=clinic.id))


@router.get("/aftercare")
def list_aftercare(user: CurrentUser, db: DbDep) -> list[schemas.AftercareMessage]:
    """Aftercare instructions clinics sent to the caller, and their notes of corrections, newest first."""
    return [message_public(m) for m in aftercare.received(db, user=user)]


@router.post("/invitations/accept", responses=TOKEN_ERRORS)
def accept_invitation(
    body: schemas.InvitationAccept, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> schemas.MembershipPublic:
    """Join the clinic the invitation is from (patients must send ``consent: true``)."""
    member = invitations.accept(
        db, user=user, tokens=service.tokens_of(ctx), token=body.token, consent=body.consent
    )
    db.commit()
    alerts.notify(db, jobs=ctx.jobs, patient=user, base_url=ctx.settings.base_url)
    return membership_public(member)


@router.get("/{clinic_id}", responses=ERRORS)
def read_clinic(clinic_id: RowId, user: CurrentUser, db: DbDep) -> schemas.MembershipPublic:
    """The clinic and the caller's role in it."""
    return membership_public(members.membership(db, user=user, clinic_id=clinic_id))


@router.post("/{clinic_id}/leave", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def leave_clinic(clinic_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Leave the clinic; its staff lose access to the caller's data at once."""
    members.leave(db, user=user, clinic_id=clinic_id)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/{clinic_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def remove_member(clinic_id: RowId, user_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Remove a member (admins only); a removed patient's data is no longer visible to the clinic."""
    members.remove(db, admin=user, clinic_id=clinic_id, user_id=user_id)
    db.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{clinic_id}/invitations", status_code=status.HTTP_201_CREATED, responses=ERRORS)
def create_invitation(
    clinic_id: RowId,
    body: schemas.InvitationCreate,
    request: Request,
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
) -> schemas.InvitationPublic:
    """Invite by e-mail (admins: any role; clinicians: patients); the link is e-mailed and returned."""
    invitation, link, mailed = service.send_invitation(
        request, db, ctx, user=user, clinic_id=clinic_id, data=body
    )
    return invitation_public(invitation).model_copy(update={"link": link, "mailed": mailed})


@router.get("/{clinic_id}/invitations", responses=ERRORS)
def list_invitations(clinic_id: RowId, user: CurrentUser, db: DbDep) -> list[schemas.InvitationPublic]:
    """Pending invitations of the clinic: unused, unexpired, not withdrawn; newest first (staff only)."""
    found = invitations.pending(db, user=user, clinic_id=clinic_id)
    return [invitation_public(i) for i in found]


@router.delete(
    "/{clinic_id}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS | REVOKE_ERRORS,
)
def revoke_invitation(
    clinic_id: RowId, invitation_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> Response:
    """Withdraw a pending invitation (admins only); its link stops working at once and the invitee is told
    by e-mail that nothing was shared. The record is kept."""
    service.withdraw_invitation(db, ctx, user=user, clinic_id=clinic_id, invitation_id=invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{clinic_id}/patients", responses=ERRORS)
def list_patients(clinic_id: RowId, user: CurrentUser, db: DbDep) -> list[schemas.PatientPublic]:
    """The clinic's current patients (staff only)."""
    members.staff_membership(db, user=user, clinic_id=clinic_id)
    return [
        schemas.PatientPublic(
            user_id=m.user_id, email=m.user.email, name=m.display_name, joined_at=m.updated_at
        )
        for m in members.patients(db, clinic_id=clinic_id)
    ]


@router.get("/{clinic_id}/patients/{patient_id}", responses=ERRORS)
def read_patient(clinic_id: RowId, patient_id: RowId, user: CurrentUser, db: DbDep) -> schemas.PatientRecord:
    """A current patient's treatments, check-ins, photo measurements and timelines (staff only, read-only)."""
    return patients.record(db, staff=user, clinic_id=clinic_id, patient_id=patient_id)


@router.post(
    "/{clinic_id}/patients/{patient_id}/treatments", status_code=status.HTTP_201_CREATED, responses=ERRORS
)
def create_patient_treatment(
    clinic_id: RowId, patient_id: RowId, body: TreatmentCreate, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> schemas.ClinicTreatmentOut:
    """Record a treatment for a patient (staff only); aftercare with the .ics goes to the patient."""
    treatment, message = service.record_and_send(
        db, ctx, user=user, clinic_id=clinic_id, patient_id=patient_id, data=body
    )
    return schemas.ClinicTreatmentOut(
        treatment_id=treatment.id, patient_id=patient_id, message=message_public(message)
    )


@router.patch("/{clinic_id}/patients/{patient_id}/treatments/{treatment_id}", responses=EDIT_ERRORS)
def update_patient_treatment(
    clinic_id: RowId,
    patient_id: RowId,
    treatment_id: RowId,
    body: TreatmentUpdate,
    user: CurrentUser,
    db: DbDep,
    ctx: CtxDep,
) -> TreatmentDetail:
    """Correct a treatment the clinic recorded for a patient (staff only): the fields sent change, with the
    patient's day numbers, triage and reminders; the aftercare message stays as sent; audited; the patient is
    mailed which fields changed (nothing if none did)."""
    treatment = service.correct_and_notify(
        db, ctx, user=user, clinic_id=clinic_id, patient_id=patient_id, treatment_id=treatment_id, data=body
    )
    return treatments.detail(treatment)


@router.get("/{clinic_id}/dashboard", responses=ERRORS)
def read_dashboard(
    clinic_id: RowId, query: Annotated[schemas.DashboardQuery, Query()], user: CurrentUser, db: DbDep
) -> list[schemas.DashboardRow]:
    """Patients in recovery, attention first; filter by ``status``, ``urgency``; search ``q``."""
    return dashboard.dashboard(db, user=user, clinic_id=clinic_id, query=query)


@router.post("/{clinic_id}/flags/{flag_id}/handled", responses=ERRORS)
def handle_flag(
    clinic_id: RowId, flag_id: RowId, body: schemas.FlagHandle, user: CurrentUser, db: DbDep
) -> schemas.FlagPublic:
    """Mark a patient's red flag or off-course recovery handled (staff; who, when and the note are kept in
    the patient's audit trail). Handling it again changes nothing."""
    flag = alerts.handle(db, staff=user, clinic_id=clinic_id, flag_id=flag_id, note=body.note)
    db.commit()
    return schemas.FlagPublic.model_validate(flag)


@router.patch("/{clinic_id}", responses=ERRORS)
def update_clinic(
    clinic_id: RowId, body: schemas.ClinicUpdate, user: CurrentUser, db: DbDep
) -> schemas.MembershipPublic:
    """Change the clinic's settings (admins): name, emergency contact, alert address (``null`` clears it)."""
    member = members.update(db, admin=user, clinic_id=clinic_id, data=body)
    db.commit()
    return membership_public(member)


@router.get("/{clinic_id}/photos/{photo_id}/face", responses={**ERRORS, 200: {"content": {"image/jpeg": {}}}})
def read_shared_photo(
    clinic_id: RowId, photo_id: RowId, user: CurrentUser, db: DbDep, ctx: CtxDep
) -> Response:
    """A photo a current patient shares with their practitioner, cropped to the face as the patient sees it
    (staff; 404 for any other photo). The view is recorded in the patient's audit trail."""
    photo = clinic_photos.shared_photo(db, staff=user, clinic_id=clinic_id, photo_id=photo_id, view="face")
    db.commit()
    return face_response(ctx, photo)
