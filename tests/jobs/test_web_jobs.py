"""The web app on the Redis queue: an upload is stored ``pending``; a worker's job then shows the result."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from needlecare.cli.main import app as cli
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.models import MailDelivery
from needlecare.web.app import create_app
from needlecare.web.context import WebContext
from web.conftest import api_signup, api_treatment, api_upload, make_settings, new_client

from .conftest import FACE, REDIS_URL, wait_for


@pytest.mark.redis
def test_upload_is_pending_until_a_worker_has_analysed_it(tmp_path: Path, namespace: str) -> None:
    settings = make_settings(tmp_path, broker_url=REDIS_URL, broker_namespace=namespace)
    app = create_app(settings, migrate=True)
    ctx: WebContext = app.state.ctx
    assert not ctx.jobs.in_process
    with new_client(app) as client:
        headers = api_signup(client)
        tid = api_treatment(client, headers)
        r = api_upload(client, headers, tid, FACE.read_bytes())
        assert r.status_code == 201, r.text
        pid = r.json()["id"]
        assert (r.json()["analysis_status"], r.json()["analysis"]) == ("pending", None)
        page = client.get(f"/photos/{pid}")
        assert 'id="analysis-pending"' in page.text
        assert 'http-equiv="refresh"' in page.text
        assert client.get(f"/api/v1/photos/{pid}/heatmap").status_code == 404

        worker = ctx.jobs.worker(1)
        worker.start()
        try:
            wait_for(lambda: client.get(f"/api/v1/photos/{pid}").json()["analysis_status"] == "done")
        finally:
            worker.stop()
        body = client.get(f"/api/v1/photos/{pid}").json()
        assert body["analysis"]["redness"]["unit"] == "OD_hb"
        page = client.get(f"/photos/{pid}")
        assert "analysis-pending" not in page.text
        assert "http-equiv" not in page.text
        assert f'src="/photos/{pid}/heatmap"' in page.text
        heatmap = client.get(f"/api/v1/photos/{pid}/heatmap")
        with Image.open(io.BytesIO(heatmap.content)) as im:
            assert im.format == "JPEG"


def test_worker_without_a_broker_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEEDLECARE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEEDLECARE_BROKER_URL", raising=False)
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "NEEDLECARE_BROKER_URL" in result.output
    monkeypatch.setenv("NEEDLECARE_BROKER_URL", "amqp://nowhere")
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_jobs_tick_and_dead_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEEDLECARE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("NEEDLECARE_BROKER_URL", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert CliRunner().invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = CliRunner().invoke(cli, ["jobs", "tick"])
    assert (result.exit_code, result.output) == (0, "0\n")
    result = CliRunner().invoke(cli, ["jobs", "dead"])
    assert (result.exit_code, result.output) == (0, "")
    engine = make_engine(f"sqlite:///{tmp_path / 'needlecare.db'}")
    with make_sessionmaker(engine)() as db:
        db.add(MailDelivery(key="k", to_address="a@b.org", subject="s", body="b", status="dead", error="550"))
        db.commit()
    engine.dispose()
    result = CliRunner().invoke(cli, ["jobs", "dead"])
    assert result.exit_code == 0
    assert json.loads(result.output) == {"kind": "mail", "id": 1, "key": "k", "attempts": 0, "error": "550"}
