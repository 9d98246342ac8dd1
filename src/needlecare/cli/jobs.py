"""CLI sub-commands: ``worker`` (a Dramatiq worker, optionally with the reminder scheduler) and ``jobs``."""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from types import FrameType
from typing import TYPE_CHECKING

import typer

from needlecare.cli.web import load_settings

if TYPE_CHECKING:
    from needlecare.jobs.context import JobContext
    from needlecare.jobs.queue import JobQueue
    from needlecare.settings import Settings

jobs_app = typer.Typer(help="Background jobs: dead letters, one scheduler pass.", no_args_is_help=True)

NO_BROKER = (
    "needlecare: no task queue configured: set NEEDLECARE_BROKER_URL=redis://127.0.0.1:6379/0 "
    "(without it, jobs run inside `needlecare serve`)"
)


def job_context(settings: Settings) -> JobContext:
    """The jobs' context for *settings*, raising the clinic alerts of :mod:`needlecare.web.clinics.alerts`."""
    from needlecare.jobs.context import JobContext
    from needlecare.web.clinics import alerts

    return JobContext.build(settings, clinic_alerts=alerts.sync)


def open_queue(need_broker: bool = True) -> JobQueue:
    """The job queue of the configured settings; exits 2 without a broker when *need_broker*, 1 when it cannot
    be built (a one-line reason on stderr)."""
    from needlecare.jobs.queue import JobQueue

    settings = load_settings()
    if need_broker and settings.jobs.broker_url is None:
        typer.echo(NO_BROKER, err=True)
        raise typer.Exit(2)
    try:
        return JobQueue.from_settings(job_context(settings))
    except Exception as exc:
        typer.echo(f"needlecare: cannot start: {exc}", err=True)
        raise typer.Exit(1) from None


def _die_with_parent() -> None:
    """In a child process before exec: get SIGKILL when the parent dies (Linux ``PR_SET_PDEATHSIG``), so
    that a killed ``needlecare worker`` leaves no orphan consuming the queue."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def _child_workers(processes: int, threads: int | None) -> list[subprocess.Popen[bytes]]:
    """Start *processes* single-process workers (``python -m needlecare.cli worker --processes 1``)."""
    command = [sys.executable, "-m", "needlecare.cli", "worker", "--processes", "1"]
    if threads is not None:
        command += ["--threads", str(threads)]
    preexec = _die_with_parent if sys.platform.startswith("linux") else None
    return [subprocess.Popen(command, preexec_fn=preexec) for _ in range(processes)]


def worker(
    threads: int | None = typer.Option(None, min=1, max=64, help="Worker threads (default from settings)."),
    processes: int | None = typer.Option(
        None, min=1, max=64, help="Worker processes (default from settings: the CPU cores)."
    ),
    scheduler: bool = typer.Option(
        False, "--scheduler", help="Also run the reminder scheduler every minute."
    ),
) -> None:
    """Run a worker for the photo-analysis and mail jobs on the Redis queue (NEEDLECARE_BROKER_URL).

    Start as many as you like, on any machine sharing the database and photo directory; run the scheduler
    in one or more of them (reminders are sent once either way). With several processes this one starts
    them, runs the scheduler if asked, and stops them when it stops. Stops on SIGINT/SIGTERM.
    """
    from needlecare.imaging import parallel
    from needlecare.jobs.recovery import start_broker_maintenance
    from needlecare.jobs.runner import lower_priority
    from needlecare.jobs.scheduler import start_in_thread

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.umask(0o077)  # whatever the process creates is its user's alone (files 0600, directories 0700)
    lower_priority()  # a web server on the same machine gets a core first
    parallel.set_threads(1)  # photos run side by side in the worker's threads and processes
    queue = open_queue()
    count = processes or queue.ctx.settings.jobs.worker_processes
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    children: list[subprocess.Popen[bytes]] = []
    worker = None
    maintenance_stop = None
    if count > 1:
        children = _child_workers(count, threads)
    else:
        worker = queue.worker(threads)
        worker.start()
        maintenance_stop = start_broker_maintenance(queue)  # dead workers' messages back within seconds
    scheduler_stop = start_in_thread(queue) if scheduler else None
    typer.echo(
        f"needlecare worker on queue {queue.ctx.settings.jobs.job_queue!r} ({count} process"
        f"{'es' if count > 1 else ''})",
        err=True,
    )
    if queue.ctx.settings.public_url is None:
        typer.echo(
            f"needlecare worker: NEEDLECARE_PUBLIC_URL is unset, links in mails use "
            f"{queue.ctx.settings.base_url}; set it to the address people open",
            err=True,
        )
    while not stop.wait(1.0):
        if children and all(child.poll() is not None for child in children):
            break
    if scheduler_stop is not None:
        scheduler_stop.set()
    if maintenance_stop is not None:
        maintenance_stop.set()
    if worker is not None:
        worker.stop()
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(60)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


@jobs_app.command("dead")
def dead() -> None:
    """List dead-lettered messages and the mails/photos they left failed, one JSON object a line."""
    from needlecare.jobs.dead import dead_messages, failed_rows

    queue = open_queue(need_broker=False)
    for item in [{"kind": "message", **m} for m in dead_messages(queue)] + failed_rows(queue):
        typer.echo(json.dumps(item))


@jobs_app.command("tick")
def tick() -> None:
    """Run one scheduler pass now: record due reminders and enqueue them; prints how many jobs it enqueued."""
    from needlecare.jobs.scheduler import tick as run_tick

    typer.echo(str(run_tick(open_queue(need_broker=False))))


def register(app: typer.Typer) -> None:
    """Add ``worker`` and ``jobs`` to *app*."""
    app.command("worker")(worker)
    app.add_typer(jobs_app, name="jobs")
