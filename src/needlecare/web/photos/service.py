"""Photo service: store an upload (file and row together or neither), read, delete; always owner-scoped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.imaging.errors import PhotoError
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import AuditEvent, Photo, Treatment, User
from needlecare.web.errors import NotFoundError
from needlecare.web.photos.sanitize import CleanPhoto, photo_error_to_http


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


def analyse(clean: CleanPhoto, baseline_file: Path | None = None) -> dict[str, Any]:
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
        if baseline_file is not None:
            try:
                return analyze_photo(clean.jpeg, baseline=baseline_file).to_dict()
            except PhotoError as exc:
                if not exc.message.startswith("baseline photo"):
                    raise
        return analyze_photo(clean.jpeg).to_dict()
    except PhotoError as exc:
        raise photo_error_to_http(exc) from exc


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
    """Analyse and store one photo as a single unit of work: the row is committed, then the file published.

    The cleaned JPEG is written to a staging file first; if analysis, the insert or the commit fails, the
    staging file is removed and the transaction rolled back, so a failed upload leaves no file and no row.
    """
    baseline = None if is_baseline else baseline_of(db, treatment=treatment)
    analysis = analyse(clean, store.path(baseline.file_path) if baseline else None)
    staged = store.stage(clean.jpeg)
    try:
        width, height = clean.size
        photo = Photo(
            user_id=treatment.user_id,
            treatment_id=treatment.id,
            taken_on=taken_on,
            day=(taken_on - treatment.treated_on).days,
            is_baseline=is_baseline,
            consent=consent,
            file_path=store.new_relpath(treatment.user_id),
            width=width,
            height=height,
            analysis=analysis,
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
        store.discard(staged)
        raise
    store.publish(staged, photo.file_path)
    return photo


def delete(db: Session, *, photo: Photo) -> str:
    """Delete the row; returns the file to remove after the commit."""
    relpath = photo.file_path
    db.delete(photo)
    db.flush()
    return relpath
