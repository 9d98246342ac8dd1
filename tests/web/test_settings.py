"""Settings: environment variables, the plain DATABASE_URL, and refusal of unsafe production values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from needlecare.settings import Settings


def test_defaults_use_sqlite_under_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("NEEDLECARE_DATABASE_URL", raising=False)
    s = Settings()
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.sqlalchemy_url == "sqlite:///data/needlecare.db"
    assert s.photo_dir == Path("data/photos")


def test_prefixed_and_plain_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h:5432/db")
    assert Settings().sqlalchemy_url == "postgresql+psycopg://u@h:5432/db"
    monkeypatch.setenv("NEEDLECARE_MAX_UPLOAD_BYTES", "1234")
    assert Settings().max_upload_bytes == 1234


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
