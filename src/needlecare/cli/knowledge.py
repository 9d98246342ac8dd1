"""CLI sub-commands ``expect``, ``plan`` and ``triage``: thin wrappers over :mod:`needlecare.knowledge`.

All three (and ``ingredients``) take the same treatment options (:mod:`needlecare.cli.treatment_options`).
Each prints a Rich table by default and the JSON contract with ``--json``. Invalid input (including usage
errors such as a missing option) prints one line to stderr and exits with status 2, never a traceback.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from needlecare.cli.errors import OneLineErrors, fail
from needlecare.cli.treatment_options import GIVEN, TreatmentOptions, with_treatment_options
from needlecare.knowledge.common import DISCLAIMER, InvalidInputError, Reason
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.plan import aftercare_plan, to_ics
from needlecare.knowledge.triage import MAX_DAY, SYMPTOMS, triage


def _console() -> Console:
    return Console(soft_wrap=False)


def _print_json(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _reasons_table(reasons: tuple[Reason, ...], title: str = "Why") -> Table:
    table = Table(title=title, show_lines=True)
    table.add_column("Reason", overflow="fold")
    table.add_column("Sources", overflow="fold")
    for reason in reasons:
        table.add_row(reason.text, "\n".join(reason.sources) or "no published data")
    return table


def _days(value: float, hours: bool = False) -> str:
    return f"{value * 24:g} h" if hours else f"{value:g} d"


def _window(low: float, high: float) -> str:
    """``"0.5 h to 24 h"`` for windows within a day, else ``"1 d to 3 d"``."""
    hours = high <= 1
    return f"{_days(low, hours)} to {_days(high, hours)}"


JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@with_treatment_options
def expect_command(
    treatment: TreatmentOptions = GIVEN,
    as_json: JsonOpt = False,
) -> None:
    """Expected redness window after a treatment, with the reasons and sources."""
    params = treatment.params()
    course = expected_course(params)
    if as_json:
        _print_json(course.to_dict())
        return
    low, high = course.typical_days
    console = _console()
    summary = Table(title=f"Expected redness: {params.describe()}")
    summary.add_column("Typical window")
    summary.add_column("Outside the expected course after")
    summary.add_row(_window(low, high), _days(course.outside_expected_after_days))
    console.print(summary)
    console.print(_reasons_table(course.reasons))
    console.print(DISCLAIMER)


@with_treatment_options
def plan_command(
    treated: Annotated[str, typer.Option("--treated", help="Treatment date, YYYY-MM-DD.")],
    treatment: TreatmentOptions = GIVEN,
    tz: Annotated[
        str, typer.Option("--tz", help="IANA time zone for reminders, e.g. Europe/Berlin.")
    ] = "UTC",
    ics: Annotated[Path | None, typer.Option("--ics", help="Also write an iCalendar file here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Day-by-day aftercare plan (day 0-14), optionally as an iCalendar file with reminders."""
    try:
        day0 = date.fromisoformat(treated)
    except ValueError:
        fail(f"treatment date must be YYYY-MM-DD, got {treated!r}")
    params = treatment.params()
    try:
        plan = aftercare_plan(day0, params, tz=tz)
        if ics is not None:
            ics.write_bytes(to_ics(plan))
    except InvalidInputError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"cannot write {str(ics)!r}: {exc.strerror or exc}")
    if as_json:
        _print_json(plan.to_dict())
        return
    console = _console()
    table = Table(
        title=f"Aftercare plan from {day0.isoformat()}: {params.describe()} ({plan.column} waits)",
        show_lines=True,
    )
    for column in ("Day", "Date", "Do", "Avoid", "Redness"):
        table.add_column(column, overflow="fold")
    for d in plan.days:
        avoid = [*d.avoid, *(f"Caution: {c}" for c in d.caution)]
        table.add_row(str(d.day), d.date.isoformat(), "\n".join(d.do), "\n".join(avoid), d.expect)
    console.print(table)
    console.print(_reasons_table(plan.reasons))
    if ics is not None:
        console.print(f"Calendar with {len(plan.milestones)} reminders written to {ics}")
    console.print(DISCLAIMER)


@with_treatment_options
def triage_command(
    day: Annotated[
        int | None, typer.Option("--day", help="Days since treatment (0 = treatment day).")
    ] = None,
    symptom: Annotated[
        list[str] | None, typer.Option("--symptom", help="A symptom id (repeatable); see --list-symptoms.")
    ] = None,
    redness: Annotated[
        int | None,
        typer.Option("--redness", help="Redness 0-4: 0 clear, 1 almost clear, 2 mild, 3 moderate, 4 severe."),
    ] = None,
    list_symptoms: Annotated[
        bool, typer.Option("--list-symptoms", help="List the symptom ids and exit.")
    ] = False,
    treatment: TreatmentOptions = GIVEN,
    as_json: JsonOpt = False,
) -> None:
    """How urgent symptoms are on a given day after treatment, with reasons and sources.

    The redness thresholds follow the treatment's expected course (the same as ``expect``).
    """
    if list_symptoms:
        if as_json:
            _print_json({"symptoms": SYMPTOMS})
            return
        table = Table(title="Symptoms")
        table.add_column("--symptom")
        table.add_column("Meaning", overflow="fold")
        for key, text in SYMPTOMS.items():
            table.add_row(key, text)
        _console().print(table)
        return
    if day is None:
        fail(f"missing option '--day' (days since treatment, 0 to {MAX_DAY})")
    params = treatment.params()
    try:
        result = triage(day, symptom or [], redness=redness, treatment=params)
    except InvalidInputError as exc:
        fail(str(exc))
    if as_json:
        _print_json(result.to_dict())
        return
    console = _console()
    console.print(f"Urgency on day {day} after {params.describe()}: [bold]{result.urgency}[/bold]")
    console.print(_reasons_table(result.reasons))
    console.print(DISCLAIMER)


def register(app: typer.Typer) -> None:
    """Add ``expect``, ``plan`` and ``triage`` to *app*."""
    app.command("expect", cls=OneLineErrors)(expect_command)
    app.command("plan", cls=OneLineErrors)(plan_command)
    app.command("triage", cls=OneLineErrors)(triage_command)
