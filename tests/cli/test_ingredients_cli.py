"""``needlecare ingredients``: JSON contract, table output, input sources and invalid input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from needlecare.cli.main import app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "inci"
CONTRACT_KEYS = {"name", "inci", "group", "verdict", "avoid_until_day", "reason", "sources"}


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_json_contract(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["ingredients", "--day", "2", "--json", "Aqua, Retinol 0.5%, Mystery Root, Parfum"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["day"] == 2
    items = document["ingredients"]
    assert [item["name"] for item in items] == ["Aqua", "Retinol 0.5%", "Mystery Root", "Parfum"]
    for item in items:
        assert set(item) >= CONTRACT_KEYS
        assert item["verdict"] in {"avoid", "caution", "ok", "soothing", "unknown"}
        assert isinstance(item["sources"], list)
        assert item["sources"]
    assert items[0] == {
        **items[0],
        "inci": "Aqua",
        "group": "neutral",
        "verdict": "ok",
        "avoid_until_day": None,
    }
    assert (items[1]["inci"], items[1]["verdict"], items[1]["avoid_until_day"]) == ("Retinol", "avoid", 14)
    assert (items[2]["inci"], items[2]["group"], items[2]["verdict"]) == (None, "unknown", "unknown")
    assert (items[3]["group"], items[3]["verdict"], items[3]["avoid_until_day"]) == ("fragrance", "avoid", 3)
    assert "not a diagnosis" in document["disclaimer"].lower()
    assert document["notes"] == []  # the open-channels note is for day 0-1 only
    assert document["summary"]["avoid_until_day"] == 14


def test_day0_note_only_on_day_0_and_1(runner: CliRunner) -> None:
    for day, expected in ((0, True), (1, True), (2, False), (9, False)):
        result = runner.invoke(app, ["ingredients", "--day", str(day), "--json", "Aqua"])
        notes = json.loads(result.stdout)["notes"]
        assert any(note["id"] == "open_channels" for note in notes) is expected, day


def test_default_day_is_treatment_day(runner: CliRunner) -> None:
    result = runner.invoke(app, ["ingredients", "--json", "Glycolic Acid"])
    document = json.loads(result.stdout)
    assert document["day"] == 0
    assert document["ingredients"][0]["avoid_until_day"] == 7


def test_file_and_stdin_give_the_same_report(runner: CliRunner) -> None:
    path = FIXTURES / "retinol_night_cream.txt"
    from_file = runner.invoke(app, ["ingredients", "--day", "5", "--json", "--file", str(path)])
    from_stdin = runner.invoke(
        app, ["ingredients", "--day", "5", "--json", "-"], input=path.read_text("utf-8")
    )
    assert from_file.exit_code == 0
    assert from_stdin.exit_code == 0
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)
    assert len(json.loads(from_file.stdout)["ingredients"]) == 19


def test_table_output(runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["ingredients", "--day", "3", "Aqua, Glycolic Acid, Panthenol, Xyzzy Extract"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Ingredients on day 3" in out
    for text in ("Glycolic Acid", "avoid", "soothing", "unknown", "not a diagnosis", "Sources:"):
        assert text in out
    assert "Clinic aftercare pages (C, consensus)" in out
    assert "Waits for: depth unknown pen" in out


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["ingredients"], None, "no ingredient list given"),
        (["ingredients", "--day", "-1", "Aqua"], None, "0 (treatment day) or later"),
        (["ingredients", "--day=-5", "Aqua"], None, "0 (treatment day) or later"),
        (["ingredients", "--day", "two", "Aqua"], None, "whole number"),
        (["ingredients", "--day", "2.5", "Aqua"], None, "whole number"),
        (["ingredients", "--file", "/nonexistent/list.txt"], None, "file not found"),
        (["ingredients", "--file", "."], None, "not a file"),
        (["ingredients", "   "], None, "empty"),
        (["ingredients", ", ; ,"], None, "no ingredients found"),
        (["ingredients", "-"], "", "empty"),
        (["ingredients", "--file", "x.txt", "Aqua"], None, "not both"),
        (["ingredients", "--day", "1e23", "Aqua"], None, "whole number"),
        (["ingredients", "--day", "100000", "Aqua"], None, "at most 3650"),
        (["ingredients", "--day", "99999999999999999999999", "Aqua"], None, "whole number"),
        (["ingredients", "--colour", "Aqua"], None, "--colour"),
        (["ingredients", "--depth", "9", "Aqua"], None, "got 9"),
        (["ingredients", "--skin-type", "VII", "Aqua"], None, "got 'VII'"),
    ],
)
def test_invalid_input_exits_2_with_one_line(
    runner: CliRunner, args: list[str], stdin: str | None, message: str
) -> None:
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_binary_file_is_rejected(runner: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "label.bin"
    path.write_bytes(b"\xff\xfe\x00\x81binary")
    result = runner.invoke(app, ["ingredients", "--file", str(path)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.stderr


def test_console_script_end_to_end() -> None:
    """The installed entry point: real process, real exit status, no traceback."""
    exe = Path(sys.executable).with_name("needlecare")
    ok = subprocess.run(
        [str(exe), "ingredients", "--day", "8", "--json", "Aqua, Benzoyl Peroxide 2.5%"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ingredients"][1]["verdict"] == "ok"
    bad = subprocess.run(
        [str(exe), "ingredients", "--day", "-2", "Aqua"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "Traceback" not in bad.stderr


def _needlecare() -> str:
    return str(Path(sys.executable).with_name("needlecare"))


def test_bytes_that_are_not_utf8_are_refused_never_guessed() -> None:
    """Latin-1 'Parfüm' on stdin or in the argument: exit 2 with one line, no JSON with broken bytes."""
    latin1 = b"Aqua, Parf\xfcm"
    cases = [([_needlecare(), "ingredients", "--json", "-"], latin1),
             ([_needlecare().encode(), b"ingredients", b"--json", latin1], None)]  # fmt: skip
    for args, stdin in cases:
        proc = subprocess.run(args, input=stdin, capture_output=True, check=False, timeout=120)
        assert proc.returncode == 2, proc.stdout
        assert proc.stdout == b""
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        assert len(lines) == 1, lines
        assert "not UTF-8" in lines[0], lines


def test_no_traceback_under_a_locale_that_cannot_show_the_table() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "LC_ALL": "C", "LANG": "C"}
    for extra in ([], ["--json"]):
        proc = subprocess.run(
            [_needlecare(), "ingredients", "--day", "2", *extra, "Aqua, Crème Extract, Parfum"],
            capture_output=True, check=False, timeout=120, env=env,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert b"Traceback" not in proc.stderr
        if extra:
            names = [i["name"] for i in json.loads(proc.stdout)["ingredients"]]
            assert names == ["Aqua", "Crème Extract", "Parfum"]  # escaped in JSON, nothing lost
