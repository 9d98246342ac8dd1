"""Guided capture in Chromium with a camera: "Take a photo" opens the front camera inside the page under the
face outline and the faint before-treatment photo; the frame taken is checked and saved like a chosen file.

The camera is Chromium's fake capture device playing a still of a test face (a Y4M file written here).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from .live import browser_patient_with_treatment, live_server
from .test_pages_a11y import ARGS, CHROMIUM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium not installed (make test installs it)"),
]

WIDTH, HEIGHT = 720, 960


def _camera_file(face: Path, path: Path) -> Path:
    """A one-frame Y4M video (4:2:0) of *face* centred on a portrait frame, as a phone's front camera sees."""
    with Image.open(face) as image:
        rgb = image.convert("RGB")
        rgb.thumbnail((WIDTH, HEIGHT))
        canvas = Image.new("RGB", (WIDTH, HEIGHT), (90, 90, 90))
        canvas.paste(rgb, ((WIDTH - rgb.width) // 2, (HEIGHT - rgb.height) // 2))
    yuv = cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2YUV_I420)
    path.write_bytes(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F30:1 Ip A1:1 C420jpeg\nFRAME\n".encode() + yuv.tobytes())
    return path


def test_take_a_photo_with_the_camera_inside_the_page(tmp_path: Path, faces_dir: Path) -> None:
    from playwright.sync_api import sync_playwright

    camera = _camera_file(faces_dir / "obama.jpg", tmp_path / "camera.y4m")
    args = [
        *ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ]
    with live_server(tmp_path) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
        treatment = browser_patient_with_treatment(page, base, tmp_path, "pat@example.org")
        page.goto(f"{base}{treatment}/photos/new")  # the before-treatment photo, from a file
        page.set_input_files("#file", str(faces_dir / "obama.jpg"))
        page.check("input[name=is_baseline]")
        page.check("input[name=consent][value=private]")
        page.click("button:has-text('Save photo')")
        page.wait_for_url(re.compile(r"/photos/\d+$"))

        page.goto(f"{base}{treatment}/photos/new")
        assert page.locator("img.guide").is_visible()  # the baseline, faintly over the camera
        assert "before-treatment photo is shown faintly" in page.text_content("main")
        page.click("button[data-pick-camera]")
        video = page.locator("video.live")
        video.wait_for(state="visible")
        assert page.locator(".capture .outline").is_visible()
        checked = page.locator("#quality.ok, #quality.warn")
        for _ in range(100):  # the shutter works once the camera delivers frames
            if video.evaluate("v => v.videoWidth") > 0:
                break
            page.wait_for_timeout(100)
        page.click("button[data-shoot]")
        checked.wait_for(timeout=60_000)
        assert not video.is_visible()  # the camera is switched off once the photo is taken
        assert page.locator("#file").evaluate("input => input.files[0].name") == "camera.jpg"
        assert page.locator(".capture .preview").is_visible()
        page.uncheck("input[name=is_baseline]")
        page.check("input[name=consent][value=private]")
        page.click("button:has-text('Save photo')")
        page.wait_for_url(re.compile(r"/photos/\d+$"))
        assert "Photo, day 0" in page.text_content("h1")
        browser.close()
