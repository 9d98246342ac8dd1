"""JSON API exports under ``/api/v1/export``: the logged-in user's own data as CSV, FHIR JSON or PDF."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from needlecare.web.exports import service
from needlecare.web.exports.downloads import endpoint

router = APIRouter(prefix="/export", tags=["exports"])


def _responses(media_type: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {media_type.split(";")[0]: {}}, "description": "The file, as an attachment"},
        401: {"description": "Not logged in"},
        404: {"description": "No such treatment for this user"},
    }


for _kind, (_media_type, _, _about) in service.FORMATS.items():
    router.add_api_route(
        f"/{_kind}",
        endpoint(_kind),
        methods=["GET"],
        name=f"export_{_kind.replace('.', '_')}",
        response_class=Response,
        responses=_responses(_media_type),
    )
