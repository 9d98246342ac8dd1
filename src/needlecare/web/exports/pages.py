"""Export downloads for the HTML app (cookie session; not logged in -> redirect to /login)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from needlecare.web.deps import CtxDep, CurrentUser, DbDep
from needlecare.web.exports import service
from needlecare.web.exports.api import TreatmentFilter

router = APIRouter(prefix="/export", include_in_schema=False)


@router.get("/measurements.csv")
def measurements_csv(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """Download the redness measurements as CSV."""
    return service.download(
        "measurements.csv", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )


@router.get("/checkins.csv")
def checkins_csv(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """Download the check-ins as CSV."""
    return service.download(
        "checkins.csv", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )


@router.get("/fhir.json")
def fhir_json(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """Download the FHIR bundle."""
    return service.download(
        "fhir.json", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )


@router.get("/report.pdf")
def report_pdf(
    request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
) -> Response:
    """Download the PDF report for the dermatologist."""
    return service.download(
        "report.pdf", request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id
    )
