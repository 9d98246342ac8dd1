"""Every page of the app in Debian's Chromium, as a patient with data sees it: axe-core (WCAG 2.1 A/AA) finds
no violation at 390x844 and 1280x800, no page scrolls sideways at 320 px (WCAG 1.4.10 reflow), and a
screenshot of each page at both sizes is saved under ``test-artifacts/pages/`` for review.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from .live import live_server, mailed_link

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium not installed (make test installs it)"),
]


def _seed(page: Any, base: str, faces_dir: Path, tmp_path: Path) -> dict[str, str]:
    """Sign up, record a treatment, a photo, a check-in and an ingredient check; the pages to visit."""
    treated = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=2)).isoformat()
    page.goto(f"{base}/signup")
    page.fill("#email", "pat@example.org")
    page.fill("#password", "a long enough passphrase")
    page.click("main button[type=submit]")
    page.wait_for_selector("text=Check your inbox")
    page.goto(base + mailed_link(tmp_path, "pat@example.org", "/account/verify"))
    page.wait_for_selector("text=Address confirmed")
    page.goto(f"{base}/treatments/new")
    page.fill("#treated_on", treated)
    page.fill("#depth_mm", "1.0")
    page.check("input[name=cold_sore]")
    page.click("button:has-text('Save treatment')")
    treatment = page.url.removeprefix(base)
    page.goto(f"{base}{treatment}/photos/new")
    page.set_input_files("#file", str(faces_dir / "obama.jpg"))
    page.fill("#taken_on", (dt.date.fromisoformat(treated) - dt.timedelta(days=1)).isoformat())
    page.check("input[name=is_baseline]")
    page.check("input[name=consent][value=private]")
    page.click("button:has-text('Save photo')")
    page.wait_for_url(re.compile(r"/photos/\d+$"))
    page.goto(f"{base}{treatment}/photos/new")
    page.set_input_files("#file", str(faces_dir / "obama-480p.jpg"))
    page.check("input[name=consent][value=private]")
    page.click("button:has-text('Save photo')")
    page.wait_for_url(re.compile(r"/photos/\d+$"))
    photo = page.url.removeprefix(base)
    page.goto(f"{base}{treatment}/checkins/new")
    page.check("input[name=self_rating][value='2']")
    page.check("input[name=symptoms][value=warmth]")
    page.click("main button:has-text('Check')")
    page.wait_for_url(re.compile(r"/checkins/\d+$"))
    checkin = page.url.removeprefix(base)
    page.goto(f"{base}{treatment}/checkins/new")
    page.check("input[name=self_rating][value='1']")
    page.check("input[name=symptoms][value=pus]")
    page.click("main button:has-text('Check')")
    page.wait_for_url(re.compile(r"/checkins/\d+$"))
    red_checkin = page.url.removeprefix(base)
    return {
        "home": "/",
        "treatment-new": "/treatments/new",
        "treatment": treatment,
        "treatment-edit": f"{treatment}/edit",
        "photo-new": f"{treatment}/photos/new",
        "photo": photo,
        "timeline": f"{treatment}/timeline",
        "checkin-new": f"{treatment}/checkins/new",
        "checkin": checkin,
        "checkin-red": red_checkin,
        "photo-delete": f"{photo}/delete",
        "treatment-delete": f"{treatment}/delete",
        "ingredients": f"/ingredients?treatment={treatment.rsplit('/', 1)[-1]}",
        "learn": "/learn",
        "learn-ingredients": "/learn/soothing-and-avoid-ingredients",
        "learn-warning-signs": "/learn/when-to-seek-medical-attention",
        "reminders": "/reminders",
        "account": "/account",
        "clinics": "/clinics",
        "newsletter": "/newsletter",
        "password-forgot": "/password/forgot",
        "password-reset": "/password/reset?token=from-the-mail",
        "verify-link-used": "/account/verify?token=not-a-real-token",
    }


def _axe(page: Any) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations", WCAG
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]} for v in result]


def _sideways(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: no horizontal scrolling)."""
    width: int = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    return width


def _clinic(browser: Any, base: str, tmp_path: Path, patient: Any) -> tuple[Any, dict[str, str]]:
    """A clinic whose admin invites the seeded patient, who joins (their red check-in becomes a flag); the
    admin's browser page and the staff pages to visit."""
    staff = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True).new_page()
    staff.goto(f"{base}/signup")
    staff.fill("#email", "doc@example.org")
    staff.fill("#password", "a long enough passphrase")
    staff.click("main button[type=submit]")
    staff.wait_for_selector("text=Check your inbox")
    staff.goto(base + mailed_link(tmp_path, "doc@example.org", "/account/verify"))
    staff.goto(f"{base}/clinics")
    staff.fill("#name", "Skin Studio")
    staff.fill("#emergency_contact", "Call 030 1234 5678 (24 h) · Example Street 1, Berlin")
    staff.click("main button:has-text('Create clinic')")
    staff.wait_for_url(re.compile(r"/clinics/\d+$"))
    clinic = staff.url.removeprefix(base)
    staff.fill("#email", "pat@example.org")
    staff.select_option("#role", "patient")
    staff.click("main button:has-text('Send invitation')")
    link = staff.locator("code.invite-link").inner_text()
    patient.goto(link)
    patient.check("input[name=consent]")
    patient.click("main button:has-text('Join')")
    patient.wait_for_url(re.compile(r"/clinics/\d+$"))
    staff.goto(f"{base}{clinic}/dashboard")
    staff.wait_for_selector("ul.flags li")
    patient_page = staff.locator("ul.flags a").first.get_attribute("href")
    assert patient_page is not None
    return staff, {"clinic": clinic, "dashboard": f"{clinic}/dashboard", "clinic-patient": patient_page}


