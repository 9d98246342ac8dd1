"""``needlecare analyze``: measure redness in photos.

``needlecare analyze [--json] [--baseline PHOTO] [--heatmap-dir DIR] [--jobs N] PHOTO...`` — with ``--json``
stdout holds exactly one JSON object per input photo, in input order; exit status 1 when any photo failed, 2
on usage errors; never a traceback. ``--jobs`` measures the photos in that many processes (default: the
machine's cores); the output is the same, in the same order.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from needlecare.cli.progress import progress
from needlecare.imaging.errors import PhotoError


def _stems(paths: list[str]) -> list[str]:
    """File stems for pictures, made unique when two photos share a name."""
    counts = Counter(Path(p).stem for p in paths)
    return [
        Path(p).stem if counts[Path(p).stem] == 1 else f"{i + 1:03d}-{Path(p).stem}"
        for i, p in enumerate(paths)
    ]


def _print_error(result: dict[str, Any]) -> None:
    """One line on stderr for a photo that could not be measured."""
    error = result["error"]
    sys.stderr.write(f"error: {result['photo']}: {error['code']}: {error['message']}\n")


def _print_table(console: Console, result: dict[str, Any]) -> None:
    if "error" in result:
        _print_error(result)
        return
    table = Table(
        title=f"{result['photo']}: redness {result['redness']['index']:.3f} {result['redness']['unit']}"
    )
    table.add_column("region")
    table.add_column("index", justify="right")
    table.add_column("pixels", justify="right")
    baseline = result.get("baseline")
    if baseline:
        table.add_column("Δ vs baseline", justify="right")
    for name, score in result["regions"].items():
        row = [name, "—" if score["index"] is None else f"{score['index']:.3f}", str(score["pixels"])]
        if baseline:
            delta = baseline["regions"][name]["delta"]
            row.append("—" if delta is None else f"{delta:+.3f}")
        table.add_row(*row)
    console.print(table)
    quality = result["quality"]
    console.print(f"colour reference: {quality['colour_reference']} ({quality['colour_reference_detail']})")
    for message in quality["messages"]:
        console.print(f"[yellow]warning[/]: {message}")
    for note in (baseline or {}).get("notes", []):
        console.print(f"[yellow]baseline[/]: {note}")
    if baseline and baseline.get("delta_a_star") is not None and baseline.get("comparable", True):
        from needlecare.knowledge.visibility import visibility  # loads the evidence files (~0.1 s)

        reading = visibility(float(baseline["delta_a_star"])).reason
        shown = round(baseline["delta"], 3) + 0.0  # never "-0.000"
        console.print(f"change {shown:+.3f} OD_hb: {reading.text} (source: {'; '.join(reading.sources)})")


def analyze_command(
    photos: Annotated[list[str], typer.Argument(help="Photos to measure (JPEG, PNG, HEIC, WebP, TIFF).")],
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per photo on stdout.")] = False,
    baseline: Annotated[
        str | None, typer.Option("--baseline", help="Pre-treatment photo to compare with.")
    ] = None,
    heatmap_dir: Annotated[
        Path | None, typer.Option("--heatmap-dir", help="Write heatmap PNGs into this directory.")
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            max=256,
            help="CPU cores to use: photos measured in parallel processes (default: all cores).",
        ),
    ] = None,
) -> None:
    """Measure facial redness per region; optionally compare with a baseline photo and draw heatmaps."""
    from needlecare.analysis.batch import BatchAnalyzer, default_jobs
    from needlecare.analysis.pipeline import measure_photo
    from needlecare.imaging import parallel

    if jobs is not None:
        parallel.set_threads(jobs)  # --jobs 1: one core, also for a single photo and the baseline

    console = Console()
    base_report = None
    base_error: PhotoError | None = None
    if baseline is not None:
        try:
            base_report = measure_photo(baseline)
        except PhotoError as error:
            base_error = type(error)(f"baseline photo {baseline}: {error.message}")
    # More processes than photos would only start MediaPipe for nothing; one photo needs no pool.
    workers = 1 if base_error is not None else min(jobs or default_jobs(), len(photos))
    failed = False
    with (
        progress("measuring", len(photos)) as advance,
        BatchAnalyzer(workers, base_report, heatmap_dir) as batch,
    ):
        if base_error is not None:
            results: Iterator[tuple[dict[str, Any], bool]] = (
                ({"photo": path, "error": base_error.to_dict()}, True) for path in photos
            )
        else:
            results = batch.map(photos, _stems(photos))
        for result, photo_failed in results:
            failed |= photo_failed
            if as_json:
                sys.stdout.write(json.dumps(result) + "\n")
                sys.stdout.flush()
            else:
                _print_table(console, result)
            advance(1)
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to *app*."""
    app.command("analyze")(analyze_command)
