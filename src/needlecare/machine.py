"""Facts about the machine this process runs on, for every layer (imports nothing of the package)."""

from __future__ import annotations

import os


def cpu_cores() -> int:
    """The number of CPU cores this process may run on (at least 1)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