def test_every_page_is_accessible_and_reflows_on_a_phone(tmp_path: Path, faces_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert AXE.exists(), "axe-core is missing: run `make test` (npm ci installs it from package-lock.json)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, Any] = {}
    with live_server(tmp_path) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844}, bypass_csp=True)
        page = context.new_page()
        pages = _seed(page, base, faces_dir, tmp_path)
        staff, staff_pages = _clinic(browser, base, tmp_path, page)
        page.goto(f"{base}{pages['ingredients']}")
        page.fill(
            "#text", "Aqua, Tocopherol, Parfum, Retinol, Ethylhexyl Methoxycinnamate, Panthenol, Xyzzy Root"
        )
        page.click("main button:has-text('Check')")
        page.screenshot(path=ARTIFACTS / "ingredients-result-phone.png", full_page=True)
        problems["ingredients-result"] = {"axe": _axe(page), "sideways": 0}
        visits = [(page, name, path) for name, path in pages.items()]
        visits += [(staff, name, path) for name, path in staff_pages.items()]
        for viewer, name, path in visits:
            for size, (width, height) in SIZES.items():
                viewer.set_viewport_size({"width": width, "height": height})
                viewer.goto(f"{base}{path}")
                viewer.screenshot(path=ARTIFACTS / f"{name}-{size}.png", full_page=True)
                found = _axe(viewer)
                if found:
                    problems[f"{name}-{size}"] = {"axe": found}
            viewer.set_viewport_size({"width": 320, "height": 700})
            viewer.goto(f"{base}{path}")
            if (extra := _sideways(viewer)) > 0:
                problems.setdefault(f"{name}-320", {})["sideways"] = extra
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}{pages['timeline']}")
        smallest = page.evaluate(
            """() => Math.min(...[...document.querySelectorAll('svg.chart text')].map(
                t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))"""
        )
        assert smallest >= 12, f"chart labels are {smallest:.1f} px on a phone"
        page.goto(f"{base}/")
        nav = page.locator("#main-nav")
        header = page.locator("header.top").bounding_box()
        assert header is not None
        assert header["height"] < 80  # one line on a phone, not three
        assert not nav.is_visible()
        page.click("button.menu-toggle")
        assert nav.is_visible()
        assert page.locator("button.menu-toggle").get_attribute("aria-expanded") == "true"
        page.set_viewport_size({"width": 1280, "height": 800})
        assert nav.is_visible()
        assert not page.locator("button.menu-toggle").is_visible()
        problems.update(_form_errors_and_first_screen(page, base, pages))
        browser.close()
    problems = {k: v for k, v in problems.items() if v.get("axe") or v.get("sideways")}
    assert problems == {}, json.dumps(problems, indent=1)


def _in_first_screen(page: Any, selector: str) -> bool:
    box = page.locator(selector).first.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def _form_errors_and_first_screen(page: Any, base: str, pages: dict[str, str]) -> dict[str, Any]:
    """On a phone: the red card's actions and the capture buttons need no scrolling; a refused form comes
    back filled in with its errors inline, the summary focused, and passes axe at both sizes."""
    found: dict[str, Any] = {}
    page.set_viewport_size(dict(zip(("width", "height"), SIZES["phone"], strict=True)))
    page.goto(f"{base}/")
    assert _in_first_screen(page, "section.today.alert h2")
    assert _in_first_screen(page, 'section.today a:has-text("Take today\'s photo")')
    page.goto(f"{base}{pages['photo-new']}")
    assert _in_first_screen(page, "button[data-pick-camera]")
    page.goto(f"{base}{pages['photo']}")  # a delete asks first; cancelling keeps the photo
    page.click("a:has-text('Delete this photo')")
    page.wait_for_url(re.compile(r"/photos/\d+/delete$"))
    assert page.locator("main button:has-text('Delete')").is_visible()
    page.click("main a:has-text('Cancel')")
    page.wait_for_url(re.compile(r"/photos/\d+$"))
    page.goto(f"{base}{pages['photo']}")
    slider = page.locator("figure.slider input[type=range]")
    assert slider.is_visible()
    assert not page.locator(".pair").is_visible()  # the side-by-side pair is what shows without JavaScript
    slider.fill("80")
    assert "80%" in page.locator("figure.slider img.after").evaluate("img => img.style.clipPath")
    for size in ("phone", "desktop"):
        page.set_viewport_size(dict(zip(("width", "height"), SIZES[size], strict=True)))
        page.goto(f"{base}/treatments/new")
        page.evaluate("document.querySelector('main form').noValidate = true")
        page.fill("#treated_on", "2026-11-20")
        page.fill("#depth_mm", "9")
        page.fill("#notes", "kept after the error")
        page.click("button:has-text('Save treatment')")
        page.wait_for_load_state()
        assert page.locator("#depth_mm-error").is_visible()
        assert page.locator("#depth_mm").get_attribute("aria-invalid") == "true"
        assert page.input_value("#notes") == "kept after the error"
        assert page.evaluate("document.activeElement.id") == "error-summary"
        assert page.locator("#main-nav a[href='/account']").count() == 1  # still logged in
        page.screenshot(path=ARTIFACTS / f"treatment-form-errors-{size}.png", full_page=True)
        if violations := _axe(page):
            found[f"treatment-form-errors-{size}"] = {"axe": violations}
    return found
