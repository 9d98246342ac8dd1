"""A helper thread for the independent steps of measuring one photo.

Measuring a photo runs several models and filters that do not depend on each other: the two face detectors,
the face mesh on two or more crops, and the colour-chart screen. MediaPipe's graphs and OpenCV release the
interpreter while they work, so on a second core these steps overlap and one photo is measured sooner. A
process that measures several photos at once (a batch worker or a job worker, one per core), or that was asked
to use one core (``needlecare analyze --jobs 1``), calls :func:`set_threads` with 1 and runs every step in the
calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from needlecare.machine import cpu_cores

__all__ = ["MAX_THREADS", "beside", "set_threads", "threads"]

T = TypeVar("T")

#: Threads one photo is measured on at most: the calling thread and one helper.
MAX_THREADS = 2

_threads: int | None = None
_helper: ThreadPoolExecutor | None = None
_helper_lock = threading.Lock()


def set_threads(count: int) -> None:
    """Measure each photo on at most *count* threads (1 or 2) in this process from now on."""
    global _threads
    _threads = max(1, min(MAX_THREADS, count))


def threads() -> int:
    """The threads a photo is measured on in this process: :func:`set_threads`, else 2 on a machine with two
    or more cores."""
    return _threads if _threads is not None else min(MAX_THREADS, cpu_cores())


def beside(func: Callable[..., T], *args: object, **kwargs: object) -> Future[T]:
    """``func(*args, **kwargs)`` started on the helper thread, to be collected with ``.result()``.

    When this process measures on one thread (:func:`threads`), *func* runs here and now, and the future is
    already done. Only leaf steps may be handed over: *func* must not wait for another :func:`beside` step.
    """
    global _helper
    if threads() == 1:
        future: Future[T] = Future()
        try:
            future.set_result(func(*args, **kwargs))
        except Exception as error:  # handed to the caller by .result(), like the helper's errors
            future.set_exception(error)
        return future
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(max_workers=MAX_THREADS - 1, thread_name_prefix="needlecare-photo")
        return _helper.submit(func, *args, **kwargs)
