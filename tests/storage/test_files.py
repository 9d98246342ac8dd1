"""The photo file store: staging, publishing, deletion, path confinement."""

from __future__ import annotations

from pathlib import Path

import pytest

from needlecare.storage.files import PhotoStore


def test_stage_publish_delete(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path / "photos")
    staged = store.stage(b"abc")
    assert staged.read_bytes() == b"abc"
    rel = store.new_relpath(7)
    assert rel.startswith("7/")
    assert rel.endswith(".jpg")
    final = store.publish(staged, rel)
    assert not staged.exists()
    assert final.read_bytes() == b"abc"
    assert store.count_files() == 1
    store.delete(rel)
    assert store.count_files() == 0


def test_discard_removes_staged_file(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    staged = store.stage(b"x")
    store.discard(staged)
    assert store.count_files() == 0


def test_delete_user_removes_only_that_user(tmp_path: Path) -> None:
    store = PhotoStore(tmp_path)
    store.publish(store.stage(b"a"), store.new_relpath(1))
    store.publish(store.stage(b"b"), store.new_relpath(2))
    store.delete_user(1)
    assert not (tmp_path / "1").exists()
    assert store.count_files() == 1


@pytest.mark.parametrize("bad", ["../x.jpg", "/etc/passwd", "1/../../x", ""])
def test_paths_outside_root_are_refused(tmp_path: Path, bad: str) -> None:
    store = PhotoStore(tmp_path / "photos")
    with pytest.raises(ValueError, match="outside the photo store"):
        store.path(bad)
