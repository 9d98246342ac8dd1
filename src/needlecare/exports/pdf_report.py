"""The PDF report for the dermatologist (reportlab platypus), built from one patient's record.

Per treatment: the settings, the expected redness window, a chart of the photo redness index and one of
the self-ratings against that window, a table of measurements per face region, photo thumbnails with their
redness heatmaps (only photos whose consent allows sharing with a practitioner; missing files are skipped
with a note), the triage history
and today's aftercare plan. Then the full sources cited and, on every page, the "decision support, not a
diagnosis" note.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, PageBreak, SimpleDocTemplate

from needlecare.exports import pdf_sections as sec
from needlecare.exports.data import PatientExport, TreatmentRecord, comparable, redness
from needlecare.exports.pdf_chart import chart
from needlecare.knowledge import treatment_course as course
from needlecare.knowledge.common import DISCLAIMER
from needlecare.knowledge.evidence import evidence
from needlecare.knowledge.plan import local_today
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import User
from needlecare.storage.types import as_utc

MEDIA_TYPE = "application/pdf"
TITLE = "needlecare report for the dermatologist"
FOOTER = "needlecare - decision support, not a diagnosis"


def patient_label(user: User) -> str:
    """The patient as the report names them: the name they entered with their e-mail, or the e-mail alone."""
    return f"{user.display_name} ({user.email})" if user.display_name else user.email


def _sources_cited(expected: dict[str, Any], tr: TreatmentRecord, plan: dict[str, Any]) -> list[str]:
    """Short citations (``"Chu et al., Dermatol Surg 2021 (A)"``) behind the report's statements."""
    cited = list(evidence().cite(evidence().grading.scales["psa"].sources))  # the 0-4 self-rating scale
    reasons = [*expected["reasons"], *plan.get("reasons", []), *plan.get("milestones", [])]
    reasons += [r for c in tr.checkins for r in (c.triage or {}).get("reasons", [])]
    for reason in reasons:
        cited += [str(s) for s in reason.get("sources", [])]
    return list(dict.fromkeys(cited))


#: (width, height) of the report's charts in points: two fit on page 1 with the summary.
CHART_SIZE = (460.0, 150.0)


def _section(title: str, body: list[Flowable], keep: int = 1) -> list[Flowable]:
    """A heading kept on the same page as the first *keep* flowables of its section (no orphan heading)."""
    return [KeepTogether([sec.heading(title), *body[:keep]]), *body[keep:]]


def _status(tr: TreatmentRecord) -> list[Flowable]:
    """The latest check-in's verdict in plain words, with the rule that decided it."""
    if not tr.checkins:
        return [sec.para("No check-in recorded yet.")]
    last = max(tr.checkins, key=lambda c: (c.checked_on, c.id))
    verdict = last.triage or {}
    urgency = str(verdict.get("urgency", "-")).replace("_", " ")
    reasons = verdict.get("reasons") or []
    out = [sec.para(f"Latest check-in, day {last.day} ({last.checked_on.isoformat()}): {urgency}.")]
    if reasons:
        out.append(sec.para(str(reasons[0].get("text", "")), sec.SMALL))
    return out


def _photo_caption(excluded: int) -> str:
    text = "Photo redness index (OD_hb); the shaded band is the typical window."
    if excluded:
        text += (
            f" Hollow grey points ({excluded}): photos taken under other light than the baseline that could "
            "not be matched; the app leaves them out of the curve, and so should the reader."
        )
    return text


