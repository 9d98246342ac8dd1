"""One settings object for the web app, read from the environment (pydantic-settings).

Every variable carries the ``NEEDLECARE_`` prefix (``NEEDLECARE_DATA_DIR``,
``NEEDLECARE_MAX_UPLOAD_BYTES``...), except the database URL, which is also read from the plain
``DATABASE_URL``.

Outside development the settings refuse unsafe values (no secret key, insecure cookies).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal, Self

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Minimum length of an explicitly configured secret key, in characters.
MIN_SECRET_LENGTH = 32


def cpu_cores() -> int:
    """The number of CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Configuration of ``needlecare serve``.

    Attributes
    ----------
    environment
        ``development`` (default), ``test`` or ``production``; production rejects unsafe values.
    data_dir
        Directory for the SQLite database, photo files and the generated development secret key.
    database_url
        SQLAlchemy URL; defaults to SQLite at ``<data_dir>/needlecare.db``. ``postgresql://`` URLs are
        routed to the psycopg 3 driver.
    max_upload_bytes
        Largest accepted photo upload, in bytes (larger uploads get HTTP 413).
    max_upload_megapixels
        Largest accepted photo in millions of pixels, decided from the file header before decoding (413).
    photo_concurrency
        Photo decodes and analyses one process runs at once (uploads, checks and analysis jobs together);
        the others wait, so memory stays bounded whatever arrives.
    max_text_body_bytes
        Largest JSON or URL-encoded form body in bytes (413); photos come as multipart, bounded by
        ``max_upload_bytes``.
    max_header_bytes, max_header_count
        Bounds on one request's headers (summed name and value bytes, and their number); a request over
        either is answered 431 before any header is parsed.
    login_max_failures, login_address_max_failures, login_window_s
        Failed logins allowed per account (its normalised e-mail) and per client address inside the window
        (seconds) before further attempts get 429; the same counts bound password-reset requests per hour.
    signup_max_per_address, invitations_max_per_hour
        Sign-ups per client address per hour; invitations per inviting account and per address per hour.
    broker_url
        Task-queue broker: unset runs jobs in-process (nothing extra to start); ``redis://host:port/db``
        shares a Redis queue between several web and ``needlecare worker`` processes.
    broker_namespace, job_queue
        Prefix of every Redis key, and the queue name the actors use.
    job_max_retries, job_min_backoff_ms, job_max_backoff_ms
        Retries of a failed job (exponential backoff between the bounds, in ms) before it is dead-lettered.
    job_lease_s
        Seconds a claimed job (a mail being sent, a photo being analysed) is left to its worker before another
        may take it over; also how long a queued job may wait before the scheduler enqueues it again.
    photo_requeue_s
        Seconds after which the scheduler enqueues the analysis of a photo still ``pending`` again (its
        message may have been lost); a photo never enqueued (broker unreachable) is enqueued at the next tick.
    broker_heartbeat_timeout_ms, broker_maintenance_chance
        Redis broker: a worker silent for this long is dead and its unacknowledged messages are redelivered;
        chance (per million broker commands) of running that maintenance. Every ``needlecare worker`` also
        runs it, and refreshes its own heartbeat, every quarter of the timeout, so a dead worker's messages
        are back on the queue within about 1.25 timeouts (default 15 s: under 20 s).
    job_runner
        Without a broker: ``background`` (default) answers the request first and measures photos in
        ``worker_processes`` worker processes and sends mail from a thread; ``inline`` runs each job inside
        the call that enqueued it (commands that must finish their work before exiting, and tests).
    worker_threads
        Threads per ``needlecare worker`` process.
    worker_processes
        Worker processes ``needlecare worker`` runs, and photo-analysis processes of ``needlecare serve``
        without a broker (default: the machine's CPU cores). Photo analysis is
        CPU-bound and one MediaPipe runs one analysis at a time, so processes, not threads, use the cores.
    reminder_hour
        Local hour (0-23) at which the day's aftercare reminder is mailed.
    public_url
        Base URL for links in mails (``https://care.example.org``); default ``http://<host>:<port>``.
    """

    model_config = SettingsConfigDict(
        env_prefix="NEEDLECARE_", extra="ignore", validate_by_name=True, validate_by_alias=True
    )

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("NEEDLECARE_DATABASE_URL", "DATABASE_URL", "database_url")
    )
    secret_key: SecretStr | None = None
    session_max_age_s: int = Field(default=14 * 24 * 3600, gt=0)
    cookie_secure: bool = True
    max_upload_bytes: int = Field(default=15 * 1024 * 1024, gt=0)
    max_upload_megapixels: float = Field(default=50.0, gt=0, le=120)
    photo_concurrency: int = Field(default=2, ge=1, le=64)
    max_text_body_bytes: int = Field(default=1024 * 1024, ge=4096)
    max_header_bytes: int = Field(default=16 * 1024, ge=1024)
    max_header_count: int = Field(default=64, ge=8)
    login_max_failures: int = Field(default=5, ge=1)
    login_window_s: int = Field(default=15 * 60, gt=0)
    login_address_max_failures: int = Field(default=20, ge=1)
    signup_max_per_address: int = Field(default=10, ge=1)
    invitations_max_per_hour: int = Field(default=30, ge=1)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=64 * 1024, ge=8)
    argon2_parallelism: int = Field(default=1, ge=1)
    migrate_on_start: bool = True
    broker_url: str | None = Field(default=None, pattern=r"^(redis|rediss|unix)://")
    broker_namespace: str = Field(default="needlecare", pattern=r"^[A-Za-z0-9_.:-]+$")
    job_queue: str = Field(default="needlecare", pattern=r"^[A-Za-z0-9_-]+$")
    job_max_retries: int = Field(default=8, ge=0)
    job_min_backoff_ms: int = Field(default=15_000, ge=1)
    job_max_backoff_ms: int = Field(default=6 * 3600 * 1000, ge=1)
    job_lease_s: float = Field(default=300.0, gt=0)
    photo_requeue_s: float = Field(default=600.0, gt=0)
    broker_heartbeat_timeout_ms: int = Field(default=15_000, ge=100)
    broker_maintenance_chance: int = Field(default=1000, ge=0, le=1_000_000)
    job_runner: Literal["background", "inline"] = "background"
    worker_threads: int = Field(default=2, ge=1, le=64)
    worker_processes: int = Field(default_factory=lambda: cpu_cores(), ge=1, le=64)
    reminder_hour: int = Field(default=8, ge=0, le=23)
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")

    @model_validator(mode="after")
    def _reject_unsafe(self) -> Self:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"NEEDLECARE_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters in production"
                )
            if not self.cookie_secure:
                raise ValueError("NEEDLECARE_COOKIE_SECURE must stay true in production")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL to hand to SQLAlchemy (default SQLite file, psycopg 3 for PostgreSQL)."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'needlecare.db'}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def base_url(self) -> str:
        """Base for links in mails, without a trailing slash."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def photo_dir(self) -> Path:
        """Directory holding the stored (EXIF-free) photo files."""
        return self.data_dir / "photos"

    def resolve_secret(self) -> str:
        """The session-signing key: the configured one, else a random key kept in ``<data_dir>/secret_key``.

        The file is created with mode 0600 on first use so sessions survive restarts in development.
        """
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        from needlecare.storage.private import private_dir, write_new_private

        private_dir(self.data_dir)
        key = secrets.token_urlsafe(48)
        write_new_private(path, key.encode("utf-8"))
        return key
