"""FHIR JSON export: a ``collection`` Bundle of Patient, Procedure, Media and Observation resources.

The bundle is **FHIR R4 (4.0.1)** and is validated twice before it is returned: against R4 with the models of
the SMART on FHIR client library ``fhirclient`` (generated from the R4 4.0.1 specification; strict parsing
rejects unknown elements, wrong types, malformed dates and missing required elements), and with the pydantic
models of ``fhir.resources``, whose 8.x releases have no plain R4 module, against R4B (4.3.0), the technical
correction of R4 whose Patient, Procedure, Observation and Media resources keep the R4 structure. Every
element the export uses exists in both versions (Media is an R4 resource; it was removed only in R5).

Resources reference each other by ``urn:uuid:`` full URLs (name-based UUIDs from the server's base URL and the
row id, so the same data exports to the same URLs). Codes needlecare defines itself use ``urn:needlecare:*``
systems; the redness index unit OD_hb is not a UCUM unit, so it is given with the system
:data:`UNIT_SYSTEM`. Photos are referenced by URL (the authenticated image endpoint), never embedded.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhirclient.models.bundle import Bundle as R4Bundle  # type: ignore[import-untyped]
from fhirclient.models.fhirabstractbase import FHIRValidationError  # type: ignore[import-untyped]

from needlecare.analysis.left_out import left_out
from needlecare.exports.data import REGIONS, PatientExport, comparison, quality, redness, region_index
from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.treatment import FLAG_FIELDS
from needlecare.knowledge.triage import SYMPTOMS
from needlecare.storage.models import CheckIn, Photo, Treatment, User
from needlecare.storage.types import as_utc

FHIR_VERSION = "4.0.1"
MEDIA_TYPE = "application/fhir+json; fhirVersion=4.0"
UNIT_SYSTEM = "urn:needlecare:unit"
CODE_SYSTEM = "urn:needlecare:code"
REGION_SYSTEM = "urn:needlecare:face-region"
SYMPTOM_SYSTEM = "urn:needlecare:symptom"
URGENCY_SYSTEM = "urn:needlecare:triage-urgency"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
MEDIA_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/media-type"
ABSENT_SYSTEM = "http://terminology.hl7.org/CodeSystem/data-absent-reason"


class Refs:
    """``urn:uuid:`` full URLs for the rows of one export, stable for a given server base URL."""

    def __init__(self, base_url: str) -> None:
        self._ns = uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip("/") + "/fhir")

    def url(self, kind: str, row_id: int) -> str:
        """Full URL of resource *kind* (``"Patient"``, ...) made from row *row_id*."""
        return f"urn:uuid:{uuid.uuid5(self._ns, f'{kind}/{row_id}')}"

    def ref(self, kind: str, row_id: int) -> dict[str, str]:
        """A Reference element to that resource."""
        return {"reference": self.url(kind, row_id), "type": kind}


def _identifier(kind: str, row_id: int) -> list[dict[str, str]]:
    return [{"system": f"urn:needlecare:{kind}", "value": str(row_id)}]


def _quantity(value: float) -> dict[str, Any]:
    return {"value": float(value), "unit": "OD_hb", "system": UNIT_SYSTEM, "code": "OD_hb"}


def _code(code: str, display: str, system: str = CODE_SYSTEM) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY_SYSTEM, "code": code, "display": display}]}]


def patient(user: User) -> dict[str, Any]:
    """Patient: the account's id as identifier, its e-mail as telecom and, when the patient entered one, the
    name for their reports as ``name.text``."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": _identifier("user", user.id),
        "telecom": [{"system": "email", "value": user.email, "use": "home"}],
    }
    if user.display_name:
        resource["name"] = [{"use": "usual", "text": user.display_name}]
    return resource


def procedure(t: Treatment, refs: Refs) -> dict[str, Any]:
    """Procedure "Microneedling" on ``treated_on`` with the area as body site and the settings as notes."""
    factors = [name for name in FLAG_FIELDS if getattr(t, name)]
    notes = [
        f"Needle depth {t.depth_mm:g} mm; {t.passes} passes; device: {t.device}.",
        f"Fitzpatrick skin type {t.skin_type}; recorded factors: {', '.join(factors) or 'none'}.",
    ]
    if t.notes:
        notes.append(f"Patient's notes: {t.notes}")
    return {
        "resourceType": "Procedure",
        "identifier": _identifier("treatment", t.id),
        "status": "completed",
        "code": {"text": "Microneedling"},
        "subject": refs.ref("Patient", t.user_id),
        "performedDateTime": t.treated_on.isoformat(),
        "bodySite": [{"text": t.area}],
        "note": [{"text": n} for n in notes],
    }


