"""``needlecare newsletter``: send an issue to the confirmed subscribers, and count the subscriptions.

``needlecare newsletter send --subject TEXT [--yes] [--dry-run] FILE`` records one mail per confirmed
subscriber on the mail job (each with its own one-click unsubscribe link and RFC 8058 headers) and hands them
to the task queue: with ``NEEDLECARE_BROKER_URL`` the workers send them, otherwise they are sent right here.
Every mail is keyed by the issue's subject and text and the subscription, so running the same command again
(after a crash, or by mistake) mails nobody twice and only sends what is missing. Exit status 2 for invalid
input (nothing is queued), 1 when the operator declines or the database cannot be used.

``needlecare newsletter subscribers [--list]`` prints how many subscriptions are pending, confirmed and
unsubscribed; addresses only with ``--list``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from needlecare.cli.jobs import _queue
from needlecare.cli.logs import one_line_logs
from needlecare.cli.progress import Advance, progress
from needlecare.cli.web import _settings
from needlecare.jobs.queue import SEND_MAIL

if TYPE_CHECKING:
    from needlecare.jobs.queue import JobQueue
    from needlecare.storage.newsletter import NewsletterSubscription
    from needlecare.web.newsletter.service import Newsletter

newsletter_app = typer.Typer(help="Newsletter: send an issue, count subscribers.", no_args_is_help=True)

#: Largest issue file accepted, in bytes (an issue is a plain-text mail body, not an attachment).
MAX_ISSUE_BYTES = 1_000_000

#: Lines of the issue shown before asking for confirmation.
PREVIEW_LINES = 8

#: Mails recorded per database transaction before their jobs are enqueued.
BATCH = 50


def _fail(message: str, code: int = 2) -> typer.Exit:
    """Print one ``needlecare:`` line on stderr; the exit to raise."""
    typer.echo(f"needlecare: {message}", err=True)
    return typer.Exit(code)


def _subject_max() -> int:
    from sqlalchemy import String

    from needlecare.storage.models import MailDelivery

    column = MailDelivery.__table__.c.subject.type
    assert isinstance(column, String)
    assert column.length is not None
    return column.length


def check_subject(subject: str) -> str:
    """*subject* trimmed; :class:`ValueError` when empty, not one line or too long for the mail table."""
    subject = subject.strip()
    if not subject:
        raise ValueError("the subject is empty")
    if any(c in subject for c in "\r\n\x00"):
        raise ValueError("the subject must be one line")
    if len(subject) > _subject_max():
        raise ValueError(f"the subject is longer than {_subject_max()} characters")
    return subject


def read_issue(path: Path) -> str:
    """The issue's text from *path* (UTF-8, any line endings), without surrounding blank lines.

    The text becomes the plain-text body of each mail as it is (Markdown is sent as written: it reads well as
    plain text). Raises :class:`ValueError` with a one-line reason when the file is missing, unreadable, not
    UTF-8 text, larger than :data:`MAX_ISSUE_BYTES` or empty.
    """
    try:
        if path.is_dir():
            raise ValueError(f"{path} is a directory, not a file")
        size = path.stat().st_size
        if size > MAX_ISSUE_BYTES:
            raise ValueError(f"{path} is {size} bytes; an issue may have at most {MAX_ISSUE_BYTES}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    if "\x00" in text:
        raise ValueError(f"{path} is not a text file")
    text = text.replace("\r\n", "\n").replace("\r", "\n").rstrip().lstrip("\n")
    if not text:
        raise ValueError(f"{path} is empty")
    return text


def _interactive() -> bool:
    """Whether a person can answer a question on stdin."""
    return sys.stdin.isatty()


def _preview(text: str) -> str:
    lines = text.splitlines()
    shown = "\n".join(f"  | {line}" for line in lines[:PREVIEW_LINES])
    more = len(lines) - PREVIEW_LINES
    return shown + (f"\n  | ... ({more} more lines)" if more > 0 else "")


def _sample_mail(nl: Newsletter, base: str, sub: NewsletterSubscription, subject: str, text: str) -> str:
    """The mail *sub* would get, its personal unsubscribe token replaced by a placeholder."""
    mail = nl.issue_mail(base, sub, subject, text)
    generic = f"{base}/newsletter/unsubscribe/<personal link>"
    return mail.text.replace(mail.unsubscribe_url, generic)


@dataclass
class Plan:
    """Who gets an issue: the confirmed subscribers, those still without it, and mails left unsent before."""

    confirmed: list[NewsletterSubscription]
    missing: list[NewsletterSubscription]
    unsent: list[int]

    @property
    def already(self) -> int:
        """Confirmed subscribers whose mail of this issue was recorded by an earlier run."""
        return len(self.confirmed) - len(self.missing)


def _plan(queue: JobQueue, subject: str, text: str) -> Plan:
    """Read the confirmed subscribers and this issue's recorded mails (ids to hand to the job again: mails
    never sent, and in-process also those that failed, as the scheduler would)."""
    from needlecare.jobs.mail import QUEUED, RETRYING
    from needlecare.web.newsletter.service import confirmed_subscribers, issue_deliveries

    again = (QUEUED, RETRYING) if queue.in_process else (QUEUED,)
    with queue.ctx.sessions() as db:
        confirmed = confirmed_subscribers(db)
        recorded = issue_deliveries(db, subject, text)
    missing = [sub for sub in confirmed if sub.id not in recorded]
    unsent = []
    for sub in confirmed:
        row_id, status = recorded.get(sub.id, (0, ""))
        if status in again:
            unsent.append(row_id)
    return Plan(confirmed, missing, unsent)


def _hand_over(queue: JobQueue, row_ids: list[int], advance: Advance) -> list[bool]:
    """Enqueue ``send_mail`` for each of *row_ids*, advancing the bar after each; whether each succeeded."""
    results = []
    for row_id in row_ids:
        results.append(queue.enqueue(SEND_MAIL, row_id))
        advance(1)
    return results


def _deliver(
    queue: JobQueue, nl: Newsletter, base: str, plan: Plan, subject: str, text: str
) -> tuple[int, int, int]:
    """Record the missing mails and enqueue them batch by batch, then enqueue the unsent ones.

    Each batch of :data:`BATCH` mails is committed before its jobs are enqueued (a crash in between leaves
    them ``queued`` for the next run). A progress bar on stderr (on a terminal) counts every mail of the plan.
    Returns (mails newly recorded, jobs enqueued or, in-process, delivered, jobs that failed).
    """
    from needlecare.web.newsletter.service import queue_issue_mail

    recorded = 0
    results: list[bool] = []
    total = len(plan.missing) + len(plan.unsent)
    with progress("sending" if queue.in_process else "queueing", total) as advance:
        for start in range(0, len(plan.missing), BATCH):
            batch = plan.missing[start : start + BATCH]
            rows: list[int] = []
            with queue.ctx.sessions() as db:
                for sub in batch:
                    row, new = queue_issue_mail(db, nl, base, sub, subject, text)
                    if new:  # not new: a concurrent run recorded it and enqueues it
                        rows.append(row.id)
                db.commit()
            recorded += len(rows)
            advance(len(batch) - len(rows))
            results += _hand_over(queue, rows, advance)
        results += _hand_over(queue, plan.unsent, advance)
    return recorded, results.count(True), results.count(False)


def _db_failure(exc: Exception) -> typer.Exit:
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return _fail(f"cannot use the database ({reason}); is it migrated (`needlecare db upgrade`)?", 1)


@newsletter_app.command("send")
def send(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE", help="The issue's text: UTF-8 plain text or Markdown, sent as written."
        ),
    ],
    subject: Annotated[str, typer.Option("--subject", "-s", help="Subject line of the issue.")] = "",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Send without asking.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be sent; queue nothing.")
    ] = False,
) -> None:
    """Mail FILE as a newsletter issue to every confirmed subscriber (each with one-click unsubscribe).

    Shows the number of recipients and a preview, then asks (skip with --yes; without a terminal, --yes is
    required).

    Running it again with the same subject and text mails nobody twice: only mails missing or left unsent
    by an earlier run go out. Uses the database and mail settings of `needlecare serve`.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from needlecare.web.newsletter.service import Newsletter

    try:
        subject = check_subject(subject)
        text = read_issue(file)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    queue: JobQueue = _queue(need_broker=False)
    nl = Newsletter.build(queue.ctx.settings)
    base = _links_base(queue, nl)
    try:
        plan = _plan(queue, subject, text)
    except SQLAlchemyError as exc:
        raise _db_failure(exc) from None
    _show_plan(plan, subject, text, base)
    if dry_run:
        if plan.confirmed:
            typer.echo("\nEach mail reads:\n")
            typer.echo(_sample_mail(nl, base, plan.confirmed[0], subject, text))
        retry = f" and retry {len(plan.unsent)} unsent" if plan.unsent else ""
        typer.echo(f"dry run: would queue {len(plan.missing)} mails{retry}; nothing was queued")
        return
    if not plan.missing and not plan.unsent:
        why = (
            "every confirmed subscriber already has this issue"
            if plan.confirmed
            else "no confirmed subscribers"
        )
        typer.echo(f"queued 0 mails: {why}")
        return
    if not yes:
        _confirm(subject, len(plan.missing) + len(plan.unsent))
    try:
        with one_line_logs():  # a mail that fails in-process is one line, not a traceback
            recorded, ok, failed = _deliver(queue, nl, base, plan, subject, text)
    except SQLAlchemyError as exc:
        raise _db_failure(exc) from None
    _report(queue, recorded, ok, failed)


