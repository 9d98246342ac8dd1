"""``needlecare db upgrade`` and configuration errors on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from needlecare.cli.main import app


def test_db_upgrade_creates_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEEDLECARE_DATA_DIR", str(tmp_path / "d"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{tmp_path / 'd' / 'needlecare.db'}")
    assert "users" in inspect(engine).get_table_names()
    engine.dispose()


def test_unsafe_production_config_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEEDLECARE_ENVIRONMENT", "production")
    monkeypatch.delenv("NEEDLECARE_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "SECRET_KEY" in result.output
    assert "Traceback" not in result.output