def _image_media(
    photo: Photo, t: Treatment, refs: Refs, *, system: str, url: str, title: str, note: str
) -> dict[str, Any]:
    """The Media resource shared by a photo and its heatmap: an image referenced by URL, not embedded."""
    return {
        "resourceType": "Media",
        "identifier": _identifier(system, photo.id),
        "status": "completed",
        "type": {"coding": [{"system": MEDIA_TYPE_SYSTEM, "code": "image", "display": "Image"}]},
        "partOf": [refs.ref("Procedure", t.id)],
        "subject": refs.ref("Patient", photo.user_id),
        "createdDateTime": photo.taken_on.isoformat(),
        "bodySite": {"text": t.area},
        "content": {"contentType": "image/jpeg", "url": url, "title": title},
        "note": [{"text": note}],
    }


def media(photo: Photo, t: Treatment, refs: Refs, base_url: str) -> dict[str, Any]:
    """Media for one photo: the image is a URL reference (``contentType`` image/jpeg), not embedded data."""
    kind = "baseline (before treatment)" if photo.is_baseline else f"day {photo.day} after treatment"
    resource = _image_media(
        photo,
        t,
        refs,
        system="photo",
        url=f"{base_url.rstrip('/')}/api/v1/photos/{photo.id}/image",
        title=f"Face photo, {kind}",
        note=f"Photo consent chosen by the patient: {photo.consent}.",
    )
    resource["issued"] = as_utc(photo.created_at).isoformat()
    resource["height"], resource["width"] = photo.height, photo.width
    resource["content"]["creation"] = photo.taken_on.isoformat()
    return resource


def heatmap_media(photo: Photo, t: Treatment, refs: Refs, base_url: str) -> dict[str, Any]:
    """Media for the redness heatmap drawn from a photo at upload (a URL reference, like the photo)."""
    kind = "baseline photo" if photo.is_baseline else f"photo of day {photo.day}"
    return _image_media(
        photo,
        t,
        refs,
        system="photo-heatmap",
        url=f"{base_url.rstrip('/')}/api/v1/photos/{photo.id}/heatmap",
        title=f"Redness heatmap (OD_hb) of the {kind}",
        note=f"Drawn from the photo {refs.url('Media', photo.id)} by needlecare's measurement.",
    )


def _region_component(photo: Photo, region: str) -> dict[str, Any]:
    label = region.replace("_", " ")
    comp: dict[str, Any] = {"code": _code(region, f"Redness index, {label}", REGION_SYSTEM)}
    value = region_index(photo, region)
    if value is None:
        comp["dataAbsentReason"] = {
            "coding": [{"system": ABSENT_SYSTEM, "code": "unknown", "display": "Unknown"}],
            "text": "too few measurable pixels in this region",
        }
    else:
        comp["valueQuantity"] = _quantity(value)
    return comp


def redness_observation(photo: Photo, refs: Refs) -> dict[str, Any] | None:
    """Observation of the photo's whole-face redness index with one component per face region.

    ``None`` for a photo without a redness measurement.
    """
    whole = redness(photo)
    if whole is None:
        return None
    components = [_region_component(photo, r) for r in REGIONS]
    baseline = comparison(photo)
    if baseline is not None and baseline.delta is not None:
        components.append(
            {
                "code": _code("redness-index-delta", "Change from baseline photo (positive = redder)"),
                "valueQuantity": _quantity(baseline.delta),
            }
        )
    q = quality(photo)
    notes = [str(whole.unit_description or "Unit OD_hb: optical density of haemoglobin.")]
    notes.append(
        "Photo quality: "
        + ("ok" if q.ok else "limited (" + ", ".join(q.warnings) + ")")
        + f"; colour reference: {q.colour_reference or 'unknown'}."
    )
    verdict = left_out(photo.analysis)
    if verdict is not None:
        notes.append(f"Not comparable with the baseline photo. {verdict.reason}")
    return {
        "resourceType": "Observation",
        "identifier": _identifier("photo-measurement", photo.id),
        "status": "final",
        "category": _category("imaging", "Imaging"),
        "code": _code("facial-redness-index", "Facial redness index measured on a photo"),
        "subject": refs.ref("Patient", photo.user_id),
        "partOf": [refs.ref("Procedure", photo.treatment_id)],
        "derivedFrom": [refs.ref("Media", photo.id)],
        "effectiveDateTime": photo.taken_on.isoformat(),
        "issued": as_utc(photo.created_at).isoformat(),
        "valueQuantity": _quantity(float(whole.index)),
        "note": [{"text": n} for n in notes],
        "component": components,
    }


