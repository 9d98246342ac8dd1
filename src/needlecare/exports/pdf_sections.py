"""Flowables of the PDF report, one function per section (text is escaped and limited to the PDF font).

Every function returns a list of platypus flowables. Text goes through :func:`para`, which escapes markup and
replaces characters the built-in Helvetica (Windows-1252) cannot show.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Image, Paragraph, Spacer, Table, TableStyle

from needlecare.analysis.left_out import left_out
from needlecare.exports.data import REGIONS, quality, redness, region_index
from needlecare.knowledge.treatment import FLAG_FIELDS
from needlecare.knowledge.triage import SYMPTOMS
from needlecare.storage.files import PhotoStore
from needlecare.storage.models import CheckIn, Photo, Treatment

STYLES = getSampleStyleSheet()
BODY: ParagraphStyle = STYLES["BodyText"]
SMALL = ParagraphStyle("small", parent=BODY, fontSize=8, leading=10)
GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)
#: Largest thumbnail of a photo and of its heatmap in the report, (width, height) in points.
THUMB = (4.6 * cm, 4.6 * cm)
HEATMAP = (5.8 * cm, 4.6 * cm)

#: Photo consent choices that allow showing the image to a practitioner (see the web app's CONSENT_CHOICES).
SHAREABLE_CONSENTS = frozenset({"clinician"})


def pdf_text(text: str) -> str:
    """*text* limited to Windows-1252 (the standard PDF fonts' encoding); other characters become ``?``."""
    return text.encode("cp1252", "replace").decode("cp1252")


def para(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    """A paragraph of plain *text* (markup characters escaped)."""
    return Paragraph(escape(pdf_text(text)), style)


def heading(text: str, level: int = 2) -> Paragraph:
    """A section heading (``Heading1``..``Heading3``)."""
    return para(text, STYLES[f"Heading{level}"])


def bullets(items: Iterable[str], style: ParagraphStyle = BODY) -> list[Flowable]:
    """One paragraph per item, with a bullet."""
    return [Paragraph(escape(pdf_text(i)), style, bulletText="-") for i in items]


def table(rows: Sequence[Sequence[str]], widths: Sequence[float] | None = None) -> Table:
    """A grid table; the first row is the header. Cells are wrapped paragraphs."""
    cells = [[para(c, SMALL) for c in row] for row in rows]
    t = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
    t.setStyle(GRID)
    return t


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def treatment_summary(t: Treatment, day_today: int) -> list[Flowable]:
    """The treatment's settings as a two-column table."""
    factors = [n for n in FLAG_FIELDS if getattr(t, n)]
    rows = [
        ["Treatment", "Recorded by the patient"],
        ["Date", f"{t.treated_on.isoformat()} (today is day {day_today})"],
        ["Device", t.device],
        ["Needle depth", f"{t.depth_mm:g} mm"],
        ["Passes", str(t.passes)],
        ["Area", t.area],
        ["Fitzpatrick skin type", str(t.skin_type)],
        ["Factors", ", ".join(factors) or "none"],
    ]
    if t.notes:
        rows.append(["Patient's notes", t.notes])
    return [table(rows, [4.5 * cm, 11.5 * cm])]


def expected_window(expected: dict[str, Any]) -> list[Flowable]:
    """The expected redness window and its reasons with sources."""
    low, high = expected["typical_days"]
    out: list[Flowable] = [
        para(
            f"Typical redness lasts about day {low:g} to day {high:g}; redness after day "
            f"{expected['outside_expected_after_days']:g} is outside the expected course."
        )
    ]
    out += bullets(
        f"{r['text']} [{'; '.join(r['sources']) or 'no published source'}]" for r in expected["reasons"]
    )
    return out


def measurements(photos: Sequence[Photo]) -> list[Flowable]:
    """Table of the photo measurements: whole face and each region (OD_hb), quality (warnings, and why a
    photo's change from baseline is not trusted: :mod:`needlecare.analysis.left_out`)."""
    if not photos:
        return [para("No photos were recorded for this treatment.")]
    header = ["Date", "Day", "Face", *(r.replace("_", " ") for r in REGIONS), "Quality"]
    rows = [header]
    for p in photos:
        whole = redness(p)
        problems = list(quality(p).warnings)
        verdict = left_out(p.analysis)
        if verdict is not None:
            problems.append(verdict.label)
        state = "not measured" if whole is None else (", ".join(problems) or "ok")
        day = f"{p.day} (baseline)" if p.is_baseline else str(p.day)
        idx = None if whole is None else float(whole.index)
        rows.append(
            [p.taken_on.isoformat(), day, _num(idx), *(_num(region_index(p, r)) for r in REGIONS), state]
        )
    widths = [2.0 * cm, 1.6 * cm, *[1.65 * cm] * (1 + len(REGIONS)), 3.0 * cm]
    return [
        table(rows, widths),
        para("Index unit: OD_hb (optical density of haemoglobin); higher is redder.", SMALL),
    ]


def _thumbnail(path: Path, box: tuple[float, float]) -> Image:
    """A downscaled JPEG copy of an image file (a stored photo can be 12 MP), fitted into *box* (points)."""
    with PILImage.open(path) as src:
        src.draft("RGB", (960, 960))  # JPEG: decode at a reduced scale, much faster for 12-MP photos
        img = src.convert("RGB")
    img.thumbnail((480, 480))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=80)
    w, h = img.size
    scale = min(box[0] / w, box[1] / h)
    buf.seek(0)
    return Image(buf, width=w * scale, height=h * scale)


def _image(store: PhotoStore, relpath: str | None, box: tuple[float, float]) -> Image | None:
    """Thumbnail of a stored file, or ``None`` if there is none or it is missing or unreadable."""
    if relpath is None:
        return None
    try:
        return _thumbnail(store.path(relpath), box)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None


def _caption(p: Photo) -> str:
    whole = redness(p)
    q = quality(p)
    if whole is None:
        return "Not measured."
    state = "quality ok" if q.ok else "quality: " + ", ".join(q.warnings)
    return f"Redness index {float(whole.index):.3f} {whole.unit or ''}; {state}."


def photos(photos: Sequence[Photo], store: PhotoStore) -> list[Flowable]:
    """One row per photo whose consent allows sharing: thumbnail, redness heatmap, caption; notes for others.

    Photos kept private by their consent choice, and photos whose file is missing or unreadable, are listed
    in notes instead.
    """
    rows: list[list[Flowable | str]] = []
    notes: list[str] = []
    for p in photos:
        label = f"{p.taken_on.isoformat()}, " + ("baseline" if p.is_baseline else f"day {p.day}")
        if p.consent not in SHAREABLE_CONSENTS:
            notes.append(f"Photo of {label}: not shown, the patient kept it private (consent: {p.consent}).")
            continue
        image = _image(store, p.file_path, THUMB)
        if image is None:
            notes.append(f"Photo of {label}: the stored file is missing or unreadable; skipped.")
            continue
        heatmap = _image(store, p.heatmap_path, HEATMAP)
        rows.append(
            [image, heatmap or para("No heatmap available.", SMALL), para(f"{label}. {_caption(p)}", SMALL)]
        )
    out: list[Flowable] = []
    if rows:
        grid = Table(rows, colWidths=[5.0 * cm, 6.2 * cm, 4.8 * cm], hAlign="LEFT")
        grid.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
        out.append(grid)
    elif not notes:
        out.append(para("No photos were recorded for this treatment."))
    out += bullets(notes, SMALL)
    return out


def triage_history(checkins: Sequence[CheckIn]) -> list[Flowable]:
    """Table of the daily check-ins: self-rating, symptoms, triage urgency and its first reason."""
    if not checkins:
        return [para("No check-ins were recorded for this treatment.")]
    rows = [["Date", "Day", "Self-rating 0-4", "Symptoms", "Urgency", "Reason"]]
    for c in checkins:
        verdict = c.triage or {}
        reasons = verdict.get("reasons") or []
        rows.append(
            [
                c.checked_on.isoformat(),
                str(c.day),
                str(c.self_rating),
                ", ".join(SYMPTOMS.get(s, s) for s in c.symptoms or []) or "none",
                str(verdict.get("urgency", "-")).replace("_", " "),
                str(reasons[0]["text"]) if reasons else "",
            ]
        )
    return [table(rows, [2.0 * cm, 1.0 * cm, 1.8 * cm, 3.6 * cm, 2.0 * cm, 6.0 * cm])]


def todays_plan(entry: dict[str, Any] | None, day_today: int) -> list[Flowable]:
    """Today's do/avoid lists from the aftercare plan, or why there is none."""
    if entry is None:
        return [para(f"Today is day {day_today}; the day-by-day aftercare plan covers days 0 to 14.")]
    out: list[Flowable] = [para(f"Day {entry['day']} ({entry['date']}). Do:")]
    out += bullets(entry["do"])
    out.append(para("Avoid:"))
    out += bullets(entry["avoid"] or ["nothing specific today"])
    if entry.get("caution"):
        out.append(para("Use with caution:"))
        out += bullets(entry["caution"])
    if entry.get("expect"):
        out.append(para(f"Redness: {entry['expect']}"))
    return out


def spacer(height: float = 0.3 * cm) -> Spacer:
    """Vertical space."""
    return Spacer(1, height)
