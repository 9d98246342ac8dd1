"""Run the ``needlecare`` console script with stdout and/or stderr on pseudo-terminals (the rest to files).

A pseudo-terminal is what an operator's shell gives the command, so ``isatty()`` and Rich see a terminal
exactly as in real use; a file stands for ``> log`` or a pipe.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Collection
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO

NEEDLECARE = str(Path(sys.executable).parent / "needlecare")

#: ANSI/VT100 escape sequences (CSI and private modes such as the cursor's ``ESC[?25l``).
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

#: Environment variables with which Rich (or click) treat any stream as a terminal.
FORCING = {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1"}


@dataclass
class Output:
    """What the command wrote to each stream (pseudo-terminal line endings ``\\r\\n`` made ``\\n``)."""

    returncode: int
    stdout: str
    stderr: str


def plain(text: str) -> str:
    """*text* without escape sequences, each line as last drawn (what follows its last ``\\r``)."""
    lines = ESCAPE.sub("", text).split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


def finished_bar(label: str, total: int) -> re.Pattern[str]:
    """A progress bar's line when all is done, in :func:`plain` text: *label*, the bar (``━`` or, without
    UTF-8, ``-``), ``total/total`` and ``100%``."""
    return re.compile(rf"^{re.escape(label)} +\S+ +{total}/{total} +100%", re.MULTILINE)


def _drain(master: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the command has closed its end
            return
        if not chunk:
            return
        into += chunk


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def run_needlecare(
    args: list[str],
    *,
    terminals: Collection[str] = (),
    screen: bool = False,
    env: dict[str, str] | None = None,
    timeout_s: float = 120,
) -> Output:
    """Run ``needlecare ARGS`` (stdin from ``/dev/null``) and collect what it wrote.

    Parameters
    ----------
    terminals
        The streams (``"stdout"``, ``"stderr"``) each on its own 100-column pseudo-terminal; the others go
        to files.
    screen
        Both streams on one pseudo-terminal, as in an operator's shell: :attr:`Output.stdout` is everything it
        showed, :attr:`Output.stderr` is empty.
    """
    environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", **(env or {})}
    names = ("stdout", "stderr")
    with ExitStack() as stack:
        ends: dict[str, int | IO[bytes]] = {}
        masters: dict[str, int] = {}
        try:
            for name in names:
                if screen and name == "stderr":
                    ends[name] = ends["stdout"]
                elif screen or name in terminals:
                    masters[name], ends[name] = os.openpty()
                    stack.callback(os.close, masters[name])
                else:
                    ends[name] = stack.enter_context(tempfile.TemporaryFile())
            proc = subprocess.Popen(
                [NEEDLECARE, *args],
                stdin=subprocess.DEVNULL,
                stdout=ends["stdout"],
                stderr=ends["stderr"],
                env=environment,
            )
        finally:  # only the command holds the terminals now: reading them ends when it exits
            for end in {end for end in ends.values() if isinstance(end, int)}:
                os.close(end)
        stack.callback(_stop, proc)
        captured = {name: bytearray() for name in masters}
        readers = [
            threading.Thread(target=_drain, args=(masters[n], captured[n]), daemon=True) for n in masters
        ]
        for reader in readers:
            reader.start()
        proc.wait(timeout_s)
        for reader in readers:
            reader.join(timeout_s)
        text = dict.fromkeys(names, "")
        for name, end in ends.items():
            if name in masters:
                data = bytes(captured[name])
            elif isinstance(end, int):  # stderr on the screen: read with stdout
                continue
            else:
                end.seek(0)
                data = end.read()
            text[name] = data.decode().replace("\r\n", "\n")
    return Output(proc.returncode, text["stdout"], text["stderr"])
