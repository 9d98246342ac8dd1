"""The command line's progress bar: Rich on stderr, only when stderr is a terminal.

Every long-running command (``analyze``, ``newsletter send``) shows its progress the same way: a transient bar
(description, bar, ``done/total``, percentage, time left) on stderr, so stdout stays clean for the results and
for pipes. Nothing is drawn when stderr is not a terminal (a file, a pipe, cron's mail), even if Rich would be
forced to colour by the environment, nor for a single item.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

T = TypeVar("T")

#: Advance the bar by this many steps (``advance(1)``).
Advance = Callable[[int], None]


def shown(total: int) -> bool:
    """Whether a bar is drawn for *total* steps: stderr is a terminal and there is more than one step."""
    return total >= 2 and sys.stderr.isatty()


def _ignore(_steps: int) -> None:
    return None


@contextmanager
def progress(label: str, total: int) -> Iterator[Advance]:
    """A bar labelled *label* over *total* steps while the block runs; yields the function that advances it.

    The bar is transient (erased when the block ends, so the command's summary line follows the output
    before it) and drawn only when :func:`shown`; otherwise ``advance`` does nothing.
    """
    if not shown(total):
        yield _ignore
        return
    columns = (
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=total)

        def advance(steps: int) -> None:
            bar.advance(task, steps)

        yield advance


def track(items: Sequence[T], label: str) -> Iterator[T]:
    """*items* one by one, with a :func:`progress` bar advanced after each."""
    with progress(label, len(items)) as advance:
        for item in items:
            yield item
            advance(1)
