"""What a job needs: settings, database sessions, the photo store and the mailer (built once per process)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from needlecare.jobs.slots import set_photo_concurrency
from needlecare.mail import Mailer
from needlecare.settings import MailSettings, Settings
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.files import PhotoStore
from needlecare.storage.private import private_dir


@dataclass
class JobContext:
    """Shared state of the jobs of one process (a web app or a worker)."""

    settings: Settings
    sessions: sessionmaker[Session]
    store: PhotoStore
    mailer: Mailer

    @classmethod
    def build(
        cls, settings: Settings, engine: Engine | None = None, mail: MailSettings | None = None
    ) -> JobContext:
        """Context for *settings*; *engine* overrides the one made from ``settings.sqlalchemy_url``.

        *mail* replaces the ``mail`` section of *settings*.
        """
        engine = engine or make_engine(settings.sqlalchemy_url)
        set_photo_concurrency(settings.photo_concurrency)
        private_dir(settings.data_dir)
        return cls(
            settings=settings,
            sessions=make_sessionmaker(engine),
            store=PhotoStore(settings.photo_dir),
            mailer=Mailer(mail or settings.mail, settings.data_dir / "outbox"),
        )
