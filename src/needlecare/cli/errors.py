"""One-line failures for the command line: ``Error: <message>`` on stderr and exit status 2, never a traceback
or a multi-line usage box."""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn

import typer
from typer.core import TyperCommand


def fail(message: str, prefix: str = "Error: ") -> NoReturn:
    """Print *prefix* + *message* as one line on stderr and exit with status 2."""
    typer.echo(prefix + " ".join(message.split()), err=True)
    raise typer.Exit(2)


class OneLineErrors(TyperCommand):
    """A command whose usage errors (missing option, bad number) are one stderr line and exit status 2."""

    prefix: ClassVar[str] = "Error: "

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except Exception as exc:
            # Typer's (vendored) click UsageError: exit code 2 and a one-line format_message().
            if getattr(exc, "exit_code", None) == 2 and hasattr(exc, "format_message"):
                fail(exc.format_message(), self.prefix)
            raise


class OneLineLowerErrors(OneLineErrors):
    """:class:`OneLineErrors` with the ``error: `` prefix of ``ingredients`` and ``analyze``."""

    prefix: ClassVar[str] = "error: "
