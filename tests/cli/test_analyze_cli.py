"""The analyze contract: one JSON object per photo, in order; errors on their line; exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from needlecare.cli.main import app
from needlecare.imaging.errors import ERROR_CODES
from web.terminal import finished_bar, plain, run_needlecare

REGIONS = {"forehead", "nose", "left_cheek", "right_cheek", "chin"}


def _lines(output: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in output.splitlines() if line.strip()]


@pytest.fixture
def photos(tmp_path: Path, faces_dir: Path) -> dict[str, Path]:
    face = tmp_path / "face.jpg"
    shutil.copy(faces_dir / "obama.jpg", face)
    text = tmp_path / "notes.jpg"
    text.write_text("this is not a photo")
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes((faces_dir / "obama.jpg").read_bytes()[:20000])
    noface = tmp_path / "wall.png"
    rng = np.random.default_rng(1)
    gradient = np.linspace(40, 220, 400, dtype=np.float32)[None, :, None] * np.array([1.0, 0.8, 0.6])
    wall = np.clip(gradient + rng.normal(0, 4, (300, 400, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(wall).save(noface)
    grey = tmp_path / "grey.png"
    Image.open(faces_dir / "obama.jpg").convert("L").save(grey)
    return {"face": face, "text": text, "truncated": truncated, "noface": noface, "grey": grey}


def test_json_contract_keeps_order_and_reports_errors(photos: dict[str, Path]) -> None:
    order = ["face", "text", "truncated", "noface", "grey"]
    result = CliRunner().invoke(app, ["analyze", "--json", *[str(photos[k]) for k in order]])
    assert result.exit_code == 1
    lines = _lines(result.stdout)
    assert [line["photo"] for line in lines] == [str(photos[k]) for k in order]
    ok = lines[0]
    assert set(ok["regions"]) == REGIONS
    assert ok["redness"]["unit"] == "OD_hb"
    assert isinstance(ok["redness"]["index"], float)
    assert len(ok["face"]["box"]) == 4
    assert all(isinstance(v, int) for v in ok["face"]["box"])
    assert {"yaw", "pitch", "roll"} <= set(ok["face"])
    assert ok["quality"]["colour_reference"] in {"colour_checker", "in_photo", "none"}
    assert isinstance(ok["quality"]["ok"], bool)
    assert isinstance(ok["quality"]["warnings"], list)
    assert all(region["pixels"] > 1000 for region in ok["regions"].values())
    codes = [line["error"]["code"] for line in lines[1:]]
    assert codes == ["not_an_image", "corrupt", "no_face", "unsupported"]
    assert all(code in ERROR_CODES for code in codes)
    assert "colour" in lines[4]["error"]["message"]
    assert "face" in lines[3]["error"]["message"]


def test_baseline_and_heatmaps(photos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "pictures"
    result = CliRunner().invoke(
        app,
        [
            "analyze",
            "--json",
            "--baseline",
            str(photos["face"]),
            "--heatmap-dir",
            str(out),
            str(photos["face"]),
        ],
    )
    assert result.exit_code == 0, result.output
    (line,) = _lines(result.stdout)
    baseline = line["baseline"]
    # the same photo against itself; the whole-face change is the mean registered difference, and the
    # optical-flow refinement may move a few pixels by a hair even between identical photos
    assert baseline["delta"] == pytest.approx(0.0, abs=1e-4)
    assert all(abs(r["delta"]) < 1e-3 for r in baseline["regions"].values())
    assert baseline["lighting_differs"] is False
    names = sorted(p.name for p in out.iterdir())
    assert names == ["face.compare.png", "face.difference.png", "face.heatmap.png"]
    with Image.open(out / "face.heatmap.png") as heatmap:
        assert heatmap.mode == "RGB"
        assert heatmap.width > heatmap.height / 2


def test_table_reads_the_change_against_visible_redness(photos: dict[str, Path]) -> None:
    result = CliRunner().invoke(app, ["analyze", "--baseline", str(photos["face"]), str(photos["face"])])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # Rich wraps long lines
    assert "Δ vs baseline" in text
    assert "change +0.000 OD_hb: About as red as in the baseline photo" in text
    assert "Wilhelm et al. (COLIPA), 2001" in text


def test_bad_baseline_fails_every_photo_with_its_reason(photos: dict[str, Path]) -> None:
    result = CliRunner().invoke(
        app, ["analyze", "--json", "--baseline", str(photos["text"]), str(photos["face"])]
    )
    assert result.exit_code == 1
    (line,) = _lines(result.stdout)
    assert line["error"]["code"] == "not_an_image"
    assert line["error"]["message"].startswith("baseline photo")


def test_usage_error_exits_2_without_traceback() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "needlecare.cli", "analyze", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 2
    assert "Traceback" not in process.stderr


def test_console_script_prints_one_error_line_for_a_missing_file(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "needlecare.cli", "analyze", "--json", str(tmp_path / "missing.jpg")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 1
    assert "Traceback" not in process.stderr
    (line,) = _lines(process.stdout)
    assert line["error"]["code"] == "not_an_image"


@pytest.mark.parametrize(("name", "code"), [("truncated", "corrupt"), ("noface", "no_face")])
def test_without_json_a_bad_photo_is_one_line_on_stderr(
    photos: dict[str, Path], name: str, code: str
) -> None:
    """The whole of stderr is one line, also when the photo reached MediaPipe (whose native start-up logs
    are captured)."""
    process = subprocess.run(
        [sys.executable, "-m", "needlecare.cli", "analyze", str(photos[name])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 1
    (line,) = process.stderr.splitlines()
    assert line.startswith(f"error: {photos[name]}: {code}: ")


def _two_non_photos(tmp_path: Path) -> list[str]:
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for path in paths:
        path.write_text("this is not a photo")
    return [str(p) for p in paths]


@pytest.mark.parametrize(
    ("terminals", "bar"),
    [(("stderr",), True), (("stdout", "stderr"), True), ((), False), (("stdout",), False)],
    ids=["stderr", "both", "none", "stdout"],
)
def test_progress_bar_only_on_a_terminal_stderr_and_json_stays_on_stdout(
    tmp_path: Path, terminals: tuple[str, ...], bar: bool
) -> None:
    """The bar of ``newsletter send`` (cli/progress.py); stdout keeps one JSON line a photo, even as the bar
    runs (``analyze --json ... > out.json`` from a terminal once wrote the JSON to the terminal instead)."""
    out = run_needlecare(["analyze", "--json", *_two_non_photos(tmp_path)], terminals=terminals)
    assert out.returncode == 1
    assert [r["error"]["code"] for r in _lines(out.stdout)] == ["not_an_image", "not_an_image"]
    assert (finished_bar("measuring", 2).search(plain(out.stderr)) is not None) == bar, out.stderr
    assert ("\x1b" in out.stderr) == bar
    assert "\x1b" not in out.stdout


def test_on_one_screen_the_json_lines_pass_above_the_bar_intact(tmp_path: Path) -> None:
    wide = {"COLUMNS": "1000"}  # Rich wraps what passes above the bar at the screen's width
    out = run_needlecare(["analyze", "--json", *_two_non_photos(tmp_path)], screen=True, env=wide)
    assert out.returncode == 1
    shown = plain(out.stdout)
    assert finished_bar("measuring", 2).search(shown), out.stdout
    objects = [json.loads(line) for line in shown.splitlines() if line.startswith("{")]
    assert [o["error"]["code"] for o in objects] == ["not_an_image", "not_an_image"]


def test_parallel_jobs_print_the_same_lines_in_input_order(photos: dict[str, Path]) -> None:
    """``--jobs 2`` measures in two worker processes; stdout is what one process prints, line for line."""
    order = ["face", "text", "noface", "face", "truncated", "grey"]
    args = [str(photos[k]) for k in order]
    one = CliRunner().invoke(app, ["analyze", "--json", "--jobs", "1", *args])
    two = CliRunner().invoke(app, ["analyze", "--json", "--jobs", "2", *args])
    assert one.exit_code == two.exit_code == 1
    assert [line["photo"] for line in _lines(two.stdout)] == args
    assert _lines(two.stdout) == _lines(one.stdout)
    assert _lines(two.stdout)[0]["redness"]["index"] == _lines(two.stdout)[3]["redness"]["index"]


def test_parallel_jobs_with_a_baseline_compare_every_photo(photos: dict[str, Path]) -> None:
    args = ["analyze", "--json", "--baseline", str(photos["face"]), str(photos["face"]), str(photos["face"])]
    result = CliRunner().invoke(app, [*args[:2], "--jobs", "2", *args[2:]])
    assert result.exit_code == 0, result.stdout
    lines = _lines(result.stdout)
    assert len(lines) == 2
    assert all(abs(line["baseline"]["delta"]) < 1e-4 for line in lines)  # registered: see above


@pytest.mark.parametrize("jobs", ["0", "-1", "x"])
def test_jobs_must_be_a_positive_number(photos: dict[str, Path], jobs: str) -> None:
    result = CliRunner().invoke(app, ["analyze", "--json", "--jobs", jobs, str(photos["face"])])
    assert result.exit_code == 2
    assert result.stdout == ""
