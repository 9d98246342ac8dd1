"""One settings object, read once from the environment (pydantic-settings), in nested sections.

:class:`Settings` holds what every part needs (environment, data directory, database, secret key, public
URL) and one section per part: ``mail`` (:class:`MailSettings`), ``newsletter`` (:class:`NewsletterSettings`),
``jobs`` (:class:`JobSettings`) and ``web`` (:class:`WebSettings`).

Every variable carries the ``NEEDLECARE_`` prefix and keeps a flat name: a field of ``jobs`` or ``web`` is
``NEEDLECARE_<FIELD>`` (``NEEDLECARE_BROKER_URL``, ``NEEDLECARE_MAX_UPLOAD_BYTES``), a field of ``mail`` is
``NEEDLECARE_SMTP_<FIELD>`` and one of ``newsletter`` is ``NEEDLECARE_NEWSLETTER_<FIELD>``
(:data:`SECTION_PREFIXES`). The nested form ``NEEDLECARE_<SECTION>__<FIELD>`` (``NEEDLECARE_MAIL__HOST``) is
read too. In Python a section field may likewise be given flat: ``Settings(broker_url=...)`` sets
``settings.jobs.broker_url`` and ``Settings(smtp_host=...)`` sets ``settings.mail.host``.

The database URL is also read from the plain ``DATABASE_URL``. The public URL is ``NEEDLECARE_PUBLIC_URL``;
``NEEDLECARE_NEWSLETTER_PUBLIC_URL`` is read as a deprecated name of it (with a warning), used only when
``NEEDLECARE_PUBLIC_URL`` is unset.

Outside development the settings refuse unsafe values (no secret key, insecure cookies).
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import AliasChoices, BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from needlecare.machine import cpu_cores

logger = logging.getLogger(__name__)

#: Minimum length of an explicitly configured secret key, in characters.
MIN_SECRET_LENGTH = 32

#: The deprecated name of ``NEEDLECARE_PUBLIC_URL``.
DEPRECATED_PUBLIC_URL = "NEEDLECARE_NEWSLETTER_PUBLIC_URL"


class MailSettings(BaseModel):
    """Where outgoing mail goes (environment variables ``NEEDLECARE_SMTP_<FIELD>``).

    Attributes
    ----------
    backend
        ``outbox`` (default: files in ``outbox_dir``) or ``smtp``.
    host, port
        SMTP server (port 1-65535).
    from_address
        ``From`` header, e.g. ``needlecare <no-reply@example.org>``.
    starttls
        Upgrade the connection with STARTTLS (certificate verified) before logging in or sending.
    username, password
        SMTP login, used only when ``username`` is set.
    timeout_s
        Socket timeout in seconds (> 0).
    outbox_dir
        Directory for the ``outbox`` backend; ``None`` means ``<data_dir>/outbox`` of the app settings.
    """

    backend: Literal["outbox", "smtp"] = "outbox"
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    from_address: str = "needlecare <no-reply@localhost>"
    starttls: bool = False
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = Field(default=10.0, gt=0)
    outbox_dir: Path | None = None

    @field_validator("from_address")
    @classmethod
    def _has_address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1]:
            raise ValueError(f"{value!r} has no e-mail address")
        return value


class NewsletterSettings(BaseModel):
    """Newsletter configuration (environment variables ``NEEDLECARE_NEWSLETTER_<FIELD>``).

    Attributes
    ----------
    confirm_max_age_s
        Lifetime of a confirmation link in seconds (default 48 h).
    resend_after_s
        A pending address gets at most one confirmation e-mail per this many seconds (default 10 min).
    max_requests_per_ip, request_window_s
        At most this many subscribe requests per client address in the sliding window (default 10 per hour):
        the form cannot be used to flood many inboxes with confirmation e-mails.
    """

    confirm_max_age_s: int = Field(default=48 * 3600, gt=0)
    resend_after_s: int = Field(default=600, ge=0)
    max_requests_per_ip: int = Field(default=10, ge=1)
    request_window_s: int = Field(default=3600, gt=0)


class JobSettings(BaseModel):
    """The task queue, its workers and the scheduler (environment variables ``NEEDLECARE_<FIELD>``).

    Attributes
    ----------
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
    """

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


class WebSettings(BaseModel):
    """The web server, its sessions and the limits on requests (environment variables ``NEEDLECARE_<FIELD>``).

    Attributes
    ----------
    host, port
        Address ``needlecare serve`` binds to.
    session_max_age_s, cookie_secure
        Lifetime of a login session in seconds; whether the session cookie is sent over HTTPS only.
    max_upload_bytes
        Largest accepted photo upload, in bytes (larger uploads get HTTP 413).
    max_upload_megapixels
        Largest accepted photo in millions of pixels, decided from the file header before decoding (413).
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
    argon2_time_cost, argon2_memory_kib, argon2_parallelism
        Password hashing parameters.
    migrate_on_start
        ``needlecare serve`` migrates the database before serving.
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    session_max_age_s: int = Field(default=14 * 24 * 3600, gt=0)
    cookie_secure: bool = True
    max_upload_bytes: int = Field(default=15 * 1024 * 1024, gt=0)
    max_upload_megapixels: float = Field(default=50.0, gt=0, le=120)
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


