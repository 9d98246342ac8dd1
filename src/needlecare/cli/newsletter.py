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
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from needlecare.cli.jobs import job_context, open_queue
from needlecare.cli.logs import one_line_logs
from needlecare.cli.progress import progress
from needlecare.cli.web import load_settings

if TYPE_CHECKING:
    from needlecare.jobs.queue import JobQueue
    from needlecare.newsletter.service import IssuePlan, Newsletter
    from needlecare.storage.newsletter import NewsletterSubscription

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


def _deliver(
    queue: JobQueue, nl: Newsletter, plan: IssuePlan, subject: str, text: str
) -> tuple[int, int, int]:
    """Deliver the issue (:func:`~needlecare.newsletter.service.deliver_issue`) in batches of :data:`BATCH`,
    with a progress bar on stderr (on a terminal) counting every mail of the plan."""
    from needlecare.newsletter import service

    total = len(plan.missing) + len(plan.unsent)
    with progress("sending" if queue.in_process else "queueing", total) as advance:
        return service.deliver_issue(queue, nl, plan, subject, text, batch=BATCH, advance=advance)


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

    from needlecare.newsletter import service

    try:
        subject = service.check_subject(subject)
        text = read_issue(file)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    queue = open_queue(need_broker=False)
    nl = service.Newsletter.build(queue.ctx.settings)
    base = _links_base(queue)
    try:
        plan = service.plan_issue(queue, subject, text)
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
            recorded, ok, failed = _deliver(queue, nl, plan, subject, text)
    except SQLAlchemyError as exc:
        raise _db_failure(exc) from None
    _report(queue, recorded, ok, failed)


def _links_base(queue: JobQueue) -> str:
    """The base of the unsubscribe links; refuses in production when no public URL is set."""
    settings = queue.ctx.settings
    if settings.public_url is None:
        if settings.environment == "production":
            raise _fail(
                "set NEEDLECARE_PUBLIC_URL: the unsubscribe links in the mails need the public address"
            )
        typer.echo(
            f"needlecare: NEEDLECARE_PUBLIC_URL is not set: links point to {settings.base_url}", err=True
        )
    return settings.base_url


def _show_plan(plan: IssuePlan, subject: str, text: str, base: str) -> None:
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
    from sqlalchemy.exc import SQLAlchemyError

    from needlecare.newsletter import service
    from needlecare.storage.newsletter import STATUSES

    try:
        ctx = job_context(load_settings())
    except Exception as exc:
        raise _fail(f"cannot start: {exc}", 1) from None
    try:
        with ctx.sessions() as db:
            counts = service.subscriber_counts(db)
            rows = service.subscriber_addresses(db) if as_list else []
    except SQLAlchemyError as exc:
        raise _db_failure(exc) from None
    width = max(len(s) for s in STATUSES)
    for status in STATUSES:
        typer.echo(f"{status:<{width}}  {counts[status]}")
    for status, email in rows:
        typer.echo(f"{status:<{width}}  {email}")


def register(app: typer.Typer) -> None:
    """Add ``newsletter`` to *app*."""
    app.add_typer(newsletter_app, name="newsletter")
