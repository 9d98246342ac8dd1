"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Jobs run inside the call that enqueued them, so a test sees their effect at once; the background runner
# that `needlecare serve` uses by default is tested on its own (tests/jobs/test_background_runner.py).
os.environ.setdefault("NEEDLECARE_JOB_RUNNER", "inline")

#: Real face photographs (see tests/fixtures/faces/README.md for their origin and licence).
FACES_DIR = Path(__file__).resolve().parent / "fixtures" / "faces"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The test photographs of real faces, kept in the repository for tests only (not in the package)."""
    if not FACES_DIR.is_dir():
        pytest.skip(f"test photos not found at {FACES_DIR}")
    return FACES_DIR


@pytest.fixture(
    scope="session",
    params=("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "biden2.jpg", "alex_lacamoire1.jpg"),
)
def face(request: pytest.FixtureRequest, faces_dir: Path) -> object:
    """Each frontal single-face photo used for ground truth, with its landmarks and region masks."""
    from face_fixtures import load_face  # tests/analysis; imported late so other tests skip MediaPipe

    return load_face(faces_dir, request.param)
