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
        """Print *record* on one line: the exception as type and message, whitespace collapsed."""
        try:
            line = f"needlecare: {record.getMessage()}"
            if record.exc_info and record.exc_info[1] is not None:
                exc = record.exc_info[1]
                reason = " ".join("".join(traceback.format_exception_only(type(exc), exc)).split())
                line += f" ({reason})"
            sys.stderr.write(line + "\n")  # not click.echo: it bypasses a progress bar's redirection
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


@contextmanager
def one_line_logs() -> Iterator[None]:
    """While the block runs, the ``needlecare`` loggers' warnings and errors go to :class:`OneLineHandler`.

    Yields
    ------
    None
        Inside the block the records are not passed on to the root logger (nor to Python's last-resort
        handler); afterwards logging is as it was.
    """
    logger = logging.getLogger("needlecare")
    handler = OneLineHandler(logging.WARNING)
    saved = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.propagate = saved
        logger.removeHandler(handler)
