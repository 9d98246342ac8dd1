"""``needlecare newsletter send``'s progress bar, with the console script on real pseudo-terminals: drawn on
stderr when stderr is a terminal (whatever stdout is), never an escape sequence when it is not (even with
Rich told by the environment to treat every stream as a terminal)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .newsletter_install import CONFIRMED, Install, newsletter_install
from .terminal import ESCAPE, FORCING, plain, run_needlecare

#: The bar's last state: description, bar, mails done of all, percentage.
DONE = re.compile(rf"^sending +━+ +{len(CONFIRMED)}/{len(CONFIRMED)} +100%", re.MULTILINE)
SUMMARY = f"queued {len(CONFIRMED)} mails; {len(CONFIRMED)} sent"


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    with newsletter_install(tmp_path, monkeypatch) as installed:
        yield installed


def send(install: Install) -> list[str]:
    return ["newsletter", "send", "--yes", "--subject", "Week 2 tips", str(install.issue)]


@pytest.mark.parametrize("terminals", [("stderr",), ("stdout", "stderr")], ids=["stderr", "both"])
def test_on_a_terminal_stderr_shows_the_bar_and_stdout_stays_plain(
    install: Install, terminals: tuple[str, ...]
) -> None:
    out = run_needlecare(send(install), terminals=terminals)
    assert out.returncode == 0, out.stderr
    assert ESCAPE.search(out.stderr), out.stderr  # drawn with cursor movements
    assert DONE.search(plain(out.stderr)), plain(out.stderr)
    assert "Traceback" not in out.stderr
    assert ESCAPE.search(out.stdout) is None
    assert out.stdout.rstrip().endswith(SUMMARY)
    assert sorted(str(m["To"]) for m in install.outbox()) == CONFIRMED


@pytest.mark.parametrize("terminals", [(), ("stdout",)], ids=["none", "stdout"])
def test_without_a_terminal_on_stderr_nothing_but_text_is_printed(
    install: Install, terminals: tuple[str, ...]
) -> None:
    out = run_needlecare(send(install), terminals=terminals, env=FORCING)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert "\x1b" not in out.stdout
    assert out.stdout.rstrip().endswith(SUMMARY)
    assert sorted(str(m["To"]) for m in install.outbox()) == CONFIRMED
