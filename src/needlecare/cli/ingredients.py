"""CLI sub-command ``needlecare ingredients``: check an INCI list for day N after microneedling.

``needlecare ingredients [--day N] [treatment options] [--json] (TEXT | --file F | -)`` prints a Rich table by
default and the contract JSON with ``--json``. The treatment options are those of ``expect``, ``plan`` and
``triage``; without them the cautious side of every wait applies. Invalid input (no text, a day outside
0-3650, text that is not UTF-8, an unreadable file, a usage error) prints one line on stderr and exits with
status 2. Output never fails on a terminal or pipe that cannot show every character.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from needlecare.cli.errors import OneLineLowerErrors
from needlecare.cli.errors import fail as _fail_with
from needlecare.cli.treatment_options import GIVEN, TreatmentOptions, with_treatment_options
from needlecare.knowledge.ingredients import (
    MAX_DAY,
    IngredientInputError,
    IngredientReport,
    check_ingredients,
)

_VERDICT_STYLE = {
    "avoid": "bold red",
    "caution": "yellow",
    "unknown": "magenta",
    "ok": "green",
    "soothing": "cyan",
}


_NOT_UTF8 = "is not UTF-8 text; save it as UTF-8 (needlecare does not guess encodings)"


def _fail(message: str) -> NoReturn:
    _fail_with(message, "error: ")


def _parse_day(value: str) -> int:
    text = value.strip()
    if not text.lstrip("-").isdigit() or len(text) > 12:
        _fail(f"--day must be a whole number of days after treatment (0 = treatment day), got {value!r}")
    day = int(text)
    if day < 0:
        _fail(f"--day must be 0 (treatment day) or later, got {day}")
    if day > MAX_DAY:
        _fail(f"--day must be at most {MAX_DAY} (ten years), got {day}")
    return day


def _strict_utf8(text: str, what: str) -> str:
    """*text* if it came from valid UTF-8; bytes that were not (kept as surrogates by Python) are refused."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        _fail(f"{what} {_NOT_UTF8}")
    return text


def _read_text(text: str | None, file: Path | None) -> str:
    if text is not None and file is not None:
        _fail("give the ingredient list either as TEXT or with --file, not both")
    if file is not None:
        try:
            return file.read_text(encoding="utf-8")
        except FileNotFoundError:
            _fail(f"file not found: {file}")
        except IsADirectoryError:
            _fail(f"not a file: {file}")
        except UnicodeDecodeError:
            _fail(f"file is not UTF-8 text: {file}; save it as UTF-8 (needlecare does not guess encodings)")
        except OSError as exc:
            _fail(f"cannot read {file}: {exc.strerror or exc}")
    if text == "-":
        try:
            return sys.stdin.buffer.read().decode("utf-8")
        except UnicodeDecodeError:
            _fail(f"standard input {_NOT_UTF8}")
        except AttributeError:  # a text-only stream (tests, embedding): already decoded
            return _strict_utf8(sys.stdin.read(), "standard input")
    if text is None:
        _fail("no ingredient list given: pass TEXT, --file F, or - to read standard input")
    return _strict_utf8(text, "the ingredient list")


def _render(report: IngredientReport, console: Console) -> None:
    table = Table(title=f"Ingredients on day {report.day} after microneedling", show_lines=False)
    table.add_column("#", justify="right")
    table.add_column("Ingredient (as written)")
    table.add_column("Group")
    table.add_column("Verdict")
    table.add_column("Until day", justify="right")
    table.add_column("Why (full reasons with --json)")
    for index, item in enumerate(report.ingredients, start=1):
        style = _VERDICT_STYLE.get(item.verdict, "")
        until = item.avoid_until_day if item.avoid_until_day is not None else item.caution_until_day
        name = escape(item.name) + (" (may contain)" if item.may_contain else "")
        if item.inci is not None and item.inci.casefold() not in item.name.casefold():
            name += f"\n= {escape(item.inci)}"
        table.add_row(
            str(index),
            name,
            item.group,
            f"[{style}]{item.verdict}[/{style}]" if style else item.verdict,
            "" if until is None else str(until),
            escape(item.headline or item.reason),
        )
    console.print(table)
    treatment = report.to_dict()["treatment"]
    console.print(escape(f"Waits for: {treatment['description']} ({treatment['column']} waits)."))
    summary = report.summary()
    line = f"Strictest verdict: {summary['verdict']}"
    if summary["avoid_until_day"] is not None:
        line += f"; everything on this label may be used from day {summary['avoid_until_day']}"
    console.print(escape(line) + ".")
    for note in report.notes:
        console.print(f"[bold]Note:[/bold] {escape(note['text'])}")
    sources = dict.fromkeys(source for item in report.ingredients for source in item.sources)
    sources.update(dict.fromkeys(source for note in report.notes for source in note["sources"]))
    console.print("[bold]Sources:[/bold]")
    for source in sources:
        console.print(f"  - {escape(source)}")
    console.print(f"[dim]{escape(report.inventory_source)}[/dim]")
    console.print(f"[italic]{escape(report.disclaimer)}[/italic]")


@with_treatment_options
def ingredients(
    text: Annotated[
        str | None,
        typer.Argument(help="The INCI list, or - to read it from standard input.", show_default=False),
    ] = None,
    day: Annotated[str, typer.Option("--day", help="Days since treatment (0 = treatment day).")] = "0",
    file: Annotated[
        Path | None, typer.Option("--file", help="Read the INCI list from this UTF-8 text file.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the contract JSON instead of a table.")
    ] = False,
    treatment: TreatmentOptions = GIVEN,
) -> None:
    """Check an INCI ingredient list: which ingredients to avoid until which day after microneedling."""
    day_number = _parse_day(day)
    params = treatment.params("error: ")
    label = _read_text(text, file)
    if not label.strip():
        _fail("the ingredient list is empty")
    try:
        report = check_ingredients(label, day_number, treatment=params)
    except IngredientInputError as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=not _stdout_is_utf8(), indent=2))
    else:
        _render(report, Console())


def _stdout_is_utf8() -> bool:
    """Whether standard output can carry any character (else JSON escapes non-ASCII as \\uXXXX)."""
    encoding = getattr(sys.stdout, "encoding", None) or "ascii"
    return encoding.lower().replace("-", "").replace("_", "") in {"utf8", "utf8sig"}


def register(app: typer.Typer) -> None:
    """Add ``ingredients`` to *app*."""
    app.command("ingredients", cls=OneLineLowerErrors)(ingredients)
