"""``needlecare newsletter send`` and ``subscribers`` on a migrated temporary SQLite database: counts without
addresses, dry run, one mail per confirmed subscriber, no second mail on a re-run, resuming after a crash,
confirmation on a terminal only, bad input, and delivery to a real SMTP server (aiosmtpd) with one-click
unsubscribe headers whose link works in the web app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import Result

from needlecare.cli import newsletter as newsletter_cli
from needlecare.mail import ONE_CLICK
from needlecare.newsletter import service
from needlecare.newsletter.tokens import NewsletterTokens
from needlecare.settings import Settings
from needlecare.storage.models import MailDelivery
from needlecare.storage.newsletter import NewsletterSubscription
from needlecare.web.app import create_app

from .conftest import new_client
from .live import free_port
from .newsletter_install import (
    CONFIRMED,
    ISSUE,
    PUBLIC,
    SECRET,
    SUBSCRIPTIONS,
    Install,
    newsletter_install,
    run,
    send,
)
from .test_newsletter import Sink


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """Environment of `needlecare serve` pointing at a migrated SQLite database with four subscriptions."""
    with newsletter_install(tmp_path, monkeypatch) as installed:
        yield installed


def one_error_line(result: Result) -> str:
    """The single ``needlecare:`` line a failed command printed on stderr (and no traceback anywhere)."""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("needlecare: ")
    assert "Traceback" not in result.output
    return lines[0]


def test_subscribers_prints_counts_and_no_addresses(install: Install) -> None:
    result = run("subscribers")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["pending", "1", "confirmed", "2", "unsubscribed", "1"]
    assert "@" not in result.output


def test_subscribers_list_prints_every_address_with_its_status(install: Install) -> None:
    result = run("subscribers", "--list")
    assert result.exit_code == 0, result.output
    listed = [line.split() for line in result.stdout.splitlines() if "@" in line]
    assert sorted((address, status) for status, address in listed) == sorted(SUBSCRIPTIONS.items())


def test_dry_run_shows_the_issue_and_queues_nothing(install: Install) -> None:
    result = send(install, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "2 confirmed subscribers, 2 to send" in result.stdout
    assert "  | # Week 2" in result.stdout
    assert "  | No retinol yet." in result.stdout
    assert f"Unsubscribe with one click: {PUBLIC}/newsletter/unsubscribe/<personal link>" in result.stdout
    assert "@" not in result.stdout
    assert result.stdout.rstrip().endswith("dry run: would queue 2 mails; nothing was queued")
    assert install.deliveries() == []
    assert install.outbox() == []


def test_yes_mails_each_confirmed_subscriber_once_with_a_personal_one_click_link(install: Install) -> None:
    result = send(install, "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("queued 2 mails; 2 sent")
    rows = install.deliveries()
    assert sorted(r.to_address for r in rows) == CONFIRMED
    assert {(r.subject, r.status) for r in rows} == {("Week 2 tips", "sent")}
    tokens = NewsletterTokens(SECRET, 3600)
    with install.sessions() as db:
        for row in rows:
            assert row.unsubscribe_url is not None
            assert row.unsubscribe_url.startswith(f"{PUBLIC}/newsletter/unsubscribe/")
            claim = tokens.read_unsubscribe(row.unsubscribe_url.rsplit("/", 1)[1])
            sub = db.get(NewsletterSubscription, claim.sid)
            assert sub is not None
            assert (sub.email, claim.value) == (row.to_address, sub.unsubscribe_key)
            assert row.body.startswith(ISSUE.rstrip())
            assert row.body.endswith(f"Unsubscribe with one click: {row.unsubscribe_url}\n")
    mails = install.outbox()
    assert sorted(str(m["To"]) for m in mails) == CONFIRMED
    for mail in mails:
        assert mail["List-Unsubscribe-Post"] == ONE_CLICK
        assert mail["List-Unsubscribe"].startswith(f"<{PUBLIC}/newsletter/unsubscribe/")

    again = send(install, "--yes")  # the same issue again mails nobody
    assert again.exit_code == 0, again.output
    assert "2 already queued by an earlier run, 0 of them not sent yet" in again.stdout
    assert again.stdout.rstrip().endswith("queued 0 mails: every confirmed subscriber already has this issue")
    assert [r.id for r in install.deliveries()] == [r.id for r in rows]
    assert len(install.outbox()) == 2

    other = send(install, "--yes", subject="Week 3 tips")  # a different issue is a new mail
    assert other.exit_code == 0, other.output
    assert len(install.deliveries()) == 4
    assert len(install.outbox()) == 4


def test_a_rerun_after_a_crash_sends_only_what_is_missing(install: Install) -> None:
    from needlecare.newsletter.service import Newsletter

    text = ISSUE.rstrip()
    with install.sessions() as db:  # the first run recorded ann's mail and died before handing it to the job
        ann = db.scalar(select(NewsletterSubscription).where(NewsletterSubscription.email == CONFIRMED[0]))
        assert ann is not None
        nl = Newsletter.build(Settings())
        _, new = service.queue_issue_mail(db, nl, PUBLIC, ann, "Week 2 tips", text)
        assert new
        db.commit()
    result = send(install, "--yes")
    assert result.exit_code == 0, result.output
    assert "1 already queued by an earlier run, 1 of them not sent yet" in result.stdout
    assert result.stdout.rstrip().endswith("queued 1 mails (and 1 left unsent by an earlier run); 2 sent")
    assert sorted((r.to_address, r.status) for r in install.deliveries()) == [(a, "sent") for a in CONFIRMED]
    assert sorted(str(m["To"]) for m in install.outbox()) == CONFIRMED


def test_each_batch_is_handed_to_the_job_before_the_next_is_recorded(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long list is sent (and its progress shown) while it is recorded, not after all of it is."""
    sent_before: dict[str, int] = {}
    record = service.queue_issue_mail

    def counting(
        db: Session, nl: service.Newsletter, base: str, sub: NewsletterSubscription, *issue: str
    ) -> tuple[MailDelivery, bool]:
        sent_before[sub.email] = len(install.outbox())
        return record(db, nl, base, sub, *issue)

    monkeypatch.setattr(service, "queue_issue_mail", counting)
    monkeypatch.setattr(newsletter_cli, "BATCH", 1)
    result = send(install, "--yes")
    assert result.exit_code == 0, result.output
    assert sent_before == {address: i for i, address in enumerate(CONFIRMED)}
    assert result.stdout.rstrip().endswith("queued 2 mails; 2 sent")


