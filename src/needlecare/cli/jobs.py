"""CLI sub-commands: ``worker`` (a Dramatiq worker, optionally with the reminder scheduler) and ``jobs``."""

from __future__ import annotations

import json
import logging
import signal
import threading
from types import FrameType

import typer

from needlecare.cli.web import _settings

jobs_app = typer.Typer(help="Background jobs: dead letters, one scheduler pass.", no_args_is_help=True)

NO_BROKER = (
    "needlecare: no task queue configured: set NEEDLECARE_BROKER_URL=redis://127.0.0.1:6379/0 "
    "(without it, jobs run inside `needlecare serve`)"
)


def _queue(need_broker: bool = True):  # type: ignore[no-untyped-def]
    from needlecare.jobs.context import JobContext
    from needlecare.jobs.queue import JobQueue

    settings = _settings()
    if need_broker and settings.broker_url is None:
        typer.echo(NO_BROKER, err=True)
        raise typer.Exit(2)
    try:
        return JobQueue.from_settings(JobContext.build(settings))
    except Exception as exc:
        typer.echo(f"needlecare: cannot start: {exc}", err=True)
        raise typer.Exit(1) from None


def worker(
    threads: int | None = typer.Option(None, min=1, max=64, help="Worker threads (default from settings)."),
    scheduler: bool = typer.Option(
        False, "--scheduler", help="Also run the reminder scheduler every minute."
    ),
) -> None:
    """Run a worker for the photo-analysis and mail jobs on the Redis queue (NEEDLECARE_BROKER_URL).

    Start as many as you like, on any machine sharing the database and photo directory; run the scheduler
    in one or more of them (reminders are sent once either way). Stops on SIGINT/SIGTERM.
    """
    from needlecare.jobs.scheduler import start_in_thread

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    queue = _queue()
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    worker = queue.worker(threads)
    worker.start()
    scheduler_stop = start_in_thread(queue) if scheduler else None
    typer.echo(f"needlecare worker on queue {queue.ctx.settings.job_queue!r}", err=True)
    stop.wait()
    if scheduler_stop is not None:
        scheduler_stop.set()
    worker.stop()


@jobs_app.command("dead")
def dead() -> None:
    """List dead-lettered messages and the mails/photos they left failed, one JSON object a line."""
    from needlecare.jobs.dead import dead_messages, failed_rows

    queue = _queue(need_broker=False)
    for item in [{"kind": "message", **m} for m in dead_messages(queue)] + failed_rows(queue):
        typer.echo(json.dumps(item))


@jobs_app.command("tick")
def tick() -> None:
    """Run one scheduler pass now: record due reminders and enqueue them; prints how many jobs it enqueued."""
    from needlecare.jobs.scheduler import tick as run_tick

    typer.echo(str(run_tick(_queue(need_broker=False))))


def register(app: typer.Typer) -> None:
    """Add ``worker`` and ``jobs`` to *app*."""
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
