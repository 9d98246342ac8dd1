"""The ``face`` fixture: each ground-truth face with its landmarks and region masks."""

from __future__ import annotations

from pathlib import Path

import pytest
from face_fixtures import GROUND_TRUTH_FACES, Face, load_face


@pytest.fixture(scope="session", params=GROUND_TRUTH_FACES)
def face(request: pytest.FixtureRequest, faces_dir: Path) -> Face:
    return load_face(faces_dir, request.param)
