"""The timeline page: charts against the expected window, with the classification and its reason."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from needlecare.knowledge.evidence import evidence
from needlecare.web.deps import CurrentUser, DbDep, RowId
from needlecare.web.templating import render
from needlecare.web.timeline import service
from needlecare.web.timeline.chart import render_chart
from needlecare.web.treatments import service as treatments

router = APIRouter(include_in_schema=False)


@router.get("/treatments/{treatment_id}/timeline")
def timeline_page(request: Request, treatment_id: RowId, user: CurrentUser, db: DbDep) -> Response:
    """Photo redness and self-ratings over days since treatment."""
    treatment = treatments.get(db, user=user, treatment_id=treatment_id)
    data = service.timeline(db, treatment=treatment)
    photo_unit = "redness index (OD_hb)"
    charts = {
        "photos": render_chart(data["photos"], data["expected"], y_label=photo_unit),
        "self_report": render_chart(
            data["self_report"], data["expected"], y_label="self-rating 0-4", y_range=(0, 4)
        ),
    }
    colipa = evidence().grading.colipa
    context = {
        "user": user,
        "t": treatment,
        "data": data,
        "charts": charts,
        "colipa_threshold": f"{colipa.minimal_visible_delta_a_star:g}",
        "colipa_sources": evidence().cite(colipa.sources),
    }
    return render(request, "timeline.html", context)
