"""JSON API exports under ``/api/v1/export``: the logged-in user's own data as CSV, FHIR JSON or PDF."""

from __future__ import annotations

from collections.abc import Callable
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


def endpoint(kind: service.Kind) -> Callable[..., Response]:
    """The download handler of one export file (shared by the API and the HTML app's links)."""

    def download(
        request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
    ) -> Response:
        return service.download(kind, request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id)

    download.__doc__ = service.FORMATS[kind][2]
    return download


for _kind, (_media_type, _, _about) in service.FORMATS.items():
    router.add_api_route(
        f"/{_kind}",
        endpoint(_kind),
        methods=["GET"],
        name=f"export_{_kind.replace('.', '_')}",
        response_class=Response,
        responses=_responses(_media_type),
    )
