"""Everything a request needs, built once per app: settings, database, photo store, hasher, codec, jobs."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from needlecare.jobs.context import ClinicAlerts, JobContext
from needlecare.jobs.queue import JobQueue
from needlecare.settings import Settings
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.files import PhotoStore
from needlecare.web.ratelimit import RateLimits
from needlecare.web.security import SessionCodec, make_hasher


@dataclass
class WebContext:
    """Shared state of one running app."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    store: PhotoStore
    hasher: PasswordHasher
    codec: SessionCodec
    limits: RateLimits
    jobs: JobQueue

    @classmethod
    def build(
        cls, settings: Settings, engine: Engine | None = None, *, clinic_alerts: ClinicAlerts
    ) -> WebContext:
        """Context for *settings*; *engine* overrides the one made from ``settings.sqlalchemy_url``; the jobs
        raise *clinic_alerts* after a measurement."""
        engine = engine or make_engine(settings.sqlalchemy_url)
        # The web app answers first and runs its jobs after (in-process jobs included, see ``job_runner``).
        background = settings.jobs.job_runner == "background"
        jobs = JobQueue.from_settings(
            JobContext.build(settings, engine, clinic_alerts=clinic_alerts), background=background
        )
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            store=PhotoStore(settings.photo_dir),
            hasher=make_hasher(settings),
            codec=SessionCodec(settings.resolve_secret(), settings.web.session_max_age_s),
            limits=RateLimits.from_settings(settings),
            jobs=jobs,
        )
