"""The download handler of each export file, shared by the API and the HTML app's links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import Response

from needlecare.web.deps import MAX_ID, CtxDep, CurrentUser, DbDep
from needlecare.web.exports import service

#: Optional filter: only this treatment (404 unless it is the user's).
TreatmentFilter = Annotated[
    int | None, Query(ge=1, le=MAX_ID, description="Only this treatment (default: all of yours)")
]


def endpoint(kind: service.Kind) -> Callable[..., Response]:
    """The download handler of one export file (shared by the API and the HTML app's links)."""

    def download(
        request: Request, user: CurrentUser, db: DbDep, ctx: CtxDep, treatment_id: TreatmentFilter = None
    ) -> Response:
        return service.download(kind, request=request, db=db, ctx=ctx, user=user, treatment_id=treatment_id)

    download.__doc__ = service.FORMATS[kind][2]
    return download
