"""Clinic schemas: clinic, membership, invitation, aftercare message and dashboard row."""

from __future__ import annotations

import datetime as dt
from email.errors import MessageError
from email.headerregistry import Address
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from needlecare.knowledge.evidence import Urgency
from needlecare.web.accounts.schemas import Email
from needlecare.web.checkins.schemas import CheckInPublic
from needlecare.web.treatments.schemas import TreatmentDetail

Role = Literal["admin", "clinician", "patient"]
DashboardStatus = Literal["attention", "on_track"]


def _mailable(value: str) -> str:
    try:
        Address(addr_spec=value)
    except (ValueError, IndexError, MessageError) as exc:  # the header parser raises IndexError too
        raise ValueError(f"{value!r} is not an address we can send e-mail to") from exc
    return value


def _blank_to_none(value: object) -> object:
    return None if isinstance(value, str) and not value.strip() else value


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Contact = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]
OptionalName = Annotated[Annotated[str, Field(max_length=200)] | None, BeforeValidator(_blank_to_none)]


AlertEmail = Annotated[Annotated[Email, AfterValidator(_mailable)] | None, BeforeValidator(_blank_to_none)]


class ClinicCreate(BaseModel):
    """A new clinic; ``emergency_contact`` (phone, address, hours) goes into every aftercare message and is
    shown to its patients with every urgent verdict; ``alert_email`` receives the clinic's alerts."""

    name: Name
    emergency_contact: Contact
    alert_email: AlertEmail = None


class ClinicUpdate(BaseModel):
    """Changed clinic settings (only the fields sent change; ``alert_email: null`` stops the alert mails)."""

    name: Name | None = None
    emergency_contact: Contact | None = None
    alert_email: AlertEmail = None


class ClinicPublic(BaseModel):
    """A clinic as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    emergency_contact: str
    alert_email: str | None = None
    created_at: dt.datetime


class MembershipPublic(BaseModel):
    """The caller's place in a clinic."""

    clinic: ClinicPublic
    role: Role
    status: Literal["active", "left"]
    joined_at: dt.datetime


class InvitationCreate(BaseModel):
    """Invite someone by e-mail; ``name`` is how the clinic knows them (searchable on the dashboard)."""

    email: Annotated[Email, AfterValidator(_mailable)]
    role: Role
    name: OptionalName = None


class InvitationPublic(BaseModel):
    """A sent invitation; ``link`` is only returned right after creation (it is a one-time credential).

    ``invited_by_id`` / ``invited_by_email`` name the staff member who sent it (``None`` if not recorded or
    their account was deleted); times are UTC.
    """

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    role: Role
    display_name: str | None
    created_at: dt.datetime
    expires_at: dt.datetime
    used_at: dt.datetime | None
    invited_by_id: int | None = None
    invited_by_email: str | None = None
    link: str | None = None
    mailed: bool | None = None


class InvitationAccept(BaseModel):
    """Accept an invitation. Patients must tick ``consent`` (never pre-ticked)."""

    token: Annotated[str, Field(min_length=1, max_length=1000)]
    consent: bool = False


class PatientPublic(BaseModel):
    """A patient of the clinic as staff see them."""

    user_id: int
    email: str
    name: str | None
    joined_at: dt.datetime


class AftercareMessage(BaseModel):
    """Aftercare instructions a clinic sent for one treatment, or its note that it corrected the treatment
    (``kind``: "aftercare" or "correction"; plain-text body)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    clinic_id: int
    clinic_name: str
    emergency_contact: str
    treatment_id: int | None
    subject: str
    body: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    kind: str = "aftercare"


class ClinicTreatmentOut(BaseModel):
    """What recording a treatment for a patient produced."""

    treatment_id: int
    patient_id: int
    message: AftercareMessage


class FlagPublic(BaseModel):
    """A red flag or off-course recovery of a patient, open until staff mark it handled."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    patient_id: int
    treatment_id: int
    checkin_id: int | None
    kind: Literal["red_flag", "off_course"]
    urgency: Urgency | None
    summary: str
    created_at: dt.datetime
    handled_at: dt.datetime | None
    handled_by_id: int | None
    handled_note: str | None


class FlagHandle(BaseModel):
    """Marking a flag handled: what was done (kept in the patient's audit trail)."""

    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class DashboardRow(BaseModel):
    """One patient in recovery: the latest treatment within the dashboard window and how it is going.

    ``flags`` are the patient's open red flags and off-course recoveries across all their treatments; any
    open flag makes the row ``attention`` (and ``red_flag`` true for an open red flag).
    """

    patient_id: int
    email: str
    name: str | None
    treatment_id: int
    treated_on: dt.date
    day: int
    expected: dict[str, Any]
    redness: dict[str, Any]
    triage: dict[str, Any] | None
    recovery: dict[str, Any] | None
    outside_expected: bool
    red_flag: bool
    status: DashboardStatus
    flags: list[FlagPublic] = Field(default_factory=list)


class DashboardQuery(BaseModel):
    """Dashboard filters: status, latest urgency, and a search in e-mail and name (case-insensitive)."""

    status: DashboardStatus | None = None
    urgency: Urgency | None = None
    q: Annotated[str, Field(max_length=200)] | None = None


class Measurement(BaseModel):
    """One photo's measurement; the picture itself only when the patient shared it (``shared``)."""

    photo_id: int
    taken_on: dt.date
    day: int
    is_baseline: bool
    redness_index: float | None
    comparable_with_baseline: bool | None = Field(
        default=None,
        description="False: taken under other light than the baseline photo, with no colour card and no "
        "match on the eyes; None: a baseline, or measured without one",
    )
    shared: bool = Field(
        default=False,
        description="The patient shares this photo with their practitioner: staff may open its aligned face "
        "crop at /api/v1/clinics/{clinic_id}/photos/{photo_id}/face (each view is in the patient's audit "
        "trail)",
    )


class PatientTreatment(BaseModel):
    """One of the patient's treatments with its check-ins, photo measurements and timeline."""

    treatment: TreatmentDetail
    checkins: list[CheckInPublic]
    measurements: list[Measurement]
    timeline: dict[str, Any]
    recorded_here: bool = Field(
        default=False,
        description="This clinic recorded the treatment, so its staff may correct it "
        "(PATCH /clinics/{clinic_id}/patients/{patient_id}/treatments/{treatment_id})",
    )


class PatientRecord(BaseModel):
    """A patient's record as the clinic's staff see it."""

    patient: PatientPublic
    treatments: list[PatientTreatment]