def scale_text() -> str:
    """The 0-4 self-rating scale as stated in exports, from ``grading.yaml`` (PSA anchors, CEA/PSA scale)."""
    psa = evidence().grading.scales["psa"]
    anchors = ", ".join(f"{n} {text}" for n, text in sorted(psa.anchors.items()))
    return (
        f"0-4 CEA/PSA erythema scale, rated by the patient ({psa.name}): {anchors}. "
        f"Validated for {psa.validated_for}."
    )


def rating_observation(c: CheckIn, refs: Refs) -> dict[str, Any]:
    """Observation of a check-in's 0-4 self-rating; ticked symptoms and triage urgency as components."""
    components: list[dict[str, Any]] = [
        {
            "code": _code("symptom", "Symptom reported by the patient"),
            "valueCodeableConcept": _code(s, SYMPTOMS.get(s, s), SYMPTOM_SYSTEM),
        }
        for s in c.symptoms or []
    ]
    urgency = (c.triage or {}).get("urgency")
    if urgency:
        components.append(
            {
                "code": _code("triage-urgency", "needlecare triage urgency (decision support)"),
                "valueCodeableConcept": _code(str(urgency), str(urgency).replace("_", " "), URGENCY_SYSTEM),
            }
        )
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "identifier": _identifier("checkin", c.id),
        "status": "final",
        "category": _category("survey", "Survey"),
        "code": _code("self-rated-redness", "Self-rated redness, 0-4 (Patient Self-Assessment)"),
        "subject": refs.ref("Patient", c.user_id),
        "partOf": [refs.ref("Procedure", c.treatment_id)],
        "effectiveDateTime": c.checked_on.isoformat(),
        "issued": as_utc(c.created_at).isoformat(),
        "valueInteger": int(c.self_rating),
        "note": [{"text": scale_text()}, {"text": f"Day {c.day} after treatment."}],
    }
    if components:
        out["component"] = components
    return out


def bundle_dict(record: PatientExport, *, base_url: str, now: dt.datetime | None = None) -> dict[str, Any]:
    """The FHIR R4 Bundle as plain JSON data (not yet validated): Patient, then per treatment its Procedure,
    per photo its Media, heatmap Media (when one was drawn) and redness Observation, then the self-ratings.

    Parameters
    ----------
    record
        One user's data (:func:`needlecare.exports.data.collect`).
    base_url
        The server's public base URL (``https://host``): photo URLs and the UUID namespace derive from it.
    now
        Bundle timestamp; the current UTC time when omitted.
    """
    refs = Refs(base_url)
    entries = [(refs.url("Patient", record.user.id), patient(record.user))]
    for tr in record.treatments:
        t = tr.treatment
        entries.append((refs.url("Procedure", t.id), procedure(t, refs)))
        for photo in tr.photos:
            entries.append((refs.url("Media", photo.id), media(photo, t, refs, base_url)))
            if photo.heatmap_path:
                entries.append((refs.url("HeatmapMedia", photo.id), heatmap_media(photo, t, refs, base_url)))
            obs = redness_observation(photo, refs)
            if obs is not None:
                entries.append((refs.url("Observation", photo.id), obs))
        for c in tr.checkins:
            entries.append((refs.url("CheckInObservation", c.id), rating_observation(c, refs)))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": as_utc(now or dt.datetime.now(dt.UTC)).isoformat(),
        "entry": [{"fullUrl": url, "resource": resource} for url, resource in entries],
    }


def validate_r4(data: dict[str, Any]) -> Any:
    """Parse *data* strictly with ``fhirclient``'s FHIR R4 (4.0.1) Bundle model and return it.

    Raises
    ------
    FHIRValidationError
        An element is unknown, has the wrong type or format, or a required element is missing.
    """
    try:
        return R4Bundle(data, strict=True)
    except FHIRValidationError:
        raise
    except (TypeError, ValueError, KeyError) as exc:  # a malformed structure the library did not wrap
        raise FHIRValidationError([exc]) from exc


def validate(data: dict[str, Any]) -> Bundle:
    """Validate *data* against FHIR R4 (:func:`validate_r4`), then parse it with the R4B model.

    Raises
    ------
    FHIRValidationError
        Not valid FHIR R4.
    pydantic.ValidationError
        Not valid for the R4B models.
    """
    validate_r4(data)
    return Bundle.model_validate(data)


def fhir_json(record: PatientExport, *, base_url: str, now: dt.datetime | None = None) -> str:
    """The validated Bundle as FHIR JSON text (what :func:`validate` accepted, serialised by the library)."""
    bundle = validate(bundle_dict(record, base_url=base_url, now=now))
    return bundle.model_dump_json(indent=2)
