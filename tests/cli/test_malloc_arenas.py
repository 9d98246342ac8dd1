"""The server limits glibc's memory arenas, so photos decoded in many request threads do not keep memory."""

from __future__ import annotations

import platform

import pytest

from needlecare.cli.web import MALLOC_ARENAS, limit_malloc_arenas


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_accepts_the_arena_limit() -> None:
    assert limit_malloc_arenas(MALLOC_ARENAS) is True
