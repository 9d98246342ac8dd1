"""FHIR export validated by fhir.resources (R4B models): counts, references, values, and real rejection."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections import Counter
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhirclient.models.bundle import Bundle as R4Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError
from pydantic import ValidationError

from needlecare.exports.data import REGIONS, collect
from needlecare.exports.fhir import (
    FHIR_VERSION,
    MEDIA_TYPE,
    UNIT_SYSTEM,
    bundle_dict,
    fhir_json,
    scale_text,
    validate,
    validate_r4,
)

from .conftest import Seeded

BASE = "https://clinic.example"
NOW = dt.datetime(2026, 11, 25, 9, 30, tzinfo=dt.UTC)


@pytest.fixture
def bundle(seeded: Seeded) -> dict[str, Any]:
    """User A's bundle as parsed back from the exported JSON text."""
    data: dict[str, Any] = json.loads(fhir_json(collect(seeded.db, user=seeded.a), base_url=BASE, now=NOW))
    return data


def _of(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _ident(resource: dict[str, Any]) -> tuple[str, str]:
    ident = resource["identifier"][0]
    return ident["system"], ident["value"]


def test_whole_bundle_round_trips_through_the_r4b_models(bundle: dict[str, Any]) -> None:
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    assert json.loads(parsed.model_dump_json()) == bundle  # nothing dropped or altered by the library
    kinds = [type(e.resource).__module__ for e in parsed.entry]
    assert all(k.startswith("fhir.resources.R4B.") for k in kinds)


def test_whole_bundle_is_valid_fhir_r4_for_fhirclient(bundle: dict[str, Any]) -> None:
    assert (FHIR_VERSION, MEDIA_TYPE) == ("4.0.1", "application/fhir+json; fhirVersion=4.0")
    parsed = R4Bundle(bundle, strict=True)  # fhirclient's models are generated from FHIR R4 4.0.1
    assert parsed.type == "collection"
    assert parsed.as_json() == bundle  # every element is known to R4 and survives the round trip
    kinds = Counter((type(e.resource).__module__, e.resource.resource_type) for e in parsed.entry)
    assert set(kinds) == {
        ("fhirclient.models.patient", "Patient"),
        ("fhirclient.models.procedure", "Procedure"),
        ("fhirclient.models.media", "Media"),
        ("fhirclient.models.observation", "Observation"),
    }
    assert isinstance(validate_r4(bundle), R4Bundle)


def test_counts_match_the_database(seeded: Seeded, bundle: dict[str, Any]) -> None:
    counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
    measured = [p for p in seeded.a_photos if p.analysis and p.analysis.redness]
    assert counts == {
        "Patient": 1,
        "Procedure": 1,
        "Media": len(seeded.a_photos) + sum(1 for p in seeded.a_photos if p.heatmap_path),
        "Observation": len(measured) + len(seeded.a_checkins),
    }
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])  # unique full URLs


def test_references_resolve_inside_the_bundle(bundle: dict[str, Any]) -> None:
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    patient_url = next(u for u, r in by_url.items() if r["resourceType"] == "Patient")

    def target(ref: dict[str, str]) -> dict[str, Any]:
        resource = by_url[ref["reference"]]
        assert resource["resourceType"] == ref["type"]
        return resource

    for resource in by_url.values():
        if resource["resourceType"] != "Patient":
            assert resource["subject"]["reference"] == patient_url
        for ref in resource.get("partOf", []):
            assert target(ref)["resourceType"] == "Procedure"
    observations = _of(bundle, "Observation")
    photo_obs = [o for o in observations if "derivedFrom" in o]
    for obs in photo_obs:
        media = target(obs["derivedFrom"][0])
        assert _ident(media)[1] == _ident(obs)[1]  # the measurement of exactly that photo
        assert media["createdDateTime"] == obs["effectiveDateTime"]


def test_patient_and_procedure(seeded: Seeded, bundle: dict[str, Any]) -> None:
    (patient,) = _of(bundle, "Patient")
    assert "name" not in patient
    assert patient["telecom"] == [{"system": "email", "value": "ann@example.org", "use": "home"}]
    (proc,) = _of(bundle, "Procedure")
    assert proc["code"]["text"] == "Microneedling"
    assert proc["performedDateTime"] == "2026-11-20"
    assert proc["bodySite"] == [{"text": "face"}]
    notes = " ".join(n["text"] for n in proc["note"])
    for part in ("depth 1 mm", "3 passes", "device: pen", "bleeding", "Dr. Müller"):
        assert part in notes