#: Each section, its model, and the prefix of its flat names (after ``NEEDLECARE_`` in the environment).
SECTION_PREFIXES: dict[str, tuple[type[BaseModel], str]] = {
    "mail": (MailSettings, "smtp_"),
    "newsletter": (NewsletterSettings, "newsletter_"),
    "jobs": (JobSettings, ""),
    "web": (WebSettings, ""),
}


def flat_names() -> dict[str, tuple[str, str]]:
    """Every section field by its flat name (``smtp_host``, ``broker_url``): (section, field)."""
    return {
        f"{prefix}{name}": (section, name)
        for section, (model, prefix) in SECTION_PREFIXES.items()
        for name in model.model_fields
    }


class FlatEnvironment(PydanticBaseSettingsSource):
    """The section fields set in the environment under their flat names, as nested sections.

    ``NEEDLECARE_SMTP_HOST`` becomes ``{"mail": {"host": ...}}``, ``NEEDLECARE_BROKER_URL``
    ``{"jobs": {"broker_url": ...}}`` (names are matched case-insensitively). Warns when the deprecated
    :data:`DEPRECATED_PUBLIC_URL` is set.
    """

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` reads the sections at once."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """The nested sections found in ``os.environ``."""
        environ = {key.upper(): value for key, value in os.environ.items()}
        if DEPRECATED_PUBLIC_URL in environ:
            ignored = (
                " (and ignored: NEEDLECARE_PUBLIC_URL is set)" if "NEEDLECARE_PUBLIC_URL" in environ else ""
            )
            logger.warning(
                "%s is deprecated%s: set NEEDLECARE_PUBLIC_URL instead", DEPRECATED_PUBLIC_URL, ignored
            )
        found: dict[str, dict[str, str]] = {}
        for flat, (section, name) in flat_names().items():
            value = environ.get(f"NEEDLECARE_{flat}".upper())
            if value is not None:
                found.setdefault(section, {})[name] = value
        return found


class Settings(BaseSettings):
    """The configuration of every needlecare process: ``serve``, ``worker`` and the commands.

    Attributes
    ----------
    environment
        ``development`` (default), ``test`` or ``production``; production rejects unsafe values.
    data_dir
        Directory for the SQLite database, photo files and the generated development secret key.
    database_url
        SQLAlchemy URL; defaults to SQLite at ``<data_dir>/needlecare.db``. ``postgresql://`` URLs are
        routed to the psycopg 3 driver.
    secret_key
        Key signing sessions and mailed links; unset, one is generated in ``<data_dir>/secret_key``.
    photo_concurrency
        Photo decodes and analyses one process runs at once (uploads, checks and analysis jobs together);
        the others wait, so memory stays bounded whatever arrives.
    public_url
        Base URL of every link in mails and pages (``https://care.example.org``); default
        ``http://<host>:<port>``. Read from ``NEEDLECARE_PUBLIC_URL``, else from the deprecated
        ``NEEDLECARE_NEWSLETTER_PUBLIC_URL``.
    mail, newsletter, jobs, web
        The sections: :class:`MailSettings`, :class:`NewsletterSettings`, :class:`JobSettings`,
        :class:`WebSettings`.
    """

    model_config = SettingsConfigDict(
        env_prefix="NEEDLECARE_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("NEEDLECARE_DATABASE_URL", "DATABASE_URL", "database_url")
    )
    secret_key: SecretStr | None = None
    photo_concurrency: int = Field(default=2, ge=1, le=64)
    public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^\s/]+(/[^\s]*)?$",
        validation_alias=AliasChoices("NEEDLECARE_PUBLIC_URL", DEPRECATED_PUBLIC_URL),
    )
    mail: MailSettings = Field(default_factory=MailSettings)
    newsletter: NewsletterSettings = Field(default_factory=NewsletterSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then the environment (nested names before flat ones), then the defaults."""
        return (
            init_settings,
            env_settings,
            FlatEnvironment(settings_cls),
            dotenv_settings,
            file_secret_settings,
        )

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data: Any) -> Any:
        """Move section fields given by flat name (``broker_url``, ``smtp_host``) into their sections."""
        if not isinstance(data, Mapping):
            return data
        names = flat_names()
        nested = {key: value for key, value in data.items() if key not in names}
        for key, value in data.items():
            if key not in names:
                continue
            section, name = names[key]
            current = nested.get(section)
            fields = current.model_dump() if isinstance(current, BaseModel) else dict(current or {})
            nested[section] = fields | {name: value}
        return nested

    @model_validator(mode="after")
    def _reject_unsafe(self) -> Self:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if len(key) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"NEEDLECARE_SECRET_KEY must have at least {MIN_SECRET_LENGTH} characters in production"
                )
            if not self.web.cookie_secure:
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
        return (self.public_url or f"http://{self.web.host}:{self.web.port}").rstrip("/")

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
