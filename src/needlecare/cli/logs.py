"""Log records of the application's code, as a command prints them: one ``needlecare:`` line, no traceback.

A command that runs jobs in-process (``newsletter send`` without a broker) would otherwise print the job's
failures through Python's last-resort handler: a full traceback per failed mail, between the command's own
lines and through its progress bar.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager


class OneLineHandler(logging.Handler):
    """Writes each record to stderr as ``needlecare: <message> (<exception type>: <reason>)``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = f"needlecare: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                reason = traceback.format_exception_only(type(exc), exc)[-1].strip()
                line += f" ({' '.join(reason.split())})"
            sys.stderr.write(line + "\n")  # not click.echo: it bypasses a progress bar's redirection
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


@contextmanager
def one_line_logs(name: str = "needlecare", level: int = logging.WARNING) -> Iterator[None]:
    """While the block runs, records of logger *name* (and its children) at *level* and above are printed by
    :class:`OneLineHandler` only (not passed on to the root logger's handlers)."""
    logger = logging.getLogger(name)
    handler = OneLineHandler(level)
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = saved
        logger.removeHandler(handler)
