"""A clinic patient's record as staff see it: treatments with expected course, check-ins, photo measurements.

Only while the patient's membership is active (:func:`members.patient`); read-only except for the
treatments the clinic recorded, which its staff may correct (:mod:`needlecare.web.clinics.corrections`).
Staff get the photos' measurements (day, redness index); the pictures themselves only of the photos whose
own consent shares them with the practitioner (``shared``; :mod:`needlecare.web.clinics.photos`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from needlecare.storage.models import Photo, User
from needlecare.web.checkins import service as checkins
from needlecare.web.checkins.schemas import CheckInPublic
from needlecare.web.clinics import corrections, members
from needlecare.web.clinics import photos as clinic_photos
from needlecare.web.clinics.schemas import Measurement, PatientPublic, PatientRecord, PatientTreatment
from needlecare.web.photos import service as photos
from needlecare.web.timeline import service as timeline
from needlecare.web.treatments import service as treatments


def _measurement(photo: Photo, *, shared: bool) -> Measurement:
    """What staff see of one photo: its day, whole-face index and whether it compares with the baseline."""
    analysis = photo.analysis
    index = None if analysis is None else analysis.index
    comparison = None if analysis is None else analysis.baseline
    return Measurement(
        photo_id=photo.id,
        taken_on=photo.taken_on,
        day=photo.day,
        is_baseline=photo.is_baseline,
        redness_index=None if index is None else float(index),
        comparable_with_baseline=None if comparison is None else comparison.comparable,
        shared=shared,
    )


def record(db: Session, *, staff: User, clinic_id: int, patient_id: int) -> PatientRecord:
    """Everything staff of *clinic_id* may read about patient *patient_id*, newest treatment first."""
    member = members.patient(db, staff=staff, clinic_id=clinic_id, patient_id=patient_id)
    patient = member.user
    recorded = corrections.recorded_ids(db, clinic_id=clinic_id, patient_id=patient.id)
    shared = clinic_photos.shared_ids(db, patient_id=patient.id)
    items = []
    for treatment in treatments.get_all(db, user=patient):
        taken = photos.get_all(db, treatment=treatment)
        measurements = [_measurement(p, shared=p.id in shared) for p in taken]
        items.append(
            PatientTreatment(
                treatment=treatments.detail(treatment),
                checkins=[CheckInPublic.model_validate(c) for c in checkins.get_all(db, treatment=treatment)],
                measurements=measurements,
                timeline=timeline.timeline(db, treatment=treatment),
                recorded_here=treatment.id in recorded,
            )
        )
    return PatientRecord(
        patient=PatientPublic(
            user_id=patient.id, email=patient.email, name=member.display_name, joined_at=member.updated_at
        ),
        treatments=items,
    )