def _links_base(queue: JobQueue, nl: Newsletter) -> str:
    """The base of the unsubscribe links; refuses in production when no public URL is set."""
    settings = queue.ctx.settings
    if nl.settings.public_url is None and settings.public_url is None:
        if settings.environment == "production":
            raise _fail(
                "set NEEDLECARE_PUBLIC_URL: the unsubscribe links in the mails need the public address"
            )
        typer.echo(
            f"needlecare: NEEDLECARE_PUBLIC_URL is not set: links point to {settings.base_url}", err=True
        )
    return nl.base_url(settings.base_url)


def _show_plan(plan: Plan, subject: str, text: str, base: str) -> None:
    """Print the issue, its recipients, the links and a preview."""
    typer.echo(f"Issue:      {subject}")
    earlier = (
        f" ({plan.already} already queued by an earlier run, {len(plan.unsent)} of them not sent yet)"
        if plan.already
        else ""
    )
    typer.echo(
        f"Recipients: {len(plan.confirmed)} confirmed subscribers, {len(plan.missing)} to send{earlier}"
    )
    typer.echo(f"Links:      {base}/newsletter/unsubscribe/... (one-click unsubscribe in every mail)")
    typer.echo("Preview:")
    typer.echo(_preview(text))


def _confirm(subject: str, count: int) -> None:
    """Ask before sending (a terminal is needed; without one, --yes is)."""
    if not _interactive():
        raise _fail("refusing to send without --yes: stdin is not a terminal to confirm on")
    if not typer.confirm(f"Send '{subject}' to {count} subscribers?", default=False):
        raise _fail("not sent", 1)


