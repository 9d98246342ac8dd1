"""A self-hosted install as ``needlecare newsletter`` sees it: the environment of `needlecare serve` pointing
at a migrated SQLite database with four subscriptions (two confirmed, one pending, one unsubscribed) and an
issue file; shared by the newsletter CLI tests here and in tests/jobs."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from needlecare.cli.main import app
from needlecare.newsletter import service
from needlecare.storage.db import make_engine, make_sessionmaker
from needlecare.storage.migrate import upgrade
from needlecare.storage.models import MailDelivery
from needlecare.storage.newsletter import NewsletterSubscription

PUBLIC = "https://care.example.org"
SECRET = "s" * 48
ISSUE = "# Week 2\n\nGentle cleansing only.\nNo retinol yet.\n\nSee you next week.\n"

#: The seeded subscriptions: two confirmed, one pending, one unsubscribed.
SUBSCRIPTIONS = {
    "ann@example.org": "confirmed",
    "bob@example.org": "confirmed",
    "carl@example.org": "pending",
    "dora@example.org": "unsubscribed",
}
CONFIRMED = sorted(a for a, s in SUBSCRIPTIONS.items() if s == "confirmed")


@dataclass
class Install:
    """A self-hosted install as the CLI sees it: data directory, database, issue file."""

    data_dir: Path
    sessions: sessionmaker[Session]
    issue: Path

    def deliveries(self) -> list[MailDelivery]:
        """Every recorded mail, oldest first."""
        with self.sessions() as db:
            return list(db.scalars(select(MailDelivery).order_by(MailDelivery.id)))

    def outbox(self) -> list[EmailMessage]:
        """The mails the ``outbox`` backend wrote to ``<data_dir>/outbox``."""
        out = []
        for path in sorted((self.data_dir / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            out.append(message)
        return out


@contextmanager
def newsletter_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, subscriptions: dict[str, str] | None = None
) -> Iterator[Install]:
    """Set the environment (every other ``NEEDLECARE_*`` variable removed) for an install under *tmp_path*
    whose database holds *subscriptions* (address -> status; default :data:`SUBSCRIPTIONS`)."""
    data_dir = tmp_path / "data"
    url = f"sqlite:///{data_dir / 'needlecare.db'}"
    for name in list(os.environ):
        if name.startswith(("NEEDLECARE_", "DATABASE_URL")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("NEEDLECARE_ENVIRONMENT", "test")
    monkeypatch.setenv("NEEDLECARE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("NEEDLECARE_SECRET_KEY", SECRET)
    monkeypatch.setenv("NEEDLECARE_PUBLIC_URL", PUBLIC)
    data_dir.mkdir()
    upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    with sessions() as db:
        for i, (address, status) in enumerate((subscriptions or SUBSCRIPTIONS).items()):
            db.add(
                NewsletterSubscription(
                    email=address,
                    status=status,
                    confirm_nonce=f"nonce{i}",
                    unsubscribe_key=f"key{i}",
                    consent_version=service.CONSENT_VERSION,
                    requested_at=now,
                    consented_at=now if status != "pending" else None,
                    unsubscribed_at=now if status == "unsubscribed" else None,
                )
            )
        db.commit()
    issue = tmp_path / "issue.md"
    issue.write_text(ISSUE, encoding="utf-8")
    try:
        yield Install(data_dir, sessions, issue)
    finally:
        engine.dispose()


def run(*args: str, stdin: str | None = None) -> Result:
    """``needlecare newsletter ARGS`` in this process (stdin, stdout and stderr are not terminals)."""
    return CliRunner().invoke(app, ["newsletter", *args], input=stdin)


def send(install: Install, *extra: str, subject: str = "Week 2 tips") -> Result:
    """``needlecare newsletter send --subject SUBJECT EXTRA... ISSUE`` in this process."""
    return run("send", "--subject", subject, *extra, str(install.issue))
