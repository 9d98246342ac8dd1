"""JSON API exports under ``/api/v1/export``: the logged-in user's own data as CSV, FHIR JSON or PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from needlecare.web.deps import MAX_ID, CtxDep, CurrentUser, DbDep
from needlecare.web.exports import service

router = APIRouter(prefix="/export", tags=["exports"])

#: Optional filter: only this treatment (404 unless it is the user's).
TreatmentFilter = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only this treatment (default: all of yours)")
]


def _responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type.split(";")[0]: {}}, "description": "The file, as an attachment"},
        401: {"description": "Not logged in"},
        404: {"description": "No such treatment for this user"},
    }


@router.get("/measurements.csv", response_class=Response, responses=_responses("text/csv"))
def measurements_csv(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """Redness measurements, one row per photo (RFC 4180 CSV, UTF-8)."""
    return service.download(
        "measurements.csv", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )


@router.get("/checkins.csv", response_class=Response, responses=_responses("text/csv"))
def checkins_csv(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """Check-ins: date, day, 0-4 self-rating, symptoms, triage urgency (RFC 4180 CSV, UTF-8)."""
    return service.download(
        "checkins.csv", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )


@router.get("/fhir.json", response_class=Response, responses=_responses("application/fhir+json"))
def fhir_json(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """FHIR R4 (4.0.1) collection Bundle: Patient, Procedure, Media, Observation (validated)."""
    return service.download(
        "fhir.json", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )


@router.get("/report.pdf", response_class=Response, responses=_responses("application/pdf"))
def report_pdf(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """PDF report for the dermatologist (decision support, not a diagnosis)."""
    return service.download(
        "report.pdf", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )
