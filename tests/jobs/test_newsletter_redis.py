"""``needlecare newsletter send`` with ``NEEDLECARE_BROKER_URL`` on the local Redis (a namespace of its own)
and a real Dramatiq worker: the command records and enqueues the mails and sends none itself; the worker
delivers exactly one mail per confirmed subscriber (none to pending or unsubscribed addresses) through a real
SMTP server, each with its one-click unsubscribe header and link; running the command again mails nobody
twice, whether the first run's mails are still waiting in Redis or already sent; a recipient the SMTP server
refuses for a while is retried by the queue and gets the mail once; on a terminal the command shows a
``queueing`` bar."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dramatiq
import pytest
import redis
from typer.testing import Result

from needlecare.jobs import mail
from needlecare.jobs.dead import dead_messages
from needlecare.jobs.queue import JobQueue
from needlecare.mail import ONE_CLICK
from needlecare.newsletter.tokens import NewsletterTokens
from needlecare.storage.newsletter import NewsletterSubscription
from web.newsletter_install import PUBLIC, SECRET, Install, newsletter_install, send
from web.terminal import ESCAPE, finished_bar, plain, run_needlecare

from .conftest import REDIS_URL, Sink, free_port, job_settings, make_queue, settle, start, wait_for

pytestmark = pytest.mark.redis

#: Three confirmed subscribers, and two addresses that must get nothing.
SUBSCRIPTIONS = {
    "ann@example.org": "confirmed",
    "bob@example.org": "confirmed",
    "carl@example.org": "pending",
    "cleo@example.org": "confirmed",
    "dora@example.org": "unsubscribed",
}
CONFIRMED = sorted(a for a, s in SUBSCRIPTIONS.items() if s == "confirmed")
N = len(CONFIRMED)


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, namespace: str) -> Iterator[Install]:
    """The install, its command line configured for the Redis queue in this test's namespace."""
    with newsletter_install(tmp_path, monkeypatch, SUBSCRIPTIONS) as installed:
        monkeypatch.setenv("NEEDLECARE_BROKER_URL", REDIS_URL)
        monkeypatch.setenv("NEEDLECARE_BROKER_NAMESPACE", namespace)
        yield installed


def worker_queue(tmp_path: Path, namespace: str, port: int) -> JobQueue:
    """The queue a worker of *install* uses: same database and Redis namespace, mail to the SMTP *port*."""
    url = f"sqlite:///{tmp_path / 'data' / 'needlecare.db'}"
    return make_queue(job_settings(tmp_path, namespace, database_url=url), port)


def waiting(queue: JobQueue) -> int:
    """Messages waiting in *queue* on Redis (not yet taken by a worker)."""
    settings = queue.ctx.settings
    client = redis.Redis.from_url(REDIS_URL)
    try:
        return int(client.llen(f"{settings.jobs.broker_namespace}:{settings.jobs.job_queue}"))
    finally:
        client.close()


def statuses(install: Install) -> dict[str, str]:
    return {row.to_address: row.status for row in install.deliveries()}


def ok(result: Result, last_line: str) -> None:
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().splitlines()[-1] == last_line


def check_received(sink: Sink, install: Install) -> None:
    """Exactly one mail per confirmed subscriber, each with the one-click link that unsubscribes just them."""
    assert sorted(str(m["To"]) for m in sink.received) == CONFIRMED
    rows = {row.to_address: row for row in install.deliveries()}
    tokens = NewsletterTokens(SECRET, 3600)
    for message in sink.received:
        row = rows[str(message["To"])]
        assert row.unsubscribe_url is not None
        assert row.unsubscribe_url.startswith(f"{PUBLIC}/newsletter/unsubscribe/")
        claim = tokens.read_unsubscribe(row.unsubscribe_url.rsplit("/", 1)[1])
        with install.sessions() as db:
            sub = db.get_one(NewsletterSubscription, claim.sid)
            assert (sub.email, claim.value) == (row.to_address, sub.unsubscribe_key)
        assert message["List-Unsubscribe"] == f"<{row.unsubscribe_url}>"
        assert message["List-Unsubscribe-Post"] == ONE_CLICK
        assert f"Unsubscribe with one click: {row.unsubscribe_url}" in message.get_content()
        assert message["Message-ID"] == mail.message_id(row, "needlecare.test")
    assert len({row.unsubscribe_url for row in rows.values()}) == N


