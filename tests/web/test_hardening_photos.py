"""Photo memory stays bounded: megapixels decided from the header before decoding, a per-process cap on
decodes and analyses; ten oversize photos at once leave the server's peak memory under 1 GiB."""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from needlecare.jobs import slots
from needlecare.web.photos.limits import check_megapixels, header_size

from .conftest import PASSWORD, api_signup, api_treatment, api_upload, make_settings
from .live import free_port, http_signup

NEEDLECARE = str(Path(sys.executable).parent / "needlecare")


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 150, 130)).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def test_header_size_reads_dimensions_without_decoding() -> None:
    assert header_size(_jpeg(640, 480)) == (640, 480)
    assert header_size(b"not an image") is None
    check_megapixels(_jpeg(1000, 1000), 1.0)


def test_photo_over_the_megapixel_limit_gets_413_and_stores_nothing(tmp_path: Path) -> None:
    from needlecare.web.app import create_app

    app = create_app(make_settings(tmp_path, max_upload_megapixels=0.5), migrate=True)
    with TestClient(app, base_url="https://testserver") as client:
        headers = api_signup(client)
        tid = api_treatment(client, headers)
        r = api_upload(client, headers, tid, _jpeg(1000, 1000))
        assert r.status_code == 413
        assert "megapixels" in r.json()["detail"]
        files = {"file": ("face.jpg", _jpeg(1000, 1000), "image/jpeg")}
        assert client.post("/api/v1/photos/check", files=files, headers=headers).status_code == 413
        assert client.get(f"/api/v1/treatments/{tid}/photos").json() == []


def test_photo_slots_cap_concurrent_work() -> None:
    slots.set_photo_concurrency(2)
    running, peak = 0, 0
    lock = threading.Lock()

    def work() -> None:
        nonlocal running, peak
        with slots.photo_slot():
            with lock:
                running += 1
                peak = max(peak, running)
            time.sleep(0.05)
            with lock:
                running -= 1

    with ThreadPoolExecutor(8) as pool:
        for _ in range(8):
            pool.submit(work)
    assert peak == 2
    with pytest.raises(ValueError, match="at least 1"):
        slots.set_photo_concurrency(0)


def _limit_memory() -> None:
    """A safety net: a server that decoded the photos would fail instead of exhausting the machine."""
    resource.setrlimit(resource.RLIMIT_AS, (12 * 2**30, 12 * 2**30))


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _ten_checks_at_once(tmp_path: Path, photo: bytes) -> tuple[list[int], float, float]:
    """Start ``needlecare serve``, send *photo* to ``POST /api/v1/photos/check`` ten times at once.

    Returns the ten status codes, the seconds they took and the server's peak resident memory in MiB.
    """
    settings = make_settings(tmp_path)
    env = {
        **os.environ,
        "NEEDLECARE_ENVIRONMENT": "test",
        "NEEDLECARE_DATA_DIR": str(settings.data_dir),
        "NEEDLECARE_DATABASE_URL": settings.sqlalchemy_url,
        "NEEDLECARE_SECRET_KEY": "s" * 48,
        "NEEDLECARE_COOKIE_SECURE": "false",
        "NEEDLECARE_ARGON2_TIME_COST": "1",
        "NEEDLECARE_ARGON2_MEMORY_KIB": "64",
    }
    env.pop("NEEDLECARE_BROKER_URL", None)
    port = free_port()
    log = tmp_path / "serve.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [NEEDLECARE, "serve", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
            preexec_fn=_limit_memory,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 40
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                httpx.get(f"{base}/api/v1/auth/session", timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=120) as client:
            headers = http_signup(client, "ann@example.org", PASSWORD)
            cookies = dict(client.cookies)
        start = time.monotonic()

        def check(_: int) -> int:
            with httpx.Client(base_url=base, timeout=120, cookies=cookies) as c:
                files = {"file": ("photo.jpg", photo, "image/jpeg")}
                return c.post("/api/v1/photos/check", files=files, headers=headers).status_code

        with ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(check, range(10)))
        return codes, time.monotonic() - start, _peak_rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_ten_oversize_photos_at_once_keep_server_memory_under_1_gib(tmp_path: Path) -> None:
    big = _jpeg(10_900, 10_900)  # 119 MP in about 2 MB: under the byte limit
    assert len(big) < 15 * 2**20
    codes, elapsed, peak = _ten_checks_at_once(tmp_path, big)
    print(f"ten oversize checks: {elapsed:.2f} s, server peak RSS {peak:.0f} MiB")
    assert codes == [413] * 10
    assert peak < 1024


def test_ten_48_megapixel_photos_at_once_keep_server_memory_under_1_gib(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    texture = Image.fromarray((rng.random((600, 800, 3)) * 255).astype(np.uint8)).resize((8000, 6000))
    buffer = io.BytesIO()
    texture.save(buffer, "JPEG", quality=90)  # 48 MP in about 13 MB: under both limits, decoded in full
    codes, elapsed, peak = _ten_checks_at_once(tmp_path, buffer.getvalue())
    print(f"ten 48-MP checks: {elapsed:.2f} s, server peak RSS {peak:.0f} MiB")
    assert codes == [422] * 10  # no face: measured and refused
    assert peak < 1024
