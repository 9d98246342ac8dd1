"""Settings: environment variables, the plain DATABASE_URL, and refusal of unsafe production values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from needlecare.settings import SECTION_PREFIXES, Settings


def test_defaults_use_sqlite_under_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("NEEDLECARE_DATABASE_URL", raising=False)
    s = Settings()
    assert (s.web.host, s.web.port) == ("127.0.0.1", 8000)
    assert s.sqlalchemy_url == "sqlite:///data/needlecare.db"
    assert s.photo_dir == Path("data/photos")


def test_prefixed_and_plain_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/db")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@h:5432/db"
    monkeypatch.setenv("NEEDLECARE_MAX_UPLOAD_BYTES", "1234")
    assert Settings().web.max_upload_bytes == 1234


def test_production_requires_secret_and_secure_cookies() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production")
    with pytest.raises(ValidationError, match="COOKIE_SECURE"):
        Settings(environment="production", secret_key="k" * 40, cookie_secure=False)
    assert Settings(environment="production", secret_key="k" * 40).environment == "production"


def test_generated_secret_is_persisted_privately(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    key = s.resolve_secret()
    assert len(key) >= 32
    assert Settings(data_dir=tmp_path).resolve_secret() == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("variable", "value", "section", "field"),
    [
        ("NEEDLECARE_SMTP_HOST", "smtp.example.org", "mail", "host"),
        ("NEEDLECARE_SMTP_PORT", "2525", "mail", "port"),
        ("NEEDLECARE_NEWSLETTER_RESEND_AFTER_S", "0", "newsletter", "resend_after_s"),
        ("NEEDLECARE_NEWSLETTER_MAX_REQUESTS_PER_IP", "2", "newsletter", "max_requests_per_ip"),
        ("NEEDLECARE_BROKER_URL", "redis://127.0.0.1:6379/0", "jobs", "broker_url"),
        ("NEEDLECARE_JOB_MAX_RETRIES", "3", "jobs", "job_max_retries"),
        ("NEEDLECARE_REMINDER_HOUR", "7", "jobs", "reminder_hour"),
        ("NEEDLECARE_HOST", "0.0.0.0", "web", "host"),
        ("NEEDLECARE_COOKIE_SECURE", "false", "web", "cookie_secure"),
        ("NEEDLECARE_MAIL__HOST", "nested.example.org", "mail", "host"),
        ("NEEDLECARE_JOBS__JOB_QUEUE", "other", "jobs", "job_queue"),
    ],
)
def test_every_flat_variable_reaches_its_section(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, section: str, field: str
) -> None:
    monkeypatch.setenv(variable, value)
    expected = getattr(type(getattr(Settings(), section)).model_validate({field: value}), field)
    assert getattr(getattr(Settings(), section), field) == expected


def test_flat_names_are_unique_and_accepted_as_arguments() -> None:
    from needlecare.settings import flat_names

    assert len(flat_names()) == sum(len(m.model_fields) for m, _ in SECTION_PREFIXES.values())
    s = Settings(broker_url="redis://h:1/0", smtp_host="smtp.example.org", max_upload_bytes=99)
    assert (s.jobs.broker_url, s.mail.host, s.web.max_upload_bytes) == (
        "redis://h:1/0",
        "smtp.example.org",
        99,
    )


def test_one_public_url_with_the_newsletter_name_deprecated(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("NEEDLECARE_PUBLIC_URL", raising=False)
    monkeypatch.setenv("NEEDLECARE_NEWSLETTER_PUBLIC_URL", "https://old.example.org")
    assert Settings().public_url == "https://old.example.org"
    assert "NEEDLECARE_NEWSLETTER_PUBLIC_URL is deprecated" in caplog.text
    monkeypatch.setenv("NEEDLECARE_PUBLIC_URL", "https://care.example.org")
    assert Settings().base_url == "https://care.example.org"
