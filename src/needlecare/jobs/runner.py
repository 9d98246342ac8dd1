"""Jobs of a process without a broker, run after the request that enqueued them has been answered.

``needlecare serve`` without ``NEEDLECARE_BROKER_URL`` measures photos in a pool of worker processes
(``worker_processes`` of them, the machine's cores by default), each with its own MediaPipe graphs and
database connections and at a lower scheduling priority, so an analysis never holds the web process's
interpreter lock nor takes a core from a page view; mails go out from one background thread of the web
process (sending is waiting on a server, not computing). A job failed here leaves its row as it was (a photo
``pending``, a mail ``retrying``) for the scheduler's sweep, exactly as a job run in the request would.

Commands that must have finished their jobs before they exit (``needlecare newsletter send``) run the jobs in
the caller instead, and so does the web app with ``job_runner = "inline"`` (the tests).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from needlecare.jobs.context import ClinicAlerts, JobContext
from needlecare.jobs.errors import PermanentJobError
from needlecare.settings import MailSettings, Settings

logger = logging.getLogger(__name__)

#: Scheduling priority the worker processes lower themselves by (``nice``): a page view that needs a core
#: gets it before an analysis, which only waits a little longer for its result.
WORKER_NICENESS = 10
#: A worker process is replaced after this many photos, so memory a long run fragments is given back.
PHOTOS_PER_PROCESS = 200

Task = Callable[[JobContext, int], str]
GiveUpFn = Callable[[JobContext, int, str], None]

_process_ctx: JobContext | None = None


def lower_priority(niceness: int = WORKER_NICENESS) -> int:
    """Run this process at *niceness* or lower priority (``nice``; a process already nicer keeps its own, so
    processes started by a lowered one are not lowered twice); returns the niceness now."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    return os.nice(max(0, niceness - current))


def _start_process(settings: Settings, mail: MailSettings, clinic_alerts: ClinicAlerts) -> None:
    """Initialise one worker process: its own job context and MediaPipe graphs (built before any photo)."""
    global _process_ctx
    from needlecare.imaging import parallel
    from needlecare.imaging.face import warm_up

    lower_priority()
    parallel.set_threads(1)  # one process per core already
    _process_ctx = JobContext.build(settings, None, mail, clinic_alerts=clinic_alerts)
    warm_up()


def run_task(task: Task, give_up: GiveUpFn, row_id: int, ctx: JobContext | None = None) -> str:
    """Run *task* on *row_id* with *ctx* (in a worker process: the process's context).

    A :class:`~needlecare.jobs.errors.PermanentJobError` is recorded on the row with *give_up*; any other
    failure is logged and the row left for the scheduler's sweep.

    Returns
    -------
    str
        The task's result, ``"given up"`` or ``"failed"``.
    """
    context = ctx or _process_ctx
    if context is None:
        raise RuntimeError("run_task() outside a job worker process needs a context")
    try:
        return task(context, row_id)
    except PermanentJobError as exc:
        give_up(context, row_id, str(exc))
        return "given up"
    except Exception:
        logger.exception("background job %s(%d) failed; it will be retried", task.__name__, row_id)
        return "failed"


class BackgroundRunner:
    """Photo analyses in worker processes and mails in a thread, started on first use.

    Parameters
    ----------
    ctx
        The web process's job context (the mail thread uses it; the worker processes build their own from
        its settings, mail settings and clinic alerts).
    """

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self._lock = threading.Lock()
        self._processes: ProcessPoolExecutor | None = None
        self._thread: ThreadPoolExecutor | None = None

    def processes(self) -> ProcessPoolExecutor:
        """The worker-process pool (created, not yet started, on first call)."""
        with self._lock:
            if self._processes is None:
                self._processes = ProcessPoolExecutor(
                    max_workers=self.ctx.settings.jobs.worker_processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_process,
                    initargs=(self.ctx.settings, self.ctx.mailer.settings, self.ctx.clinic_alerts),
                    max_tasks_per_child=PHOTOS_PER_PROCESS,
                )
            return self._processes

    def thread(self) -> ThreadPoolExecutor:
        """The mail thread (created on first call)."""
        with self._lock:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="needlecare-mail")
            return self._thread

    def start(self) -> None:
        """Start every worker process now (MediaPipe loaded), so the first photo does not wait for them."""
        pool = self.processes()
        started = [pool.submit(_ready) for _ in range(self.ctx.settings.jobs.worker_processes)]
        for future in started:
            future.result()

    def submit(self, task: Task, give_up: GiveUpFn, row_id: int, *, in_process: bool) -> Future[str]:
        """Run *task* on *row_id* in a worker process (*in_process* false) or in the mail thread."""
        if in_process:
            future = self.thread().submit(run_task, task, give_up, row_id, self.ctx)
        else:
            try:
                future = self.processes().submit(run_task, task, give_up, row_id)
            except BrokenProcessPool:  # a worker process died: the pool is replaced
                with self._lock:
                    self._processes = None
                future = self.processes().submit(run_task, task, give_up, row_id)
        future.add_done_callback(_log_crash)
        return future

    def shutdown(self) -> None:
        """Stop: photos being measured are finished, photos still waiting are left ``pending`` (the next start
        measures them, :func:`needlecare.jobs.recovery.recover_in_process`), mails handed over are sent."""
        with self._lock:
            processes, thread = self._processes, self._thread
            self._processes = self._thread = None
        if processes is not None:
            processes.shutdown(wait=True, cancel_futures=True)
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=False)


def _ready() -> bool:
    return _process_ctx is not None


def _log_crash(future: Future[str]) -> None:
    """Log a job whose worker process died (the row stays for the scheduler's sweep)."""
    error = future.exception()
    if error is not None:
        logger.error("background job lost: %s", error)
