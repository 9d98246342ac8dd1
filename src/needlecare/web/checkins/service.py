"""Check-in service: triage on save, owner-scoped reads and deletes. Callers commit."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from needlecare.knowledge.common import InvalidInputError
from needlecare.knowledge.treatment_course import params_of
from needlecare.knowledge.triage import triage
from needlecare.storage.models import CheckIn, Treatment, User
from needlecare.web.checkins.schemas import CheckInCreate
from needlecare.web.errors import UnprocessableError, one_or_not_found
from needlecare.web.treatments import service as treatments


def get(db: Session, *, user: User, checkin_id: int) -> CheckIn:
    """The user's check-in; :class:`NotFoundError` if missing or someone else's."""
    stmt = select(CheckIn).where(CheckIn.id == checkin_id, CheckIn.user_id == user.id)
    return one_or_not_found(db, stmt, f"No check-in {checkin_id}.")


def get_all(db: Session, *, treatment: Treatment) -> Sequence[CheckIn]:
    """A treatment's check-ins in date order."""
    stmt = select(CheckIn).where(CheckIn.treatment_id == treatment.id, CheckIn.user_id == treatment.user_id)
    return db.scalars(stmt.order_by(CheckIn.checked_on, CheckIn.id)).all()


def create(db: Session, *, treatment: Treatment, data: CheckInCreate) -> CheckIn:
    """Triage the check-in for this treatment (``needlecare.knowledge.triage``) and store it with its verdict.

    Raises
    ------
    UnprocessableError
        A date before the treatment or after today (in the treatment's time zone), or input the triage
        rules refuse.
    """
    checked_on = treatments.event_date(
        treatment,
        data.checked_on,
        field="checked_on",
        before_hint="Check-ins start on the day of the treatment.",
    )
    day = treatments.day_number(treatment, checked_on)
    try:
        verdict = triage(
            day, data.symptoms, redness=data.self_rating, treatment=params_of(treatment)
        ).to_dict()
    except InvalidInputError as exc:
        raise UnprocessableError(str(exc)) from exc
    checkin = CheckIn(
        user_id=treatment.user_id,
        treatment_id=treatment.id,
        checked_on=checked_on,
        day=day,
        self_rating=data.self_rating,
        symptoms=data.symptoms,
        triage=verdict,
    )
    db.add(checkin)
    db.flush()
    return checkin


def delete(db: Session, *, checkin: CheckIn) -> None:
    """Delete a check-in."""
    db.delete(checkin)
    db.flush()
