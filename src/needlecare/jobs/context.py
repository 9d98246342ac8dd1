"""What a job needs: settings, database sessions, the photo store, the mailer and the clinic alerts (built
once per process)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from needlecare.jobs.slots import set_photo_concurrency
from needlecare.mail import Mailer
from needlecare.settings import MailSettings, Settings
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import User
from needlecare.storage.private import private_dir


class ClinicAlerts(Protocol):
    """Raise the clinic flags of *patient*'s new events and record their alert mails; the ids of the
    deliveries to send once the caller has committed.

    The analysis job calls it after storing a measurement. The rules live with the clinics in the web layer
    (:func:`needlecare.web.clinics.alerts.sync`), which whoever builds the context hands in: the web app and
    the command line's queue, so that the jobs never import from the layers above them.
    """

    def __call__(self, db: Session, *, patient: User, base_url: str) -> list[int]:
        """The alert deliveries recorded for *patient* (links start at *base_url*)."""
        ...


@dataclass
class JobContext:
    """Shared state of the jobs of one process (a web app or a worker)."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: PhotoStore
    mailer: Mailer
    clinic_alerts: ClinicAlerts

    @classmethod
    def build(
        cls,
        settings: Settings,
        engine: Engine | None = None,
        mail: MailSettings | None = None,
        *,
        clinic_alerts: ClinicAlerts,
    ) -> JobContext:
        """Context for *settings*; *engine* overrides the one made from ``settings.sqlalchemy_url``.

        *mail* replaces the ``mail`` section of *settings*; *clinic_alerts* is what a new measurement raises
        for the patient's clinics (:class:`ClinicAlerts`).
        """
        engine = engine or make_engine(settings.sqlalchemy_url)
        set_photo_concurrency(settings.photo_concurrency)
        private_dir(settings.data_dir)
        return cls(
            settings=settings,
            sessions=make_sessionmaker(engine),
            store=PhotoStore(settings.photo_dir),
            mailer=Mailer(mail or settings.mail, settings.data_dir / "outbox"),
            clinic_alerts=clinic_alerts,
        )
