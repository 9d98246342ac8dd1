"""A stored photo, its heatmap and its face crop as HTTP responses (for the pages, the API and the clinic's
staff alike); never cached by shared caches."""

from __future__ import annotations

from fastapi import Response
from fastapi.responses import FileResponse

from needlecare.storage.models import Photo
from needlecare.web.context import WebContext
from needlecare.web.errors import NotFoundError
from needlecare.web.photos.face_crop import face_jpeg


def face_response(ctx: WebContext, photo: Photo) -> Response:
    """The photo cropped to the face (:func:`face_jpeg`; the whole photo when no face was found)."""
    data = face_jpeg(ctx.store.path(photo.file_path), photo.analysis)
    if data is None:
        return image_response(ctx, photo)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})


def image_response(ctx: WebContext, photo: Photo, *, heatmap: bool = False) -> Response:
    """The photo (or heatmap) file, never cached by shared caches."""
    relpath = photo.heatmap_path if heatmap else photo.file_path
    if relpath is None:
        raise NotFoundError("This photo has no heatmap.")
    headers = {"Cache-Control": "private, no-store"}
    return FileResponse(ctx.store.path(relpath), media_type="image/jpeg", headers=headers)
