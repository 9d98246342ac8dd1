"""The ``needlecare`` command line: one Typer app; each sub-command lives in its own module."""

from __future__ import annotations

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


def main() -> None:
    """Console-script entry point."""
    app()
