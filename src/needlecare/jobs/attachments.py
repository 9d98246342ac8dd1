"""Attachments of queued mail, regenerated when the mail is sent from what its delivery row references.

A :class:`~needlecare.storage.models.MailDelivery` holds no file bytes: its ``attachment`` column names a kind
(:data:`KINDS`) and the row references what the file is made from (``treatment_id``). The mail job builds the
file at send time with :func:`build`, so a retried or resumed job attaches the same content.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from needlecare.jobs.errors import PermanentJobError
from needlecare.knowledge.plan import aftercare_plan, to_ics
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.storage.models import MailDelivery, Treatment

#: The treatment's day-by-day aftercare plan as an iCalendar file (needs ``treatment_id``).
AFTERCARE_ICS = "aftercare.ics"

#: Every attachment kind a queued mail may name.
KINDS: frozenset[str] = frozenset({AFTERCARE_ICS})


@dataclass(frozen=True)
class Attachment:
    """One file to attach: its bytes, MIME type (``maintype/subtype``) and file name."""

    data: bytes
    maintype: str
    subtype: str
    filename: str


def check(kind: str | None, treatment_id: int | None) -> None:
    """Raise :class:`ValueError` unless *kind* is ``None`` or a known kind with the reference it needs."""
    if kind is None:
        return
    if kind not in KINDS:
        raise ValueError(f"unknown attachment kind {kind!r} (known: {', '.join(sorted(KINDS))})")
    if treatment_id is None:
        raise ValueError(f"attachment {kind!r} needs a treatment_id")


def aftercare_ics(treatment: Treatment) -> bytes:
    """The aftercare plan of *treatment* in its time zone as RFC 5545 bytes (as the plan download)."""
    plan = aftercare_plan(treatment.treated_on, TreatmentParams.of(treatment), tz=treatment.timezone)
    return to_ics(plan)


def build(db: Session, delivery: MailDelivery) -> Attachment | None:
    """The attachment *delivery* names, built now; ``None`` when it has none.

    Raises
    ------
    PermanentJobError
        Unknown kind, or the referenced treatment no longer exists (the mail can never be sent as recorded).
    """
    if delivery.attachment is None:
        return None
    if delivery.attachment != AFTERCARE_ICS:
        raise PermanentJobError(f"mail {delivery.id}: unknown attachment kind {delivery.attachment!r}")
    treatment = db.get(Treatment, delivery.treatment_id) if delivery.treatment_id is not None else None
    if treatment is None:
        raise PermanentJobError(f"mail {delivery.id}: treatment {delivery.treatment_id} of its .ics is gone")
    return Attachment(aftercare_ics(treatment), "text", "calendar", AFTERCARE_ICS)