def _treatment(tr: TreatmentRecord, store: PhotoStore, now: dt.datetime) -> tuple[list[Flowable], list[str]]:
    """Flowables of one treatment and the short citations they rely on."""
    t = tr.treatment
    today = local_today(t.timezone, now)
    day_today = (today - t.treated_on).days
    expected = course.expected(t)
    plan = course.plan(t)
    baselines = [r for p in tr.photos if p.is_baseline and (r := redness(p)) is not None]
    base = float(baselines[-1].index) if baselines else None
    measured = [
        (p, r) for p in tr.photos if not p.is_baseline and p.day >= 0 and (r := redness(p)) is not None
    ]
    photo_points = [(float(p.day), float(r.index)) for p, r in measured if comparable(p)]
    excluded = [(float(p.day), float(r.index)) for p, r in measured if not comparable(p)]
    rating_points = [(float(c.day), float(c.self_rating)) for c in tr.checkins]
    out: list[Flowable] = [sec.heading(f"Treatment of {t.treated_on.isoformat()}", 1)]
    out += sec.treatment_summary(t, day_today)
    out += _section("Current status", _status(tr))
    out += _section(
        "Redness over time",
        [
            sec.para(_photo_caption(len(excluded)), sec.SMALL),
            chart(
                photo_points,
                expected,
                y_label="redness index (OD_hb)",
                baseline=base,
                excluded=excluded,
                size=CHART_SIZE,
            ),
        ],
        keep=2,
    )
    out += _section(
        "Self-rating",
        [
            sec.para("Self-rating on the 0-4 CEA/PSA scale (0 clear ... 4 severe).", sec.SMALL),
            chart(rating_points, expected, y_label="self-rating 0-4", y_range=(0.0, 4.0), size=CHART_SIZE),
        ],
        keep=2,
    )
    out += _section("Expected window", sec.expected_window(expected))
    out += _section("Measurements per region", sec.measurements(tr.photos))
    out += _section("Photos and redness heatmaps", sec.photos(tr.photos, store))
    out += _section("Triage history", sec.triage_history(tr.checkins))
    entry = next((d for d in plan["days"] if d["date"] == today.isoformat()), None)
    out += _section("Today's aftercare plan", sec.todays_plan(entry, day_today))
    return out, _sources_cited(expected, tr, plan)


def _sources(cited: list[str]) -> list[Flowable]:
    """Full citations for the short forms, in order of first use (evidence grade in brackets)."""
    by_short = {str(s): s for s in evidence().sources.values()}
    items = []
    for short in cited:
        src = by_short.get(short)
        if src is None:
            items.append(short)
            continue
        link = src.url or (f"https://pubmed.ncbi.nlm.nih.gov/{src.pmid}/" if src.pmid else "")
        items.append(f"{src.citation} Evidence grade {src.grade}, {src.design_label}. {link}".strip())
    return [sec.heading("Sources", 1), *sec.bullets(items or ["No sources were cited."], sec.SMALL)]


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.drawString(2 * cm, 1.2 * cm, FOOTER)
    canvas.drawRightString(A4[0] - 2 * cm, 1.2 * cm, f"page {doc.page}")
    canvas.restoreState()


def pdf_report(
    record: PatientExport, store: PhotoStore, *, now: dt.datetime | None = None, compress: bool = True
) -> bytes:
    """The report as PDF bytes (A4).

    Parameters
    ----------
    record
        One patient's data (:func:`needlecare.exports.data.collect`).
    store
        Where the photo files are (thumbnails are made from them).
    now
        The report time ("today" is taken in each treatment's time zone); the current UTC time when omitted.
    compress
        Deflate the page streams (turn off to read the text in the raw file).
    """
    now = as_utc(now or dt.datetime.now(dt.UTC))
    story: list[Flowable] = [
        sec.heading(TITLE, 1),
        sec.para(
            f"Patient: {patient_label(record.user)}. "
            f"Generated {now:%Y-%m-%d %H:%M} UTC from their own records."
        ),
        sec.para(DISCLAIMER),
        sec.para(
            "Redness index: measured on the patient's photos (OD_hb, optical density of haemoglobin, "
            "melanin and shading removed); self-ratings and symptoms are the patient's own check-ins; the "
            "triage urgency is needlecare's rule-based decision support.",
            sec.SMALL,
        ),
    ]
    cited: list[str] = []
    if not record.treatments:
        story.append(sec.para("No treatments are recorded."))
    for i, tr in enumerate(record.treatments):
        flowables, sources = _treatment(tr, store, now)
        story += ([PageBreak()] if i else []) + flowables
        cited += sources
    story += _sources(list(dict.fromkeys(cited)))
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=1.8 * cm,
        bottomMargin=2 * cm,
        title=TITLE,
        author="needlecare",
        subject="Decision support, not a diagnosis",
        pageCompression=1 if compress else 0,
        invariant=1,
    )
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buf.getvalue()
