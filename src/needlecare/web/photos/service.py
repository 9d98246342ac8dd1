"""Photo service: check and store an upload (file and row together or neither), read, delete; owner-scoped."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from fastapi import UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.imaging.errors import PhotoError
from needlecare.jobs.photos import FAILED, PENDING, Analysis, heatmap_relpath, measure
from needlecare.jobs.queue import ANALYSE_PHOTO
from needlecare.jobs.slots import photo_slot
from needlecare.knowledge.visibility import visibility
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import AuditEvent, Photo, Treatment, User
from needlecare.web.context import WebContext
from needlecare.web.errors import one_or_not_found
from needlecare.web.photos.sanitize import CleanPhoto, photo_error_to_http, sanitize
from needlecare.web.photos.upload import read_upload
from needlecare.web.treatments import service as treatments


def get(db: Session, *, user: User, photo_id: int) -> Photo:
    """The user's photo *photo_id*; :class:`NotFoundError` if missing or someone else's."""
    stmt = select(Photo).where(Photo.id == photo_id, Photo.user_id == user.id)
    return one_or_not_found(db, stmt, f"No photo {photo_id}.")


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


def analyse(clean: CleanPhoto, baseline: Photo | None = None, store: PhotoStore | None = None) -> Analysis:
    """Measure the sanitised photo now, without its heatmap (the pre-upload check and the upload's gate).

    With a *baseline* photo (and the *store* holding it) the report also compares the photo with that
    baseline (whether the light differs); a baseline that cannot be measured any more is skipped. Both
    reports carry the ``compressed`` warning of the photos as uploaded (a stored copy re-encoded at quality
    92 no longer shows it; a losslessly stripped JPEG does, and the warning is not repeated).

    Raises
    ------
    WebError
        415/413/422 mapped from the imaging core's :class:`PhotoError` (e.g. no face).
    """
    baseline_file = store.path(baseline.file_path) if baseline is not None and store is not None else None
    try:
        return measure(
            clean.jpeg,
            baseline_file,
            heatmap=False,
            chroma_step=clean.chroma_step,
            baseline_chroma_step=baseline.upload_chroma_step if baseline is not None else None,
        )
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
    """Check and store one photo as a single unit of work: the file is put in place, then the row committed.

    The photo is measured first (a photo that cannot be measured, e.g. without a face, is refused with a 4xx
    and nothing is stored); it is then stored with ``analysis_status = "pending"``: the caller enqueues the
    ``analyse_photo`` job, which stores the analysis against the baseline and draws the heatmap.

    The cleaned JPEG is written to a staging file first and moved to its place before the commit, so a
    process killed at any moment never leaves a row without its file (at worst a file without a row). If the
    insert or the commit fails, the file is removed and the transaction rolled back, so a failed upload
    leaves no file and no row.
    """
    analyse(clean)
    staged = [(store.stage(clean.jpeg), store.new_relpath(treatment.user_id))]
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
            width=width,
            height=height,
            analysis=None,
            analysis_status=PENDING,
            upload_chroma_step=clean.chroma_step,
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
        for path, relpath in staged:  # in place before the row exists: a stored row always has its file
            store.publish(path, relpath)
        db.commit()
    except BaseException:
        db.rollback()
        for path, relpath in staged:
            store.discard(path)
            store.delete(relpath)
        raise
    return photo


#: What to do about a photo dated before its treatment.
BEFORE_TREATMENT_PHOTO = (
    "A photo from before the treatment is your baseline: tick “This is my before-treatment (baseline) "
    "photo”, or correct the date."
)


def store_upload(
    db: Session,
    ctx: WebContext,
    treatment_id: int,
    file: UploadFile,
    consent: str,
    is_baseline: bool,
    taken_on: dt.date | None,
    user: User,
) -> Photo:
    """Shared by page and API: owner check, size limit, sanitise, check, store, enqueue the analysis job."""
    treatment = treatments.get(db, user=user, treatment_id=treatment_id)
    taken_on = treatments.event_date(
        treatment, taken_on, field="taken_on", before_hint=BEFORE_TREATMENT_PHOTO, baseline=is_baseline
    )
    data = read_upload(file, ctx.settings)
    with photo_slot():
        photo = save_upload(
            db,
            ctx.store,
            treatment=treatment,
            clean=sanitize(data),
            consent=consent,
            taken_on=taken_on,
            is_baseline=is_baseline,
        )
    ctx.jobs.enqueue(ANALYSE_PHOTO, photo.id)
    db.refresh(photo)
    return photo


def files_of(photo: Photo) -> list[str]:
    """Every stored file of *photo*: the photo and its heatmap (also one a running job may be writing)."""
    return list(
        dict.fromkeys(p for p in (photo.file_path, photo.heatmap_path, heatmap_relpath(photo.file_path)) if p)
    )


def delete(db: Session, *, photo: Photo) -> list[str]:
    """Delete the row; returns the files to remove after the commit."""
    files = files_of(photo)
    db.delete(photo)
    db.flush()
    return files


def plain_summary(photo: Photo) -> str:
    """One line in the patient's words for a list of photos: what the measurement says, no numbers.

    Examples are "Before treatment", "Redder than before treatment — visible", "Being measured…" and "Not
    compared with your before-treatment photo" (other light, several faces, or no baseline yet).
    """
    if photo.is_baseline:
        return "Before treatment"
    if photo.analysis_status == PENDING:
        return "Being measured…"
    if photo.analysis_status == FAILED:
        return "Could not be measured"
    change = comparable_change(photo)
    if change is None:
        return "Not compared with your before-treatment photo"
    return visibility(change).headline


def comparable_change(photo: Photo) -> float | None:
    """The photo's change from its baseline in CIELAB a*, None when not measured against one or when the two
    may not be compared (other light, several faces)."""
    change = None if photo.analysis is None else photo.analysis.comparable_delta_a_star
    return None if change is None else float(change)
