"""The cited evidence files: they load, every fact is cited, broken files are rejected with clear errors."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from needlecare.knowledge.evidence import (
    GRADE_ORDER,
    EvidenceError,
    citation_problems,
    evidence,
    load_evidence,
)

DATA = Path(str(resources.files("needlecare.knowledge").joinpath("data")))


def test_packaged_evidence_loads_and_is_cached() -> None:
    ev = evidence()
    assert evidence() is ev
    assert {"chu2021", "skinpen2018", "wux2022", "tan2014", "wilhelm2001"} <= set(ev.sources)


def test_short_citation_form() -> None:
    ev = evidence()
    assert str(ev.sources["chu2021"]) == "Chu et al., Dermatol Surg 2021 (A, systematic review)"
    assert str(ev.sources["case_type5"]).endswith("(A, one case report)")
    assert ev.sources["case_type5"].level == 5
    assert str(ev.sources["clinic_pages"]) == "Clinic aftercare pages (C, consensus)"
    assert ev.cite(["chu2021", "chu2021", "tan2014"]) == (
        "Chu et al., Dermatol Surg 2021 (A, systematic review)",
        "Tan et al., JAAD 2014 (B, clinical study)",
    )


def test_identifiers_from_evidence_md_are_kept() -> None:
    ev = evidence()
    assert ev.sources["barrier2012"].pmid == 22882208
    assert ev.sources["hoesly2012"].pmid == 22431712
    assert ev.sources["drug_delivery_reaction"].pmid == 28877153
    assert ev.sources["sasaki2019"].pmc == "PMC7671250"
    assert ev.sources["granuloma_case2021"].pmc == "PMC8008152"


def test_working_rule_is_marked_as_derivation_with_published_numbers() -> None:
    rule = evidence().durations.working_rule
    assert rule.derivation is True
    assert "not a published" in rule.statement
    assert rule.typical_days == (1.0, 3.0)
    assert rule.extended_high_days == 7
    assert rule.outside_expected_after_days == 7
    assert rule.extend_when.min_depth_mm == 1.5
    assert set(rule.extend_when.skin_types) == {4, 5, 6}


def test_no_data_findings_have_no_grade() -> None:
    findings = {f.id: f for f in evidence().durations.findings}
    assert findings["passes_sensitive_no_data"].sources == ()
    assert findings["passes_sensitive_no_data"].grade is None
    adjustments = evidence().durations.adjustments
    assert "no published data" in adjustments.passes.text.lower()
    assert "no published data" in adjustments.prp.text.lower()


def test_grading_anchors_and_colipa() -> None:
    grading = evidence().grading
    assert grading.scales["cea"].anchors == {
        0: "clear",
        1: "almost clear",
        2: "mild",
        3: "moderate",
        4: "severe",
    }
    assert grading.scales["psa"].anchors == grading.scales["cea"].anchors
    assert grading.colipa.minimal_visible_delta_a_star == 2.5


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in ("sources", "durations", "red_flags", "aftercare", "grading"):
        shutil.copy(DATA / f"{name}.yaml", tmp_path / f"{name}.yaml")
    return tmp_path


def _edit(directory: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    path = directory / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_unchanged_copy_loads(data_copy: Path) -> None:
    assert load_evidence(data_copy).sources.keys() == evidence().sources.keys()


def _set_first_finding_sources(d: dict[str, Any]) -> None:
    d["findings"][0]["sources"] = ["nobody2099"]


def _bad_source_grade(d: dict[str, Any]) -> None:
    d["sources"]["chu2021"]["grade"] = "D"


def _missing_citation(d: dict[str, Any]) -> None:
    del d["sources"]["chu2021"]["citation"]


def _bad_fact_grade(d: dict[str, Any]) -> None:
    d["rules"][0]["grade"] = "A+"


def _missing_urgency(d: dict[str, Any]) -> None:
    del d["rules"][0]["urgency"]


def _unknown_key(d: dict[str, Any]) -> None:
    d["milestones"][0]["wait_dayz"] = d["milestones"][0].pop("wait_days")


def _unknown_symptom(d: dict[str, Any]) -> None:
    d["rules"][0]["symptoms"] = ["sneezing"]


def _sources_without_grade(d: dict[str, Any]) -> None:
    d["findings"][0]["grade"] = None


def _rf_shorter(d: dict[str, Any]) -> None:
    d["milestones"][0]["wait_days"]["rf"] = 0
    d["milestones"][0]["wait_days"]["standard"] = 1


def _missing_anchor(d: dict[str, Any]) -> None:
    del d["scales"]["cea"]["anchors"][4]


def _bad_based_on(d: dict[str, Any]) -> None:
    d["working_rule"]["based_on"] = ["made_up_finding"]


def _bad_urgency(d: dict[str, Any]) -> None:
    d["rules"][0]["urgency"] = "whenever"


@pytest.mark.parametrize(
    ("file", "change", "message"),
    [
        ("durations", _set_first_finding_sources, "unknown source id(s) 'nobody2099'"),
        ("sources", _bad_source_grade, "grade"),
        ("sources", _missing_citation, "citation"),
        ("red_flags", _bad_fact_grade, "grade"),
        ("red_flags", _missing_urgency, "urgency"),
        ("aftercare", _unknown_key, "wait_dayz"),
        ("red_flags", _unknown_symptom, "unknown symptom(s) 'sneezing'"),
        ("durations", _sources_without_grade, "both sources and a grade"),
        ("aftercare", _rf_shorter, "may not be shorter"),
        ("grading", _missing_anchor, "anchors"),
        ("durations", _bad_based_on, "made_up_finding"),
        ("red_flags", _bad_urgency, "urgency"),
    ],
)
def test_broken_file_is_rejected(
    data_copy: Path, file: str, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    _edit(data_copy, file, change)
    with pytest.raises(EvidenceError) as info:
        load_evidence(data_copy)
    assert str(info.value).startswith(f"{file}.yaml: ")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_invalid_yaml_files(data_copy: Path) -> None:
    (data_copy / "grading.yaml").unlink()
    with pytest.raises(EvidenceError, match=r"grading\.yaml: file not found"):
        load_evidence(data_copy)
    (data_copy / "grading.yaml").write_text("scales: [unclosed", encoding="utf-8")
    with pytest.raises(EvidenceError, match=r"grading\.yaml: not valid YAML"):
        load_evidence(data_copy)


def test_every_source_is_cited_somewhere() -> None:
    text = "\n".join((DATA / f"{n}.yaml").read_text(encoding="utf-8") for n in
                     ("durations", "red_flags", "aftercare", "grading", "ingredients"))  # fmt: skip
    unused = [key for key in evidence().sources if key not in text]
    assert unused == []


def _rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in data["rules"] if r["id"] == rule_id)
    return found


def test_a_fact_graded_above_its_source_is_refused(data_copy: Path) -> None:
    _edit(data_copy, "red_flags", lambda d: _rule(d, "redness_returning").__setitem__("grade", "A"))
    with pytest.raises(
        EvidenceError, match=r"redness_returning: grade A is higher than its weakest source \(C\)"
    ):
        load_evidence(data_copy)


def test_a_source_cited_for_what_it_does_not_cover_is_refused(data_copy: Path) -> None:
    def cite_chu_for_compresses(data: dict[str, Any]) -> None:
        step = next(s for s in data["steps"] if s["id"] == "cool_compress")
        step["sources"] = ["chu2021"]
        step["grade"] = "A"

    _edit(data_copy, "aftercare", cite_chu_for_compresses)
    with pytest.raises(EvidenceError, match="cool_compress: chu2021 does not cover aftercare"):
        load_evidence(data_copy)


def test_every_fact_cites_sources_that_cover_it_and_no_grade_exceeds_its_sources() -> None:
    ev = evidence()
    items = ev.cited_items()
    assert len(items) > 90
    assert citation_problems(ev.sources, items) == []
    for where, item, topics in items:
        assert not item.sources or topics, where
        for source in item.sources:
            assert GRADE_ORDER.index(item.grade or "C") >= GRADE_ORDER.index(ev.sources[source].grade), where


def test_every_source_records_its_design() -> None:
    for source in evidence().sources.values():
        assert source.design_label in str(source)
        assert source.covers