def test_workers_mail_each_confirmed_subscriber_once_and_a_rerun_mails_nobody(
    tmp_path: Path,
    namespace: str,
    install: Install,
    running: list[dramatiq.Worker],
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    queue = worker_queue(tmp_path, namespace, port)
    result = send(install, "--yes")
    ok(result, f"queued {N} mails; {N} handed to the workers")
    assert statuses(install) == dict.fromkeys(CONFIRMED, mail.QUEUED)  # nothing is sent without a worker
    assert waiting(queue) == N
    assert install.outbox() == []  # the command sent nothing itself

    worker = start(queue, running)
    wait_for(lambda: statuses(install) == dict.fromkeys(CONFIRMED, mail.SENT))
    settle(queue, worker)
    check_received(sink, install)
    assert {row.attempts for row in install.deliveries()} == {1}

    again = send(install, "--yes")
    ok(again, "queued 0 mails: every confirmed subscriber already has this issue")
    assert f"{N} already queued by an earlier run, 0 of them not sent yet" in again.stdout
    assert waiting(queue) == 0
    settle(queue, worker)
    assert len(sink.received) == N
    assert dead_messages(queue) == []


def test_a_rerun_before_the_workers_ran_enqueues_again_but_mails_each_once(
    tmp_path: Path,
    namespace: str,
    install: Install,
    running: list[dramatiq.Worker],
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    queue = worker_queue(tmp_path, namespace, port)
    ok(send(install, "--yes"), f"queued {N} mails; {N} handed to the workers")
    again = send(install, "--yes")  # e.g. the operator thought the first run had hung
    ok(again, f"queued 0 mails (and {N} left unsent by an earlier run); {N} handed to the workers")
    assert waiting(queue) == 2 * N

    worker = start(queue, running, threads=2)  # duplicates may even run at the same time
    wait_for(lambda: statuses(install) == dict.fromkeys(CONFIRMED, mail.SENT))
    settle(queue, worker)
    check_received(sink, install)
    assert {row.attempts for row in install.deliveries()} == {1}
    assert dead_messages(queue) == []


def test_a_recipient_refused_for_a_while_is_retried_and_mailed_once(
    tmp_path: Path,
    namespace: str,
    install: Install,
    running: list[dramatiq.Worker],
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    sink.refuse_rcpt["bob@example.org"] = 2  # "450 mailbox busy" to the first two attempts
    queue = worker_queue(tmp_path, namespace, port)
    ok(send(install, "--yes"), f"queued {N} mails; {N} handed to the workers")
    worker = start(queue, running)
    wait_for(lambda: statuses(install) == dict.fromkeys(CONFIRMED, mail.SENT))
    settle(queue, worker)
    check_received(sink, install)
    attempts = {row.to_address: (row.attempts, row.error) for row in install.deliveries()}
    assert attempts == {a: (3 if a == "bob@example.org" else 1, None) for a in CONFIRMED}
    assert sink.refuse_rcpt == {"bob@example.org": 0}
    assert dead_messages(queue) == []


def test_on_a_terminal_queueing_shows_a_bar_then_the_workers_send(
    tmp_path: Path,
    namespace: str,
    install: Install,
    running: list[dramatiq.Worker],
    smtp: tuple[Sink, int],
) -> None:
    sink, port = smtp
    queue = worker_queue(tmp_path, namespace, port)
    args = ["newsletter", "send", "--yes", "--subject", "Week 2 tips", str(install.issue)]
    out = run_needlecare(args, terminals=("stderr",))
    assert out.returncode == 0, out.stderr
    assert ESCAPE.search(out.stderr), out.stderr
    assert finished_bar("queueing", N).search(plain(out.stderr)), plain(out.stderr)
    assert out.stdout.rstrip().endswith(f"queued {N} mails; {N} handed to the workers")
    assert ESCAPE.search(out.stdout) is None
    assert waiting(queue) == N
    worker = start(queue, running)
    wait_for(lambda: statuses(install) == dict.fromkeys(CONFIRMED, mail.SENT))
    settle(queue, worker)
    check_received(sink, install)


def test_with_redis_unreachable_nothing_is_lost_and_a_rerun_hands_the_mails_over(
    tmp_path: Path,
    namespace: str,
    install: Install,
    running: list[dramatiq.Worker],
    smtp: tuple[Sink, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sink, port = smtp
    queue = worker_queue(tmp_path, namespace, port)
    monkeypatch.setenv("NEEDLECARE_BROKER_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    down = send(install, "--yes")
    assert down.exit_code == 1, down.output
    assert "Traceback" not in down.output
    *failures, last = down.stderr.splitlines()
    assert len(failures) == N, down.stderr
    assert all(line.startswith("needlecare: could not enqueue send_mail(") for line in failures), failures
    assert last.startswith(f"needlecare: {N} mails could not be handed to the workers now")
    assert "(`needlecare worker --scheduler`, `needlecare jobs tick`)" in last  # serve has no scheduler then
    assert statuses(install) == dict.fromkeys(CONFIRMED, mail.QUEUED)

    monkeypatch.setenv("NEEDLECARE_BROKER_URL", REDIS_URL)
    ok(
        send(install, "--yes"),
        f"queued 0 mails (and {N} left unsent by an earlier run); {N} handed to the workers",
    )
    worker = start(queue, running)
    wait_for(lambda: statuses(install) == dict.fromkeys(CONFIRMED, mail.SENT))
    settle(queue, worker)
    check_received(sink, install)