def test_mails_refused_in_process_are_one_line_each_and_a_rerun_sends_them_once(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEEDLECARE_SMTP_BACKEND", "smtp")
    monkeypatch.setenv("NEEDLECARE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEEDLECARE_SMTP_PORT", str(free_port()))  # nothing listens there
    result = send(install, "--yes")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    *failures, last = result.stderr.splitlines()
    assert len(failures) == len(CONFIRMED)
    for line in failures:
        assert line.startswith("needlecare: in-process job send_mail(")
        assert "MailError: SMTP delivery via 127.0.0.1:" in line
    assert last.startswith(f"needlecare: {len(CONFIRMED)} mails could not be sent now")
    assert "(`needlecare serve`, `needlecare jobs tick`)" in last
    assert {r.status for r in install.deliveries()} == {"retrying"}

    sink = Sink()  # the SMTP server is back: running the command again sends them
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setenv("NEEDLECARE_SMTP_PORT", str(controller.port))
        again = send(install, "--yes")
        assert again.exit_code == 0, again.output
        assert (
            send(install, "--yes")
            .stdout.rstrip()
            .endswith("every confirmed subscriber already has this issue")
        )
    finally:
        controller.stop()
    assert again.stdout.rstrip().endswith(
        f"queued 0 mails (and {len(CONFIRMED)} left unsent by an earlier run); {len(CONFIRMED)} sent"
    )
    assert sorted(rcpt for rcpts, _ in sink.received for rcpt in rcpts) == CONFIRMED
    assert {r.status for r in install.deliveries()} == {"sent"}


def test_without_yes_and_without_a_terminal_nothing_is_sent(install: Install) -> None:
    result = send(install)
    assert result.exit_code == 2
    assert "--yes" in one_error_line(result)
    assert install.deliveries() == []


@pytest.mark.parametrize(("answer", "code", "mails"), [("n\n", 1, 0), ("\n", 1, 0), ("y\n", 0, 2)])
def test_on_a_terminal_the_operator_confirms(
    install: Install, monkeypatch: pytest.MonkeyPatch, answer: str, code: int, mails: int
) -> None:
    monkeypatch.setattr(newsletter_cli, "_interactive", lambda: True)
    result = run("send", "--subject", "Week 2 tips", str(install.issue), stdin=answer)
    assert result.exit_code == code, result.output
    assert "Send 'Week 2 tips' to 2 subscribers? [y/N]" in result.stdout
    assert len(install.deliveries()) == len(install.outbox()) == mails


def _bad_file(install: Install, kind: str) -> Path:
    path = install.issue.parent / f"bad-{kind}"
    if kind == "empty":
        path.write_text("", encoding="utf-8")
    elif kind == "blank":
        path.write_text("\n  \n\t\n", encoding="utf-8")
    elif kind == "latin1":
        path.write_bytes("Sonnenschutz für alle".encode("latin-1"))
    elif kind == "binary":
        path.write_bytes(b"PK\x03\x04\x00\x00")
    elif kind == "directory":
        path.mkdir()
    elif kind == "below-a-file":
        path = install.issue / "issue.md"
    elif kind == "huge":
        path.write_bytes(b"a" * (newsletter_cli.MAX_ISSUE_BYTES + 1))
    return path


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "no such file"),
        ("empty", "is empty"),
        ("blank", "is empty"),
        ("latin1", "not UTF-8"),
        ("binary", "not a text file"),
        ("directory", "is a directory"),
        ("below-a-file", "cannot read"),
        ("huge", "at most"),
    ],
)
def test_bad_issue_file_is_one_line_exit_2_and_nothing_queued(
    install: Install, kind: str, reason: str
) -> None:
    result = run("send", "--yes", "--subject", "Week 2", str(_bad_file(install, kind)))
    assert result.exit_code == 2, result.output
    assert reason in one_error_line(result)
    assert install.deliveries() == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
