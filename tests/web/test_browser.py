"""Browser test: Debian's chromium (headless, via Playwright) through the whole patient journey.

sign-up -> treatment -> photo upload -> timeline -> check-in -> ingredient check; screenshots of every step
are saved under ``test-artifacts/browser/``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from pathlib import Path

import pytest

from .live import live_server, mailed_link

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="chromium not installed (make test installs it)"
)


def test_patient_journey(tmp_path: Path, faces_dir: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    treated = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    with live_server(tmp_path) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1).new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        try:
            page.goto(f"{base}/signup")
            page.fill("#email", "pat@example.org")
            page.fill("#password", "a long enough passphrase")
            page.click("button[type=submit]")
            expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
            page.goto(base + mailed_link(tmp_path, "pat@example.org", "/account/verify"))
            expect(page.get_by_role("heading", name="Address confirmed")).to_be_visible()
            page.goto(f"{base}/")
            expect(page.get_by_role("heading", name="Your treatments")).to_be_visible()
            page.screenshot(path=ARTIFACTS / "1-signed-up.png", full_page=True)

            page.click("text=Record a treatment")
            page.fill("#treated_on", treated)
            page.fill("#depth_mm", "1.0")
            page.fill("#passes", "2")
            page.check("input[name=bleeding]")
            page.click("button:has-text('Save treatment')")
            expect(page.get_by_role("heading", name="Expected redness")).to_be_visible()
            expect(page.locator("text=Today is")).to_contain_text("day 1")
            page.screenshot(path=ARTIFACTS / "2-treatment.png", full_page=True)

            page.click("text=Add a photo")
            capture_url = page.url
            page.set_input_files("#file", str(faces_dir / "obama-480p.jpg"))
            quality = page.locator("#quality")
            expect(quality).to_have_text(
                re.compile("Photo quality looks fine|Before you save"), timeout=30_000
            )
            expect(page.locator(".capture .preview")).to_be_visible()
            page.check("input[name=consent][value=private]")
            page.screenshot(path=ARTIFACTS / "3-capture.png", full_page=True)
            page.click("button:has-text('Save photo')")
            expect(page.get_by_role("heading", name="Redness")).to_be_visible(timeout=30_000)
            page.screenshot(path=ARTIFACTS / "4-photo.png", full_page=True)

            page.click("text=Timeline")
            expect(page.locator("svg.chart").first).to_be_visible()
            page.screenshot(path=ARTIFACTS / "5-timeline.png", full_page=True)
            timeline_url = page.url

            # a baseline photo, then a follow-up under warmer light: the check warns before saving
            page.goto(capture_url)
            page.set_input_files("#file", str(faces_dir / "obama2.jpg"))
            page.fill("#taken_on", treated)
            page.check("input[name=is_baseline]")
            page.check("input[name=consent][value=private]")
            page.click("button:has-text('Save photo')")
            expect(page.get_by_role("heading", name="Baseline photo")).to_be_visible(timeout=30_000)
            page.goto(capture_url)
            page.set_input_files("#file", str(warm_photo(faces_dir / "obama2.jpg", tmp_path)))
            advice = page.locator("#quality")
            expect(advice).to_contain_text(
                "same place and light as your before-treatment photo", timeout=30_000
            )
            expect(advice).not_to_contain_text("_")  # plain-language messages, not warning codes
            page.screenshot(path=ARTIFACTS / "5b-capture-other-light.png", full_page=True)
            page.goto(timeline_url)

            page.click("text=Daily check-in")
            page.check("input[name=self_rating][value='3']")
            page.check("input[name=symptoms][value=breathing_difficulty]")
            page.click("button:has-text('Check')")
            verdict = page.locator(".verdict.emergency")
            expect(verdict).to_be_visible()
            expect(verdict).to_contain_text("EMERGENCY")
            expect(page.locator(".sources").first).to_contain_text("Source:")
            page.screenshot(path=ARTIFACTS / "6-checkin-emergency.png", full_page=True)

            page.goto(f"{base}/ingredients")
            page.fill("#text", "Aqua, Glycerin, Retinol, Parfum")
            page.click("button:has-text('Check')")
            expect(page.locator(".tag.avoid").first).to_be_visible()
            page.screenshot(path=ARTIFACTS / "7-ingredients.png", full_page=True)
        finally:
            browser.close()
    assert errors == []  # no console errors (CSP violations would show here)


def warm_photo(source: Path, folder: Path) -> Path:
    """*source* under warmer light (linear-light gains 1.15 red, 0.85 blue) with sunglasses and a new
    background (nothing to match the light on), saved as a JPEG in *folder*."""
    import numpy as np
    from PIL import Image

    from needlecare.imaging.colour import linear_to_srgb, srgb_to_linear

    from .test_photos import in_another_place, with_sunglasses

    rgb = np.asarray(Image.open(source).convert("RGB"), dtype=np.float32) / 255
    warm = linear_to_srgb(srgb_to_linear(rgb) * np.array([1.15, 1.0, 0.85], dtype=np.float32))
    path = folder / "warm.jpg"
    shaded = with_sunglasses(in_another_place(np.clip(np.round(warm * 255), 0, 255).astype(np.uint8)))
    Image.fromarray(shaded).save(path, quality=95)
    return path
