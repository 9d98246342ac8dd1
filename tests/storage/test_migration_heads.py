"""The migration history stays one straight line (parallel work must rebase its revision, not branch)."""

from __future__ import annotations

from itertools import pairwise

from alembic.script import ScriptDirectory

from needlecare.storage.migrate import alembic_config


def test_single_head_and_linear_history() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, script.get_heads()
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None
    for newer, older in pairwise(revisions):
        assert newer.down_revision == older.revision