def test_unreadable_issue_file_is_exit_2(install: Install) -> None:
    install.issue.chmod(0)
    result = send(install, "--yes")
    assert result.exit_code == 2, result.output
    assert "cannot read" in one_error_line(result)
    assert install.deliveries() == []


@pytest.mark.parametrize(
    ("subject", "reason"),
    [("", "subject is empty"), ("   ", "subject is empty"), ("Week\n2", "one line"), ("x" * 301, "longer")],
)
def test_bad_subject_is_one_line_exit_2_and_nothing_queued(
    install: Install, subject: str, reason: str
) -> None:
    result = send(install, "--yes", subject=subject)
    assert result.exit_code == 2, result.output
    assert reason in one_error_line(result)
    assert install.deliveries() == []


def test_production_without_a_public_url_refuses(install: Install, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEEDLECARE_ENVIRONMENT", "production")
    monkeypatch.delenv("NEEDLECARE_PUBLIC_URL")
    result = send(install, "--yes")
    assert result.exit_code == 2
    assert "NEEDLECARE_PUBLIC_URL" in one_error_line(result)
    assert install.deliveries() == []


def test_an_unmigrated_database_is_one_line(
    tmp_path: Path, install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    for args in (["subscribers"], ["send", "--yes", "--subject", "Hi", str(install.issue)]):
        result = run(*args)
        assert result.exit_code == 1
        assert "db upgrade" in one_error_line(result)


def test_issue_arrives_over_smtp_with_a_working_one_click_unsubscribe(
    install: Install, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        monkeypatch.setenv("NEEDLECARE_SMTP_BACKEND", "smtp")
        monkeypatch.setenv("NEEDLECARE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("NEEDLECARE_SMTP_PORT", str(controller.port))
        monkeypatch.setenv("NEEDLECARE_SMTP_FROM_ADDRESS", "needlecare <news@needlecare.test>")
        result = send(install, "--yes")
        assert result.exit_code == 0, result.output
    finally:
        controller.stop()
    assert sorted(rcpt for rcpts, _ in sink.received for rcpt in rcpts) == CONFIRMED
    (mail,) = sink.to("ann@example.org")
    assert mail["Subject"] == "Week 2 tips"
    assert mail["List-Unsubscribe-Post"] == ONE_CLICK
    url = mail["List-Unsubscribe"].removeprefix("<").removesuffix(">")
    assert url.startswith(f"{PUBLIC}/newsletter/unsubscribe/")
    assert "No retinol yet." in mail.get_content()
    assert url in mail.get_content()

    web = create_app(Settings(), migrate=False)  # the same install's web app honours the one-click POST
    with new_client(web) as client:
        r = client.post(url.removeprefix(PUBLIC), data={"List-Unsubscribe": "One-Click"})
        assert r.status_code == 200
    counts = run("subscribers")
    assert counts.stdout.split() == ["pending", "1", "confirmed", "1", "unsubscribed", "2"]
