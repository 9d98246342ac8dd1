"""``needlecare newsletter send``'s progress bar, with the console script on real pseudo-terminals: drawn on
stderr when stderr is a terminal (whatever stdout is), never an escape sequence when it is not (even with
Rich told by the environment to treat every stream as a terminal); and a mail that fails in-process is one
line above the bar, not a traceback."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from .live import free_port
from .newsletter_install import CONFIRMED, Install, newsletter_install
from .terminal import ESCAPE, FORCING, finished_bar, plain, run_needlecare

#: The bar's last state: description, bar, mails done of all, percentage.
DONE = finished_bar("sending", len(CONFIRMED))
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


def test_on_one_screen_the_summary_comes_after_the_bar(install: Install) -> None:
    """As in an operator's shell: the preview, the bar (erased when done), then the summary line."""
    out = run_needlecare(send(install), screen=True)
    assert out.returncode == 0, out.stdout
    shown = plain(out.stdout)
    done = DONE.search(shown)
    assert done is not None, out.stdout
    assert shown.index("Preview:") < done.start()
    assert shown.rstrip().splitlines()[-1] == SUMMARY
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


def test_mails_failing_in_process_are_one_line_each_above_the_bar(install: Install) -> None:
    closed = free_port()  # nothing listens: every connection is refused
    smtp = {"NEEDLECARE_SMTP_BACKEND": "smtp", "NEEDLECARE_SMTP_HOST": "127.0.0.1"}
    env = {**smtp, "NEEDLECARE_SMTP_PORT": str(closed), "COLUMNS": "400"}  # Rich wraps lines at the width
    out = run_needlecare(send(install), terminals=("stderr",), env=env)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    lines = [line for line in plain(out.stderr).splitlines() if line.startswith("needlecare: ")]
    assert len(lines) == len(CONFIRMED) + 1, out.stderr
    for line in lines[:-1]:
        assert re.fullmatch(
            r"needlecare: in-process job send_mail\(\d+\) failed; it will be retried "
            rf"\(needlecare\.mail\.MailError: SMTP delivery via 127\.0\.0\.1:{closed} failed: .*refused\)",
            line,
        ), line
    assert lines[-1].startswith(f"needlecare: {len(CONFIRMED)} mails could not be sent now")
    assert DONE.search(plain(out.stderr)), plain(out.stderr)
    assert {r.status for r in install.deliveries()} == {"retrying"}
