"""The application's job queue: ``enqueue(ANALYSE_PHOTO, photo_id)`` from the web app or the scheduler.

:class:`JobQueue` declares one Dramatiq actor per task on its own broker (so several queues, e.g. one per
test, can live in one process) or, without a broker, runs each task in this process: in the background
(worker processes for photos, a thread for mail) or, for commands and tests, in the enqueuing call.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable
from typing import Any, Final, Literal

import dramatiq

from needlecare.jobs import mail, photos
from needlecare.jobs.broker import make_broker
from needlecare.jobs.context import JobContext
from needlecare.jobs.errors import PermanentJobError
from needlecare.jobs.runner import BackgroundRunner, GiveUpFn, Task

logger = logging.getLogger(__name__)

EnqueuedFn = Callable[[JobContext, int, dt.datetime], None]

#: The name of every task (the Dramatiq actor name, kept in queued messages: a rename strands them).
JobName = Literal["analyse_photo", "send_mail"]
#: Measure a photo and draw its heatmap (:func:`needlecare.jobs.photos.analyse_photo`).
ANALYSE_PHOTO: Final = "analyse_photo"
#: Send one recorded mail delivery (:func:`needlecare.jobs.mail.send_delivery`).
SEND_MAIL: Final = "send_mail"

#: Tasks that, without a broker, run in worker processes rather than a thread of the enqueuing process.
IN_WORKER_PROCESSES: frozenset[JobName] = frozenset({ANALYSE_PHOTO})
#: Every task by actor name: what it does, and what marks its row failed when it is given up.
TASKS: dict[JobName, tuple[Task, GiveUpFn]] = {
    ANALYSE_PHOTO: (photos.analyse_photo, photos.give_up),
    SEND_MAIL: (mail.send_delivery, mail.give_up),
}

#: Tasks whose row records when the task was last handed to the queue (the scheduler's stall check reads it).
ON_ENQUEUED: dict[JobName, EnqueuedFn] = {ANALYSE_PHOTO: photos.mark_enqueued}


def give_up(ctx: JobContext, name: str, args: tuple[Any, ...], error: str) -> None:
    """Record that task *name* on row ``args[0]`` was given up (the broker's ``GiveUp`` middleware hook)."""
    if name in TASKS and args and isinstance(args[0], int):
        TASKS[name][1](ctx, args[0], error)


class JobQueue:
    """Tasks of one process, on a Dramatiq broker or in-process.

    Parameters
    ----------
    ctx
        What the tasks need (database, photo store, mailer).
    broker
        A Dramatiq broker whose middleware includes :class:`~needlecare.jobs.broker.GiveUp` bound to
        :func:`give_up`; ``None`` runs the tasks in this process.
    background
        Without a broker: run the tasks after the enqueuing call has returned, in worker processes and a mail
        thread (:class:`~needlecare.jobs.runner.BackgroundRunner`), rather than in the enqueuing call itself
        (commands that must finish their jobs before they exit).
    """

    def __init__(
        self, ctx: JobContext, broker: dramatiq.Broker | None = None, *, background: bool = False
    ) -> None:
        self.ctx = ctx
        self.broker = broker
        self.actors: dict[str, dramatiq.Actor[[int], str]] = {}
        self.background = BackgroundRunner(ctx) if broker is None and background else None
        if broker is not None:
            for name, (task, _) in TASKS.items():
                self.actors[name] = dramatiq.Actor(
                    functools.partial(task, ctx),
                    broker=broker,
                    actor_name=name,
                    queue_name=ctx.settings.jobs.job_queue,
                    priority=0,
                    options={"throws": (PermanentJobError,)},
                )

    @classmethod
    def from_settings(cls, ctx: JobContext, *, background: bool = False) -> JobQueue:
        """The queue for ``ctx.settings.jobs.broker_url`` (in-process when unset; see *background* of
        :class:`JobQueue`)."""
        broker = make_broker(ctx.settings, functools.partial(give_up, ctx))
        return cls(ctx, broker, background=background)

    def close(self) -> None:
        """Finish the jobs handed to the background runner and stop its processes (if there is one)."""
        if self.background is not None:
            self.background.shutdown()

    @property
    def in_process(self) -> bool:
        """Whether tasks run in-process (no broker)."""
        return self.broker is None

    def enqueue(self, name: JobName, row_id: int, now: dt.datetime | None = None) -> bool:
        """Run task *name* on row *row_id*: send a message, or run it now when in-process.

        Failures are logged, not raised, so the caller's request still succeeds: the row keeps its state
        (a photo ``pending``, a mail ``queued``/``retrying``, or ``failed``/``dead`` for a permanent error)
        and the scheduler's sweep enqueues stalled mail and photos again. A photo's
        ``analysis_enqueued_at`` is set to *now* (default: the current time) once its message is sent (in
        process: before the task runs); a message that could not be sent leaves it as it was. Returns whether
        the message was sent (or, in process, the task succeeded).
        """
        if name not in TASKS:
            raise KeyError(f"unknown task {name!r}")
        now = now or dt.datetime.now(dt.UTC)
        if self.broker is not None:
            try:
                self.actors[name].send(row_id)
            except Exception:  # broker unreachable: the row stays as it is
                logger.exception("could not enqueue %s(%d)", name, row_id)
                return False
            self._mark_enqueued(name, row_id, now)
            return True
        self._mark_enqueued(name, row_id, now)
        task, give_up = TASKS[name]
        if self.background is not None:
            self.background.submit(task, give_up, row_id, in_process=name not in IN_WORKER_PROCESSES)
            return True
        try:
            task(self.ctx, row_id)
        except PermanentJobError as exc:
            give_up(self.ctx, row_id, str(exc))
            return False
        except Exception:
            logger.exception("in-process job %s(%d) failed; it will be retried", name, row_id)
            return False
        return True

    def _mark_enqueued(self, name: JobName, row_id: int, now: dt.datetime) -> None:
        """Record the hand-over of *name* on *row_id* (logged, never raised: the message is already out)."""
        mark = ON_ENQUEUED.get(name)
        if mark is None:
            return
        try:
            mark(self.ctx, row_id, now)
        except Exception:  # the scheduler finds the row unmarked and enqueues it again (idempotent)
            logger.exception("could not record the enqueue of %s(%d)", name, row_id)

    def worker(self, threads: int | None = None) -> dramatiq.Worker:
        """A Dramatiq worker consuming this queue (not started)."""
        if self.broker is None:
            raise RuntimeError("in-process jobs need no worker (set NEEDLECARE_BROKER_URL to use one)")
        return dramatiq.Worker(self.broker, worker_threads=threads or self.ctx.settings.jobs.worker_threads)
