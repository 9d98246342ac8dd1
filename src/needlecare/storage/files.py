"""Photo file store: write to a staging file first, move into place only after the database commit.

Directories are created 0700 and files 0600 (:mod:`needlecare.storage.private`). Stored paths are relative
(``<user_id>/<uuid>.jpg``) and always resolved inside the store's root, so a row can never point outside it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from needlecare.storage.private import private_dir, write_new_private


class PhotoStore:
    """Files under *root*: ``root/<user_id>/<name>`` for photos, ``root/.staging/`` for uploads in flight."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.staging = self.root / ".staging"

    def new_relpath(self, user_id: int, suffix: str = ".jpg") -> str:
        """A fresh, unguessable relative path for one of *user_id*'s photos."""
        return f"{int(user_id)}/{uuid.uuid4().hex}{suffix}"

    def path(self, relpath: str) -> Path:
        """Absolute path of *relpath*; raises ``ValueError`` if it escapes the root."""
        full = (self.root / relpath).resolve()
        if not full.is_relative_to(self.root) or full == self.root:
            raise ValueError(f"photo path {relpath!r} is outside the photo store")
        return full

    def stage(self, data: bytes) -> Path:
        """Write *data* to a new staging file (mode 0600) and return its path (not yet visible as a photo)."""
        private_dir(self.root)
        private_dir(self.staging)
        return write_new_private(self.staging / f"{uuid.uuid4().hex}.part", data, sync=True)

    def publish(self, staged: Path, relpath: str) -> Path:
        """Move a staged file to its final place (atomic rename on one file system)."""
        final = self.path(relpath)
        private_dir(final.parent)
        os.replace(staged, final)
        return final

    def discard(self, staged: Path) -> None:
        """Remove a staged file if it is still there."""
        staged.unlink(missing_ok=True)

    def delete(self, relpath: str) -> None:
        """Remove one stored photo file (missing files are ignored)."""
        self.path(relpath).unlink(missing_ok=True)

    def delete_user(self, user_id: int) -> None:
        """Remove every stored file of *user_id*."""
        shutil.rmtree(self.path(str(int(user_id))), ignore_errors=True)

    def count_files(self) -> int:
        """Number of files in the store, staging included (used to prove failed uploads leave nothing)."""
        if not self.root.exists():
            return 0
        return sum(1 for p in self.root.rglob("*") if p.is_file())
