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


def test_serve_creates_and_migrates_the_database_and_names_its_public_url(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from .live import free_port

    port = free_port()
    env = {**os.environ, "NEEDLECARE_DATA_DIR": str(tmp_path / "data"), "NEEDLECARE_ARGON2_MEMORY_KIB": "64"}
    env.pop("DATABASE_URL", None)
    env.pop("NEEDLECARE_PUBLIC_URL", None)
    code = "from needlecare.cli.main import main; main()"
    stderr = (tmp_path / "stderr.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        stderr.close()
    said = (tmp_path / "stderr.txt").read_text()
    assert f"links in mails and pages use http://127.0.0.1:{port} (derived from the address served on" in said
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'needlecare.db'}")
    assert {"users", "photos", "alembic_version"} <= set(inspect(engine).get_table_names())
    engine.dispose()
