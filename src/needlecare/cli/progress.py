"""The command line's progress bar: Rich on stderr, only when stderr is a terminal.

Every long-running command (``analyze``, ``newsletter send``) shows its progress the same way: a transient bar
(description, bar, ``done/total``, percentage, time left) on stderr, so stdout stays clean for the results and
for pipes (what the command prints on stdout meanwhile is moved above the bar only when stdout is the same
terminal). Nothing is drawn when stderr is not a terminal (a file, a pipe, cron's mail), even if Rich would be
forced to colour by the environment, nor for a single item.
"""

from __future__ import annotations

import os
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


def _stdout_on_the_bar_terminal() -> bool:
    """Whether stdout is the terminal stderr is (the bar's screen), not a file, a pipe or another terminal."""
    try:
        out, err = sys.stdout.fileno(), sys.stderr.fileno()
        return os.isatty(out) and os.ttyname(out) == os.ttyname(err)
    except (OSError, ValueError):  # no file descriptor (io.UnsupportedOperation is a ValueError too)
        return False


def _ignore(_steps: int) -> None:
    return None


@contextmanager
def progress(label: str, total: int) -> Iterator[Advance]:
    """A transient bar on stderr while the block runs, when :func:`shown`.

    Parameters
    ----------
    label
        Description shown left of the bar, e.g. ``"sending"``.
    total
        Number of steps (>= 0); the bar shows ``done/total``.

    Yields
    ------
    Advance
        ``advance(n)`` moves the bar *n* steps on (does nothing when no bar is drawn). The bar is erased when
        the block ends, so the command's summary line follows the output before it.
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
    # What the command prints on stdout meanwhile passes above the bar only when stdout is that same screen:
    # Rich would otherwise send it to stderr, and `needlecare analyze --json a.jpg b.jpg > out.json` would
    # leave out.json empty.
    redirect = _stdout_on_the_bar_terminal()
    with Progress(*columns, console=Console(stderr=True), transient=True, redirect_stdout=redirect) as bar:
        task = bar.add_task(label, total=total)

        def advance(steps: int) -> None:
            bar.advance(task, steps)

        yield advance


def track(items: Sequence[T], label: str) -> Iterator[T]:
    """*items* one by one, with a :func:`progress` bar labelled *label* advanced after each.

    Parameters
    ----------
    items
        What to go through (its length is the bar's total).
    label
        Description shown left of the bar.

    Yields
    ------
    T
        Each item, in order.
    """
    with progress(label, len(items)) as advance:
        for item in items:
            yield item
            advance(1)
