"""``needlecare expect | plan | triage``: JSON contracts, tables, and one-line errors with exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from needlecare.cli.main import app
from needlecare.knowledge.expect import expected_course
from needlecare.knowledge.plan import aftercare_plan
from needlecare.knowledge.treatment import TreatmentParams
from needlecare.knowledge.triage import SYMPTOMS, triage

runner = CliRunner()

EXPECT = ["expect", "--depth", "1.5", "--passes", "3", "--device", "rf", "--area", "neck", "--skin-type", "4"]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_expect_json_matches_python_api() -> None:
    code, out, err = run(*EXPECT, "--prp", "--bleeding", "--json")
    assert (code, err) == (0, "")
    data = json.loads(out)
    params = TreatmentParams(
        depth_mm=1.5, passes=3, device="rf", area="neck", skin_type=4, prp=True, bleeding=True
    )
    assert data == expected_course(params).to_dict()
    assert data["typical_days"] == [1, 7]
    assert data["outside_expected_after_days"] == 7
    assert all({"text", "sources"} <= set(r) <= {"text", "sources", "rule", "grade"} for r in data["reasons"])


def test_expect_table_by_default() -> None:
    code, out, _ = run("expect", "--depth", "0.25", "--passes", "1", "--device", "roller", "--area", "face",
                       "--skin-type", "II")  # fmt: skip
    assert code == 0
    assert "Typical window" in out
    assert "0.5 h to 24 h" in out
    assert "not a diagnosis" in out


def test_plan_json_and_ics(tmp_path: Path) -> None:
    ics = tmp_path / "plan.ics"
    code, out, err = run("plan", "--treated", "2026-03-25", "--device", "rf", "--depth", "1.0",
                         "--tz", "Europe/Berlin", "--ics", str(ics), "--json")  # fmt: skip
    assert (code, err) == (0, "")
    data = json.loads(out)
    plan = aftercare_plan(date(2026, 3, 25), TreatmentParams(depth_mm=1.0, device="rf"), tz="Europe/Berlin")
    assert data["days"] == plan.to_dict()["days"]
    assert [d["day"] for d in data["days"]] == list(range(15))
    assert data["days"][14]["date"] == "2026-04-08"
    cal = Calendar.from_ical(ics.read_bytes())
    assert len(cal.walk("VEVENT")) == len(plan.milestones)
    assert all(len(e.walk("VALARM")) == 1 for e in cal.walk("VEVENT"))


def test_plan_without_depth_uses_the_longer_waits() -> None:
    code, out, _ = run("plan", "--treated", "2026-03-25", "--json")
    assert code == 0
    assert json.loads(out)["column"] == "deep"


def test_plan_table() -> None:
    code, out, _ = run("plan", "--treated", "2026-03-25", "--depth", "0.5")
    assert code == 0
    assert "2026-04-08" in out
    assert "Mineral makeup" in out


def test_triage_json_matches_python_api() -> None:
    code, out, err = run("triage", "--day", "3", "--symptom", "pus", "--symptom", "flaking", "--redness", "3",
                         "--json")  # fmt: skip
    assert (code, err) == (0, "")
    data = json.loads(out)
    assert data == triage(3, ["pus", "flaking"], redness=3).to_dict()
    assert data["urgency"] == "same_day"


def test_triage_table_and_list_symptoms() -> None:
    code, out, _ = run("triage", "--day", "1", "--symptom", "breathing_difficulty")
    assert code == 0
    assert "emergency" in out
    code, out, _ = run("triage", "--list-symptoms", "--json")
    assert code == 0
    assert json.loads(out)["symptoms"] == SYMPTOMS
    code, out, _ = run("triage", "--list-symptoms")
    assert code == 0
    assert "swollen_lymph_nodes" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["expect", "--depth", "5", "--passes", "1", "--device", "pen", "--skin-type", "2"], "got 5"),
        (["expect", "--depth", "1", "--passes", "-1", "--device", "pen", "--skin-type", "2"], "got -1"),
        (["expect", "--depth", "1", "--device", "pen", "--skin-type", "VII"], "got 'VII'"),
        (["expect", "--depth", "1", "--device", "laser", "--skin-type", "2"], "got 'laser'"),
        (["expect", "--depth", "1", "--device", "pen", "--skin-type", "2", "--area", "foot"], "got 'foot'"),
        (["expect", "--depth", "deep", "--device", "pen", "--skin-type", "2"], "--depth"),
        (["expect", "--depth", "0", "--device", "pen"], "more than 0"),
        (["triage", "--day", "2", "--depth", "9"], "got 9"),
        (["triage", "--day", "2", "--device", "laser"], "got 'laser'"),
        (["triage", "--day", "100000"], "0 to 3650"),
        (["plan", "--treated", "2026-03-01", "--skin-type", "9"], "got '9'"),
        (["expect", "--depth", "1", "--device", "pen", "--skin-type", "2", "--colour"], "--colour"),
        (["plan", "--treated", "2026-02-30"], "YYYY-MM-DD"),
        (["plan", "--treated", "yesterday"], "YYYY-MM-DD"),
        (["plan", "--treated", "2026-03-01", "--tz", "Mars/Olympus"], "Mars/Olympus"),
        (["plan", "--treated", "2026-03-01", "--ics", "/nonexistent-dir/x.ics"], "cannot write"),
        (["plan"], "--treated"),
        (["triage", "--day", "-1"], "got -1"),
        (["triage", "--day", "2", "--symptom", "sneezing"], "unknown symptom 'sneezing'"),
        (["triage", "--day", "2", "--redness", "5"], "got 5"),
        (["triage", "--day", "two"], "--day"),
        (["triage", "--symptom", "fever"], "--day"),
    ],
)
def test_invalid_input_is_one_line_with_status_2(args: list[str], message: str) -> None:
    code, out, err = run(*args)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: ")
    assert message in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["expect", "--depth", "5", "--device", "pen", "--skin-type", "2"],
        ["triage", "--day", "2", "--redness", "5"],
        ["plan", "--treated", "not-a-date"],
    ],
)
def test_real_process_exits_2_without_traceback(args: list[str]) -> None:
    code = (
        "import sys; from needlecare.cli.main import main; sys.argv = ['needlecare', *sys.argv[1:]]; main()"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("Error: ")


def test_the_same_treatment_options_on_every_command() -> None:
    options = ["--depth", "1.0", "--device", "rf", "--skin-type", "5", "--area", "neck", "--passes", "2",
               "--sensitive", "--rosacea", "--bleeding", "--prp", "--serum", "--cold-sores"]  # fmt: skip
    for command in (["expect"], ["plan", "--treated", "2026-03-25"], ["triage", "--day", "4"]):
        code, out, err = run(*command, *options, "--json")
        assert (code, err) == (0, ""), (command, err)
        assert json.loads(out)
    code, out, err = run("ingredients", *options, "--json", "Parfum")
    assert (code, err) == (0, "")
    assert json.loads(out)["ingredients"][0]["avoid_until_day"] == 7  # fragrance after RF


def test_treatment_changes_triage_on_the_command_line() -> None:
    rf = json.loads(run("triage", "--day", "4", "--redness", "3", "--device", "rf", "--json")[1])
    pen = json.loads(run("triage", "--day", "4", "--redness", "3", "--json")[1])
    assert (rf["urgency"], pen["urgency"]) == ("expected", "within_48h")
    assert rf["expected_course"]["outside_expected_after_days"] == 7


def test_plan_by_skin_type_on_the_command_line() -> None:
    light = json.loads(
        run("plan", "--treated", "2026-03-25", "--depth", "0.5", "--skin-type", "2", "--json")[1]
    )
    dark = json.loads(
        run("plan", "--treated", "2026-03-25", "--depth", "0.5", "--skin-type", "VI", "--json")[1]
    )
    tanning = [next(m["day"] for m in p["milestones"] if m["id"] == "tanning") for p in (light, dark)]
    assert tanning == [7, 14]
    assert "dark_skin" in dark["conditions"]
    assert "dark_skin" not in light["conditions"]
