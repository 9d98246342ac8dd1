"""Export downloads for the HTML app (cookie session; not logged in -> redirect to /login)."""

from __future__ import annotations

from fastapi import APIRouter

from needlecare.web.exports import service
from needlecare.web.exports.downloads import endpoint

router = APIRouter(prefix="/export", include_in_schema=False)

for _kind in service.FORMATS:
    router.add_api_route(
        f"/{_kind}", endpoint(_kind), methods=["GET"], name=f"page_export_{_kind.replace('.', '_')}"
    )
