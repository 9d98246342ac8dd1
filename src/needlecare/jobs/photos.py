"""The photo-analysis job: measure a stored photo (against its baseline), draw its heatmap, store both once.

The upload stores the sanitised photo with ``analysis_status = "pending"`` and enqueues
:func:`analyse_photo`; the job is idempotent: a photo already ``done`` is left alone, the heatmap goes to a
path derived from the photo's own path (a retry overwrites rather than adds a file) and the row is updated by
photo id, so a retried or duplicated message never creates a second result. :func:`mark_enqueued` records
when the job was last handed to the queue, so the scheduler can enqueue a photo whose message was never sent
(broker unreachable) or was lost again (:func:`needlecare.jobs.scheduler.tick`).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from needlecare.imaging.errors import PhotoError
from needlecare.jobs import mail
from needlecare.jobs.context import JobContext
from needlecare.jobs.errors import PermanentJobError
from needlecare.jobs.slots import photo_slot
from needlecare.storage.models import Photo, User

if TYPE_CHECKING:
    from needlecare.analysis.report import PhotoReport

logger = logging.getLogger(__name__)

PENDING, DONE, FAILED = "pending", "done", "failed"


@dataclass(frozen=True)
class Analysis:
    """What the analysis produced: the report dict and a heatmap picture (JPEG bytes, or None)."""

    report: dict[str, Any]
    heatmap_jpeg: bytes | None


#: Baseline reports kept per process. Every follow-up of a treatment is compared with the same stored
#: baseline file, which is never rewritten in place (a new baseline is a new file), so its report is measured
#: once rather than with every upload; a few MB each.
BASELINE_CACHE_SIZE = 8


@functools.lru_cache(maxsize=BASELINE_CACHE_SIZE)
def _baseline_report(path: str, mtime_ns: int, size: int) -> PhotoReport:
    """The report of the stored baseline at *path*, measured once per (path, mtime, size)."""
    from needlecare.analysis.pipeline import measure_photo

    return measure_photo(path)


def baseline_report(path: Path) -> PhotoReport:
    """The report of the stored baseline file *path* (cached, see :data:`BASELINE_CACHE_SIZE`).

    Raises
    ------
    PhotoError
        The file is gone or cannot be measured.
    """
    try:
        stat = path.stat()
    except OSError:
        from needlecare.imaging.errors import NotAnImageError

        raise NotAnImageError(f"cannot read {path}: the baseline photo is gone") from None
    return _baseline_report(str(path), stat.st_mtime_ns, stat.st_size)


#: Reports of the last photos measured in this process, by the digest of their JPEG bytes: the upload's gate
#: (:func:`needlecare.web.photos.service.analyse`) measures the stored bytes, and the analysis job that
#: follows in the same process (``job_runner = "inline"``) then reuses that report instead of measuring again.
RECENT_REPORTS = 4
_recent: OrderedDict[bytes, PhotoReport] = OrderedDict()
_recent_lock = threading.Lock()


def photo_report(jpeg: bytes) -> PhotoReport:
    """``measure_photo(jpeg)``, reused when the same bytes were measured recently in this process."""
    from needlecare.analysis.pipeline import measure_photo

    key = hashlib.blake2b(jpeg, digest_size=16).digest()
    with _recent_lock:
        if key in _recent:
            _recent.move_to_end(key)
            return _recent[key]
    report = measure_photo(jpeg)
    with _recent_lock:
        _recent[key] = report
        while len(_recent) > RECENT_REPORTS:
            _recent.popitem(last=False)
    return report


def heatmap_relpath(file_path: str) -> str:
    """Where the heatmap of the photo stored at *file_path* goes (``<user>/<name>.heatmap.jpg``)."""
    return f"{file_path.removesuffix('.jpg')}.heatmap.jpg"


def _heatmap(jpeg: bytes, report: PhotoReport, scale: tuple[float, float]) -> bytes:
    """The redness heatmap of *report* on the face of *jpeg*, on colour scale *scale*, as JPEG bytes."""
    from needlecare.analysis.pictures import face_picture

    picture = face_picture(jpeg, report, scale=scale, title=f"redness index {report.index:.3f} {report.unit}")
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture), mode="RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def measure(
    jpeg: bytes,
    baseline_file: Path | None = None,
    *,
    heatmap: bool = True,
    chroma_step: float | None = None,
    baseline_chroma_step: float | None = None,
) -> Analysis:
    """Measure the stored JPEG bytes of a photo, against the baseline file when there is one.

    A baseline that can no longer be measured is skipped (the photo itself is still measured).

    Parameters
    ----------
    jpeg
        The stored copy of the photo.
    baseline_file
        The stored copy of the treatment's baseline photo, if any.
    heatmap
        Whether to draw the heatmap JPEG.
    chroma_step, baseline_chroma_step
        The chroma quantisation step of each photo *as uploaded* (levels; None for non-JPEG uploads): the
        stored copies are re-encoded at high quality and no longer show it, so the reports get the
        ``compressed`` warning from these, which also makes matching the light on the eyes stricter.

    Raises
    ------
    PhotoError
        The photo itself cannot be measured (no face, not an image...).
    """
    from needlecare.analysis.pipeline import as_uploaded, compare_photos

    with photo_slot():  # at most photo_concurrency analyses (and upload decodes) at once in this process
        report = as_uploaded(photo_report(jpeg), chroma_step)
        if baseline_file is not None:
            try:
                baseline = as_uploaded(baseline_report(baseline_file), baseline_chroma_step)
            except PhotoError:
                baseline = None
            if baseline is not None:
                report = compare_photos(report, baseline)
        else:
            baseline = None
        from needlecare.analysis.pictures import treatment_scale

        # One colour scale for the treatment: its baseline's, or this photo's own while there is none (a
        # baseline photo's own scale is the one its follow-ups get).
        vmin, vmax = treatment_scale(baseline if baseline is not None else report)
        stored = report.to_dict()
        stored["heatmap_scale"] = {
            "min": round(vmin, 4),
            "max": round(vmax, 4),
            "unit": report.unit,
            "from": "baseline" if baseline is not None else "this photo",
        }
        return Analysis(report=stored, heatmap_jpeg=_heatmap(jpeg, report, (vmin, vmax)) if heatmap else None)


def _baseline(ctx: JobContext, db: Session, photo: Photo) -> tuple[Path | None, float | None]:
    """The stored file of *photo*'s baseline and its upload's chroma step; (None, None) without one."""
    if photo.is_baseline:
        return None, None
    stmt = select(Photo.file_path, Photo.upload_chroma_step).where(
        Photo.treatment_id == photo.treatment_id,
        Photo.user_id == photo.user_id,
        Photo.is_baseline.is_(True),
        Photo.id != photo.id,
    )
    row = db.execute(stmt.order_by(Photo.taken_on.desc(), Photo.id.desc())).first()
    return (ctx.store.path(row.file_path), row.upload_chroma_step) if row else (None, None)


def analyse_photo(ctx: JobContext, photo_id: int) -> str:
    """Measure photo *photo_id*, write its heatmap and store the analysis (status ``done``).

    Returns
    -------
    str
        ``"done"``, ``"already done"`` (a duplicate message) or ``"gone"`` (the photo was deleted).

    Raises
    ------
    PermanentJobError
        The stored photo cannot be measured (not retried; the photo is marked ``failed``).
    """
    with ctx.sessions() as db:
        photo = db.get(Photo, photo_id)
        if photo is None:
            return "gone"
        if photo.analysis_status == DONE:
            return "already done"
        file_path, user_id, chroma_step = photo.file_path, photo.user_id, photo.upload_chroma_step
        baseline, baseline_chroma_step = _baseline(ctx, db, photo)
    try:
        jpeg = ctx.store.path(file_path).read_bytes()
    except FileNotFoundError:
        return "gone"
    try:
        analysis = measure(jpeg, baseline, chroma_step=chroma_step, baseline_chroma_step=baseline_chroma_step)
    except PhotoError as exc:
        raise PermanentJobError(exc.message) from exc
    heatmap = heatmap_relpath(file_path) if analysis.heatmap_jpeg is not None else None
    if heatmap is not None and analysis.heatmap_jpeg is not None:
        ctx.store.publish(ctx.store.stage(analysis.heatmap_jpeg), heatmap)
    with ctx.sessions() as db:
        stmt = (
            update(Photo)
            .where(Photo.id == photo_id, Photo.user_id == user_id)
            .values(analysis=analysis.report, heatmap_path=heatmap, analysis_status=DONE, analysis_error=None)
        )
        updated = db.execute(stmt).rowcount  # type: ignore[attr-defined]
        db.commit()
    if not updated and heatmap is not None:  # deleted while we measured: leave no file behind
        ctx.store.delete(heatmap)
        return "gone"
    if updated:
        alert_clinics(ctx, user_id)
    return "done"


def alert_clinics(ctx: JobContext, user_id: int) -> None:
    """Raise the clinic flags a new measurement may have caused and send their alert mails now.

    The flags are the context's :attr:`~needlecare.jobs.context.JobContext.clinic_alerts`. A mail that fails
    here stays ``retrying`` for the scheduler's sweep; the analysis is stored either way.
    """
    with ctx.sessions() as db:
        user = db.get(User, user_id)
        if user is None:
            return
        delivery_ids = ctx.clinic_alerts(db, patient=user, base_url=ctx.settings.base_url)
        db.commit()
    for delivery_id in delivery_ids:
        try:
            mail.send_delivery(ctx, delivery_id)
        except Exception:
            logger.warning("clinic alert %d: not sent yet, left for the retry sweep", delivery_id)


def mark_enqueued(ctx: JobContext, photo_id: int, now: dt.datetime) -> None:
    """Record that photo *photo_id*'s analysis was handed to the queue at *now* (if still ``pending``)."""
    with ctx.sessions() as db:
        stmt = (
            update(Photo)
            .where(Photo.id == photo_id, Photo.analysis_status == PENDING)
            .values(analysis_enqueued_at=now)
        )
        db.execute(stmt)
        db.commit()


def give_up(ctx: JobContext, photo_id: int, error: str) -> None:
    """Mark photo *photo_id* ``failed`` (retries exhausted or a permanent error) unless it is ``done``."""
    with ctx.sessions() as db:
        stmt = (
            update(Photo)
            .where(Photo.id == photo_id, Photo.analysis_status != DONE)
            .values(analysis_status=FAILED, analysis_error=error[:2000])
        )
        db.execute(stmt)
        db.commit()
    logger.warning("photo %d: analysis failed: %s", photo_id, error)