def test_redness_observations_carry_index_unit_and_regions(seeded: Seeded, bundle: dict[str, Any]) -> None:
    photo_obs = {_ident(o)[1]: o for o in _of(bundle, "Observation") if "derivedFrom" in o}
    assert set(photo_obs) == {str(p.id) for p in seeded.a_photos if p.analysis}
    for photo in seeded.a_photos:
        if photo.analysis is None:
            continue
        a = photo.analysis.model_dump(mode="json")  # the stored JSON object
        obs = photo_obs[str(photo.id)]
        assert obs["valueQuantity"] == {
            "value": a["redness"]["index"], "unit": "OD_hb", "system": UNIT_SYSTEM, "code": "OD_hb",
        }  # fmt: skip
        regions = {c["code"]["coding"][0]["code"]: c for c in obs["component"] if "face-region" in str(c)}
        assert list(regions) == list(REGIONS)
        for name, comp in regions.items():
            expected = a["regions"][name]["index"]
            if expected is None:
                assert "valueQuantity" not in comp
                assert comp["dataAbsentReason"]["coding"][0]["code"] == "unknown"
            else:
                assert comp["valueQuantity"]["value"] == expected
        delta = [c for c in obs["component"] if c["code"]["coding"][0]["code"] == "redness-index-delta"]
        notes = " ".join(n["text"] for n in obs["note"])
        if "baseline" in a:
            assert delta[0]["valueQuantity"]["value"] == a["baseline"]["delta"]
            assert ("Not comparable with the baseline" in notes) is (not a["baseline"]["comparable"])
        else:
            assert delta == []
            assert "Not comparable" not in notes
    assert any(p.analysis and p.analysis.baseline for p in seeded.a_photos)  # the delta branch ran
    assert any(p.analysis and not p.analysis.comparable for p in seeded.a_photos)
    absent = [c for c in photo_obs[str(seeded.missing_photo.id)]["component"] if "dataAbsentReason" in c]
    assert [c["code"]["coding"][0]["code"] for c in absent] == ["chin"]
    assert "face_too_small" in photo_obs[str(seeded.a_photos[2].id)]["note"][1]["text"]


def test_self_rating_observations_state_the_scale(seeded: Seeded, bundle: dict[str, Any]) -> None:
    ratings = [o for o in _of(bundle, "Observation") if "valueInteger" in o]
    assert [(o["effectiveDateTime"], o["valueInteger"]) for o in ratings] == [
        ("2026-11-20", 3),
        ("2026-11-22", 2),
        ("2026-11-24", 1),
    ]
    scale = scale_text()
    for part in ("CEA/PSA", "0 clear", "4 severe", "not microneedling"):
        assert part in scale
    for obs, checkin in zip(ratings, seeded.a_checkins, strict=True):
        assert obs["note"][0]["text"] == scale
        comps = {(c["code"]["coding"][0]["code"], c["valueCodeableConcept"]["coding"][0]["code"])
                 for c in obs.get("component", [])}  # fmt: skip
        assert comps == {("symptom", s) for s in checkin.symptoms} | {
            ("triage-urgency", checkin.triage["urgency"])
        }


def test_media_reference_photos_and_heatmaps_by_url(seeded: Seeded, bundle: dict[str, Any]) -> None:
    media = _of(bundle, "Media")
    photos = [m for m in media if _ident(m)[0] == "urn:needlecare:photo"]
    assert [m["content"]["url"] for m in photos] == [
        f"{BASE}/api/v1/photos/{p.id}/image" for p in seeded.a_photos
    ]
    heatmaps = [m for m in media if _ident(m)[0] == "urn:needlecare:photo-heatmap"]
    assert [m["content"]["url"] for m in heatmaps] == [
        f"{BASE}/api/v1/photos/{p.id}/heatmap" for p in seeded.a_photos if p.heatmap_path
    ]
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    for heatmap in heatmaps:  # each names the photo Media it was drawn from
        source = urls[re.search(r"urn:uuid:[0-9a-f-]+", heatmap["note"][0]["text"]).group(0)]  # type: ignore[union-attr]
        assert _ident(source) == ("urn:needlecare:photo", _ident(heatmap)[1])
    for m in media:
        assert m["content"]["contentType"] == "image/jpeg"
        assert "data" not in m["content"]  # referenced, not embedded
        assert m["type"]["coding"][0]["code"] == "image"


def test_full_urls_are_stable_and_depend_on_the_server(seeded: Seeded) -> None:
    record = collect(seeded.db, user=seeded.a)
    first = bundle_dict(record, base_url=BASE, now=NOW)
    assert bundle_dict(record, base_url=BASE, now=NOW) == first
    other = bundle_dict(record, base_url="https://other.example", now=NOW)
    assert {e["fullUrl"] for e in other["entry"]}.isdisjoint(e["fullUrl"] for e in first["entry"])


def test_other_users_data_is_absent(seeded: Seeded) -> None:
    data = bundle_dict(collect(seeded.db, user=seeded.b), base_url=BASE, now=NOW)
    text = json.dumps(data)
    assert "ann@example.org" not in text
    assert Counter(e["resource"]["resourceType"] for e in data["entry"]) == {
        "Patient": 1, "Procedure": 1, "Media": 2, "Observation": 2,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "breaks"),
    [
        ("Media", lambda r: r.pop("content")),  # required element missing
        ("Observation", lambda r: r["valueQuantity"].update(value="very red")),  # decimal expected
        ("Procedure", lambda r: r.update(performedDateTime="20 Nov 2026")),  # not a FHIR dateTime
        ("Patient", lambda r: r.update(telecom={"system": "email"})),  # list expected
        ("Observation", lambda r: r.update(colour="red")),  # no such element
    ],
)
def test_invalid_resources_are_rejected_by_both_libraries(seeded: Seeded, kind: str, breaks: Any) -> None:
    good = bundle_dict(collect(seeded.db, user=seeded.a), base_url=BASE, now=NOW)
    validate(good)  # the unbroken bundle is valid
    bad = copy.deepcopy(good)
    breaks(next(e["resource"] for e in bad["entry"] if e["resource"]["resourceType"] == kind))
    with pytest.raises(FHIRValidationError):
        validate_r4(bad)  # FHIR R4 (fhirclient, strict)
    with pytest.raises(FHIRValidationError):
        validate(bad)  # the export checks R4 first
    with pytest.raises(ValidationError):
        Bundle.model_validate(bad)  # FHIR R4B (fhir.resources)
