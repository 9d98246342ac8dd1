"""A helper thread for the independent steps of measuring one photo.

Measuring a photo runs several models and filters that do not depend on each other: the two face detectors,
the face mesh on two or more crops, and the colour-chart screen. MediaPipe's graphs and OpenCV release the
interpreter while they work, so on a second core these steps overlap and one photo is measured sooner. A
process that measures several photos at once (a batch worker or a job worker, one per core) already keeps
every core busy; it calls :func:`set_threads` with 1 and runs every step in the calling thread, and a caller
asked to use one core (``needlecare analyze --jobs 1``) measures inside :func:`at_most` 1.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["MAX_THREADS", "at_most", "beside", "process_threads", "set_threads", "threads"]

T = TypeVar("T")

#: Threads one photo is measured on at most: the calling thread and one helper.
MAX_THREADS = 2

_process_threads: int | None = None
_local = threading.local()
_helper: ThreadPoolExecutor | None = None
_helper_lock = threading.Lock()


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def set_threads(count: int) -> None:
    """Measure each photo on at most *count* threads (1 or 2) in this process from now on."""
    global _process_threads
    _process_threads = max(1, min(MAX_THREADS, count))


def process_threads() -> int:
    """The threads a photo may use in this process: :func:`set_threads`, else 2 on a machine with two or
    more cores."""
    return _process_threads if _process_threads is not None else min(MAX_THREADS, _cores())


@contextlib.contextmanager
def at_most(count: int) -> Iterator[None]:
    """Within the block, photos measured by this thread use at most *count* threads."""
    previous = getattr(_local, "limit", None)
    _local.limit = max(1, count)
    try:
        yield
    finally:
        _local.limit = previous


def threads() -> int:
    """How many threads a photo measured by this thread uses now: 1 or :data:`MAX_THREADS`."""
    limit = getattr(_local, "limit", None)
    count = process_threads()
    return count if limit is None else min(count, limit)


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
        except BaseException as error:  # handed to the caller by .result(), like the helper's errors
            future.set_exception(error)
        return future
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(max_workers=MAX_THREADS - 1, thread_name_prefix="needlecare-photo")
        return _helper.submit(func, *args, **kwargs)
