"""Outgoing mail: settings from NEEDLECARE_SMTP_*, the development outbox, one-click headers, SMTP errors."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import ValidationError

from needlecare.mail import ONE_CLICK, Mailer, MailError, compose
from needlecare.settings import MailSettings, Settings

LONG_URL = (
    "https://care.example.org/newsletter/unsubscribe/"
    + "eyJzIjoxLCJ2Ijoi" * 8
    + ".awS94w.hDlJuxVcnxkIMRW5klRx"
)


def _read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_settings_come_from_the_smtp_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().mail.backend == "outbox"
    monkeypatch.setenv("NEEDLECARE_SMTP_BACKEND", "smtp")
    monkeypatch.setenv("NEEDLECARE_SMTP_PORT", "2525")
    monkeypatch.setenv("NEEDLECARE_SMTP_FROM_ADDRESS", "Clinic <news@clinic.example>")
    settings = Settings().mail
    assert (settings.backend, settings.port, settings.from_address) == (
        "smtp",
        2525,
        "Clinic <news@clinic.example>",
    )


@pytest.mark.parametrize(
    ("field", "value"), [("port", 0), ("port", 70000), ("from_address", "nobody"), ("backend", "x")]
)
def test_invalid_settings_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError, match=field):
        MailSettings.model_validate({field: value})


def test_long_unsubscribe_url_stays_one_unencoded_header(tmp_path: Path) -> None:
    message = compose(
        sender="needlecare <no-reply@care.example.org>",
        to="ann@example.org",
        subject="News",
        text=f"Hello.\nUnsubscribe: {LONG_URL}\n",
        unsubscribe_url=LONG_URL,
    )
    Mailer(MailSettings(), tmp_path).send(message)
    (path,) = tmp_path.glob("*.eml")
    raw = path.read_bytes()
    assert f"List-Unsubscribe: <{LONG_URL}>".encode() in raw
    assert b"=?utf-8?" not in raw
    read = _read(path)
    assert read["List-Unsubscribe-Post"] == ONE_CLICK
    assert read["To"] == "ann@example.org"
    assert read["Message-ID"].endswith("@care.example.org>")
    assert LONG_URL in read.get_content()


def test_mail_without_unsubscribe_url_has_no_list_headers(tmp_path: Path) -> None:
    message = compose(sender="a <a@example.org>", to="b@example.org", subject="s", text="t")
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


def test_configured_outbox_wins_over_the_default(tmp_path: Path) -> None:
    mailer = Mailer(MailSettings(outbox_dir=tmp_path / "chosen"), tmp_path / "default")
    mailer.send(compose(sender="a <a@example.org>", to="b@example.org", subject="s", text="t"))
    assert len(list((tmp_path / "chosen").glob("*.eml"))) == 1
    assert not (tmp_path / "default").exists()


def test_smtp_failure_raises_mail_error_or_is_reported_quietly(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mailer = Mailer(MailSettings(backend="smtp", host="127.0.0.1", port=port, timeout_s=2), tmp_path)
    message = compose(sender="a <a@example.org>", to="b@example.org", subject="s", text="t")
    with pytest.raises(MailError, match=f"127.0.0.1:{port}"):
        mailer.send(message)
    assert mailer.send_quietly(message) is False