def _report(queue: JobQueue, recorded: int, ok: int, failed: int) -> None:
    """Print what was queued and sent; exit 1 when some mails could not be handed on now."""
    again = ok + failed - recorded
    note = f" (and {again} left unsent by an earlier run)" if again else ""
    where = "sent" if queue.in_process else "handed to the workers"
    typer.echo(f"queued {recorded} mails{note}; {ok} {where}")
    if failed:
        what, scheduler = (
            ("sent", "`needlecare serve`")
            if queue.in_process
            else ("handed to the workers", "`needlecare worker --scheduler`")
        )
        raise _fail(
            f"{failed} mails could not be {what} now; they stay on the mail job and are retried by the "
            f"scheduler ({scheduler}, `needlecare jobs tick`) or by running this command again",
            1,
        )


@newsletter_app.command("subscribers")
def subscribers(
    as_list: Annotated[
        bool, typer.Option("--list", help="Also print every address with its status (personal data).")
    ] = False,
) -> None:
    """How many subscriptions are pending confirmation, confirmed and unsubscribed (no addresses)."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from needlecare.jobs.context import JobContext
    from needlecare.storage.newsletter import STATUSES, NewsletterSubscription
    from needlecare.web.newsletter.service import subscriber_counts

    try:
        ctx = JobContext.build(_settings())
    except Exception as exc:
        raise _fail(f"cannot start: {exc}", 1) from None
    try:
        with ctx.sessions() as db:
            counts = subscriber_counts(db)
            rows = (
                db.execute(select(NewsletterSubscription.status, NewsletterSubscription.email)).all()
                if as_list
                else []
            )
    except SQLAlchemyError as exc:
        raise _db_failure(exc) from None
    width = max(len(s) for s in STATUSES)
    for status in STATUSES:
        typer.echo(f"{status:<{width}}  {counts[status]}")
    order = {status: i for i, status in enumerate(STATUSES)}
    for status, email in sorted(rows, key=lambda r: (order.get(r[0], len(order)), r[1])):
        typer.echo(f"{status:<{width}}  {email}")


def register(app: typer.Typer) -> None:
    """Add ``newsletter`` to *app*."""
    app.add_typer(newsletter_app, name="newsletter")
