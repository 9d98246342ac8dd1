"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

#: Real face photographs (see tests/fixtures/faces/README.md for their origin and licence).
FACES_DIR = Path(__file__).resolve().parent / "fixtures" / "faces"


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    """The test photographs of real faces, kept in the repository for tests only (not in the package)."""
    if not FACES_DIR.is_dir():
        pytest.skip(f"test photos not found at {FACES_DIR}")
    return FACES_DIR
