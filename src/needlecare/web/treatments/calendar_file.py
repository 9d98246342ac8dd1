"""The aftercare plan of a treatment as an iCalendar download, for the page and the API alike."""

from __future__ import annotations

from fastapi import Response

from needlecare.knowledge import treatment_course as course
from needlecare.storage.models import Treatment


def ics_response(treatment: Treatment) -> Response:
    """``text/calendar`` download of the treatment's aftercare plan."""
    return Response(
        course.ics(treatment),
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="aftercare-{treatment.treated_on}.ics"'},
    )
