"""The ``needlecare`` command line: one Typer app; each sub-command lives in its own module."""

from __future__ import annotations

import sys

import typer

from needlecare.cli import analyze, ingredients, jobs, knowledge, newsletter, web

app = typer.Typer(
    name="needlecare",
    help="Redness measurement and aftercare after microneedling. Decision support, not a diagnosis.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (analyze, knowledge, ingredients, web, jobs, newsletter):
    module.register(app)


def _safe_streams() -> None:
    """Let stdout and stderr replace what their encoding cannot show instead of raising (a Latin-1 or ASCII
    locale must not turn a table into a traceback)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and (stream.encoding or "").lower().replace("-", "") != "utf8":
            reconfigure(errors="replace")


def main() -> None:
    """Console-script entry point."""
    _safe_streams()
    app()
