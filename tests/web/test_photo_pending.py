"""A photo measured in the background: the upload is answered at once, and the photo page shows the result
as soon as it is stored (it asks for the photo's status, and reloads itself once the analysis is done)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from .live import browser_patient_with_treatment, live_server
from .test_pages_a11y import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium not installed (make test installs it)"),
]


def test_the_photo_page_shows_the_analysis_once_the_background_job_has_stored_it(
    tmp_path: Path, faces_dir: Path
) -> None:
    from playwright.sync_api import sync_playwright

    overrides = {"job_runner": "background", "worker_processes": 1}
    with live_server(tmp_path, **overrides) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        treatment = browser_patient_with_treatment(page, base, tmp_path, "pat@example.org")

        polled: list[str] = []
        page.on("request", lambda r: polled.append(r.url) if "/api/v1/photos/" in r.url else None)
        page.goto(f"{base}{treatment}/photos/new")
        page.set_input_files("#file", str(faces_dir / "obama.jpg"))
        page.check("input[name=is_baseline]")
        page.check("input[name=consent][value=private]")
        page.click("button:has-text('Save photo')")
        page.wait_for_url(re.compile(r"/photos/\d+$"))
        photo_id = page.url.rsplit("/", 1)[1]
        # Answered before the analysis: the page says the photo is being measured (the first worker process
        # is still loading MediaPipe).
        assert page.locator("#analysis-pending").is_visible()

        page.locator("#analysis-pending").wait_for(state="detached", timeout=90_000)
        assert page.locator("#analysis-failed").count() == 0
        assert "redness" in page.text_content("main").lower()
        assert f"{base}/api/v1/photos/{photo_id}" in polled
        browser.close()
