"""Export downloads: read the logged-in user's own record, build the file, log the export (audit trail)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from needlecare.exports import csv_export, fhir, pdf_report
from needlecare.exports.data import PatientExport, TreatmentNotFoundError, collect
from needlecare.storage.models import AuditEvent, User
from needlecare.web.context import WebContext
from needlecare.web.errors import NotFoundError

Kind = Literal["measurements.csv", "checkins.csv", "fhir.json", "report.pdf"]

#: Export file -> (media type, file name stem, what it holds).
FORMATS: dict[Kind, tuple[str, str, str]] = {
    "measurements.csv": (
        csv_export.MEDIA_TYPE,
        "needlecare-measurements",
        "Redness measurements, one row per photo (RFC 4180 CSV, UTF-8).",
    ),
    "checkins.csv": (
        csv_export.MEDIA_TYPE,
        "needlecare-checkins",
        "Check-ins: date, day, 0-4 self-rating, symptoms, triage urgency (RFC 4180 CSV, UTF-8).",
    ),
    "fhir.json": (
        fhir.MEDIA_TYPE,
        "needlecare-fhir",
        "FHIR R4 (4.0.1) collection Bundle: Patient, Procedure, Media, Observation (validated).",
    ),
    "report.pdf": (
        pdf_report.MEDIA_TYPE,
        "needlecare-report",
        "PDF report for the dermatologist (decision support, not a diagnosis).",
    ),
}


def record(db: Session, *, user: User, treatment_id: int | None) -> PatientExport:
    """The user's data (one treatment when *treatment_id* is given); :class:`NotFoundError` if not theirs."""
    try:
        return collect(db, user=user, treatment_id=treatment_id)
    except TreatmentNotFoundError as exc:
        raise NotFoundError(str(exc)) from exc


def site_url(ctx: WebContext) -> str:
    """The site's public URL (``NEEDLECARE_PUBLIC_URL``); photo URLs start at the site root, not /api/v1."""
    return ctx.settings.base_url


def build(kind: Kind, rec: PatientExport, *, ctx: WebContext, request: Request) -> bytes:
    """The export file's bytes (text formats UTF-8)."""
    if kind == "measurements.csv":
        return csv_export.measurements_csv(rec).encode("utf-8")
    if kind == "checkins.csv":
        return csv_export.checkins_csv(rec).encode("utf-8")
    if kind == "fhir.json":
        return fhir.fhir_json(rec, base_url=site_url(ctx)).encode("utf-8")
    return pdf_report.pdf_report(rec, ctx.store)


def download(
    kind: Kind, *, request: Request, db: Session, ctx: WebContext, user: User, treatment_id: int | None
) -> Response:
    """Build *kind* for *user* only, record a ``data_export`` audit event, and answer it as an attachment."""
    rec = record(db, user=user, treatment_id=treatment_id)
    body = build(kind, rec, ctx=ctx, request=request)
    detail: dict[str, object] = {"format": kind}
    if treatment_id is not None:
        detail["treatment_id"] = treatment_id
    db.add(AuditEvent(user_id=user.id, action="data_export", detail=detail))
    db.commit()
    media_type, stem, _ = FORMATS[kind]
    name = f"{stem}-{dt.datetime.now(dt.UTC):%Y-%m-%d}.{kind.rsplit('.', 1)[1]}"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )
