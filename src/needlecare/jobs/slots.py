"""A per-process cap on photo decodes and analyses running at once (memory stays bounded).

Decoding a phone photo and measuring it take a few hundred MB at their peak; however many uploads, checks and
analysis jobs arrive together, at most ``photo_concurrency`` of them hold that memory in one process, and the
others wait for a slot. A thread that already holds a slot may enter again (an upload's check measures inside
its decode's slot).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Default number of photo decodes/analyses one process runs at once.
DEFAULT_PHOTO_CONCURRENCY = 2

_lock = threading.Lock()
_slots = threading.BoundedSemaphore(DEFAULT_PHOTO_CONCURRENCY)
_size = DEFAULT_PHOTO_CONCURRENCY
_held = threading.local()


def set_photo_concurrency(n: int) -> None:
    """Allow *n* photo decodes/analyses at once in this process (callers already inside keep their slot)."""
    global _slots, _size
    if n < 1:
        raise ValueError(f"photo concurrency must be at least 1, got {n}")
    with _lock:
        if n != _size:
            _slots, _size = threading.BoundedSemaphore(n), n


def photo_concurrency() -> int:
    """The number of slots now configured."""
    return _size


@contextmanager
def photo_slot() -> Iterator[None]:
    """Hold one of the process's photo slots for the ``with`` block (waits for a free one).

    Examples
    --------
    >>> with photo_slot():
    ...     with photo_slot():  # the same thread enters again without a second slot
    ...         pass
    """
    depth: int = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    slots = _slots
    with slots:
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
