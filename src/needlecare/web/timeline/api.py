"""JSON API for the timeline of one treatment."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needlecare.web.deps import CurrentUser, DbDep, RowId
from needlecare.web.timeline import service
from needlecare.web.treatments import service as treatments

router = APIRouter(tags=["timeline"])


@router.get("/treatments/{treatment_id}/timeline", responses={404: {"description": "No such treatment"}})
def read_timeline(treatment_id: RowId, user: CurrentUser, db: DbDep) -> dict[str, Any]:
    """Expected course, photo redness and self-rating series, each with its fitted curve when possible."""
    return service.timeline(db, treatment=treatments.get(db, user=user, treatment_id=treatment_id))
