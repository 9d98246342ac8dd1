"""Photo service: store an upload (file and row together or neither), read, delete; always owner-scoped."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.imaging.errors import PhotoError
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import AuditEvent, Photo, Treatment, User
from needlecare.web.errors import NotFoundError
from needlecare.web.photos.sanitize import CleanPhoto, photo_error_to_http

if TYPE_CHECKING:
    from needlecare.analysis.report import PhotoReport


def get(db: Session, *, user: User, photo_id: int) -> Photo:
    """The user's photo *photo_id*; :class:`NotFoundError` if missing or someone else's."""
    photo = db.scalars(select(Photo).where(Photo.id == photo_id, Photo.user_id == user.id)).one_or_none()
    if photo is None:
        raise NotFoundError(f"No photo {photo_id}.")
    return photo


def get_all(db: Session, *, treatment: Treatment) -> Sequence[Photo]:
    """A treatment's photos in the order taken."""
    stmt = select(Photo).where(Photo.treatment_id == treatment.id, Photo.user_id == treatment.user_id)
    return db.scalars(stmt.order_by(Photo.taken_on, Photo.id)).all()


def baseline_of(db: Session, *, treatment: Treatment) -> Photo | None:
    """The treatment's latest baseline (before-treatment) photo, if any."""
    stmt = select(Photo).where(
        Photo.treatment_id == treatment.id, Photo.user_id == treatment.user_id, Photo.is_baseline.is_(True)
    )
    return db.scalars(stmt.order_by(Photo.taken_on.desc(), Photo.id.desc())).first()


def latest_of(db: Session, *, treatment: Treatment) -> Photo | None:
    """The treatment's most recent photo (the framing guide on the capture page)."""
    stmt = select(Photo).where(Photo.treatment_id == treatment.id, Photo.user_id == treatment.user_id)
    return db.scalars(stmt.order_by(Photo.taken_on.desc(), Photo.id.desc())).first()


@dataclass(frozen=True)
class Analysis:
    """What the upload's analysis produced: the report dict and a heatmap picture (JPEG bytes)."""

    report: dict[str, Any]
    heatmap_jpeg: bytes | None


def _heatmap(report: PhotoReport) -> bytes | None:
    """The redness heatmap overlay of *report* as JPEG bytes (None if it cannot be drawn)."""
    from needlecare.analysis.pictures import overlay

    picture = overlay(report, title=f"redness index {report.index:.3f} {report.unit}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture), mode="RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def analyse(clean: CleanPhoto, baseline_file: Path | None = None) -> Analysis:
    """``analyze_photo`` on the stored (sanitised) JPEG, against the baseline file when there is one.

    Measuring the exact bytes that are stored makes a later re-measurement of the file give the same numbers.
    A baseline that can no longer be measured is skipped (the photo itself is still measured).

    Raises
    ------
    WebError
        415/413/422 mapped from the imaging core's :class:`PhotoError`.
    """
    from needlecare import analyze_photo

    try:
        report = None
        if baseline_file is not None:
            try:
                report = analyze_photo(clean.jpeg, baseline=baseline_file)
            except PhotoError as exc:
                if not exc.message.startswith("baseline photo"):
                    raise
        report = report or analyze_photo(clean.jpeg)
    except PhotoError as exc:
        raise photo_error_to_http(exc) from exc
    return Analysis(report=report.to_dict(), heatmap_jpeg=_heatmap(report))


def save_upload(
    db: Session,
    store: PhotoStore,
    *,
    treatment: Treatment,
    clean: CleanPhoto,
    consent: str,
    taken_on: dt.date,
    is_baseline: bool,
) -> Photo:
    """Analyse and store one photo as a single unit of work: the row is committed, then the files published.

    The cleaned JPEG (and its heatmap) are written to staging files first; if the insert or the commit fails,
    the staging files are removed and the transaction rolled back, so a failed upload leaves no file and no
    row.
    """
    baseline = None if is_baseline else baseline_of(db, treatment=treatment)
    analysis = analyse(clean, store.path(baseline.file_path) if baseline else None)
    staged = [(store.stage(clean.jpeg), store.new_relpath(treatment.user_id))]
    if analysis.heatmap_jpeg is not None:
        staged.append(
            (store.stage(analysis.heatmap_jpeg), store.new_relpath(treatment.user_id, ".heatmap.jpg"))
        )
    try:
        width, height = clean.size
        photo = Photo(
            user_id=treatment.user_id,
            treatment_id=treatment.id,
            taken_on=taken_on,
            day=(taken_on - treatment.treated_on).days,
            is_baseline=is_baseline,
            consent=consent,
            file_path=staged[0][1],
            heatmap_path=staged[1][1] if len(staged) > 1 else None,
            width=width,
            height=height,
            analysis=analysis.report,
        )
        db.add(photo)
        db.flush()
        db.add(
            AuditEvent(
                user_id=treatment.user_id,
                action="photo_consent",
                photo_id=photo.id,
                detail={"consent": consent},
            )
        )
        db.commit()
    except BaseException:
        db.rollback()
        for path, _ in staged:
            store.discard(path)
        raise
    for path, relpath in staged:
        store.publish(path, relpath)
    return photo


def files_of(photo: Photo) -> list[str]:
    """Every stored file of *photo* (the photo and its heatmap)."""
    return [p for p in (photo.file_path, photo.heatmap_path) if p]


def delete(db: Session, *, photo: Photo) -> list[str]:
    """Delete the row; returns the files to remove after the commit."""
    files = files_of(photo)
    db.delete(photo)
    db.flush()
    return files
