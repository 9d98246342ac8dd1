"""Smoke test of the benchmark's photo builder (benchmarks/bench_analyze.py): no timing, a small photo."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image, JpegImagePlugin

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_analyze.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_analyze", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_analyze", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("source", "size"), [("obama3.jpg", (403, 302)), ("biden.jpg", (320, 480))])
def test_build_phone_photo_writes_a_decodable_jpeg_of_the_requested_size(
    bench: ModuleType, faces_dir: Path, tmp_path: Path, source: str, size: tuple[int, int]
) -> None:
    dest = tmp_path / "phone.jpg"

    result = bench.build_phone_photo(faces_dir / source, dest, size=size, quality=92)

    assert result == dest
    with Image.open(dest) as im:
        assert im.format == "JPEG"
        assert im.size == size
        assert JpegImagePlugin.get_sampling(im) == 2  # 4:2:0
        rgb = np.asarray(im.convert("RGB"))
    assert rgb.shape == (size[1], size[0], 3)
    # A real picture, not a flat canvas: the pasted face and the blurred background differ.
    assert rgb.std() > 10
    # The face spans 25-35 % of the width, like a phone selfie (same detector that scaled it).
    face_width = bench._face_box(np.ascontiguousarray(rgb[..., ::-1]))[2]
    assert 0.25 <= face_width / size[0] <= 0.35


def test_build_phone_photo_is_reproducible_for_a_seed(
    bench: ModuleType, faces_dir: Path, tmp_path: Path
) -> None:
    first = bench.build_phone_photo(faces_dir / "obama3.jpg", tmp_path / "a.jpg", size=(200, 150), seed=3)
    second = bench.build_phone_photo(faces_dir / "obama3.jpg", tmp_path / "b.jpg", size=(200, 150), seed=3)
    other = bench.build_phone_photo(faces_dir / "obama3.jpg", tmp_path / "c.jpg", size=(200, 150), seed=4)

    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()


def test_build_phone_photo_refuses_a_photo_without_a_face(bench: ModuleType, tmp_path: Path) -> None:
    flat = tmp_path / "flat.jpg"
    Image.new("RGB", (300, 200), (120, 130, 140)).save(flat)

    with pytest.raises(ValueError, match="no face"):
        bench.build_phone_photo(flat, tmp_path / "out.jpg", size=(200, 150))
