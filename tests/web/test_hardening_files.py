"""The data directory is its user's alone: directories 0700, files 0600 (database, photos, key, mail)."""

from __future__ import annotations

import os
import stat
from email.message import EmailMessage
from pathlib import Path

from needlecare.mail import Mailer
from needlecare.settings import MailSettings
from needlecare.web.app import create_app

from .conftest import api_signup, api_treatment, api_upload, make_settings, new_client

FACE = Path(__file__).resolve().parents[1] / "fixtures" / "faces" / "obama-480p.jpg"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_directory_0700_and_files_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)  # the usual default: 0644 files and 0755 directories unless the app says otherwise
    try:
        data = tmp_path / "data"
        data.mkdir(mode=0o755)  # an existing, too open directory is tightened
        os.chmod(data, 0o755)
        settings = make_settings(tmp_path, secret_key=None)
        app = create_app(settings, migrate=True)
        with new_client(app) as client:
            headers = api_signup(client)
            tid = api_treatment(client, headers)
            r = api_upload(client, headers, tid, FACE.read_bytes())
            assert r.status_code == 201, r.text
        Mailer(MailSettings(), settings.data_dir / "outbox").send_quietly(_message())
        app.state.ctx.engine.dispose()
    finally:
        os.umask(old)
    dirs = [data, *(p for p in data.rglob("*") if p.is_dir())]
    files = [p for p in data.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"test.db", "secret_key"} <= names
    assert {".jpg", ".eml"} <= {p.suffix for p in files}
    assert {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in dirs if _mode(p) != 0o700} == {}
    assert {str(p.relative_to(tmp_path)): oct(_mode(p)) for p in files if _mode(p) != 0o600} == {}


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "test"
    message.set_content("hello")
    return message
