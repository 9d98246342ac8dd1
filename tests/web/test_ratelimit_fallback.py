"""With the broker's Redis unreachable, rate limits count in the process instead of failing the request."""

from __future__ import annotations

import pytest

from needlecare.web.errors import RateLimitedError
from needlecare.web.ratelimit import RateLimits, Rule, enforce


def test_an_unreachable_store_still_limits_in_this_process(caplog: pytest.LogCaptureFixture) -> None:
    limits = RateLimits("redis://127.0.0.1:1/0")
    limits.add(Rule("signup", 2, 3600))
    enforce(limits, "signup", ip="192.0.2.7")
    enforce(limits, "signup", ip="192.0.2.7")
    with pytest.raises(RateLimitedError) as refused:
        enforce(limits, "signup", ip="192.0.2.7")
    assert int(refused.value.headers["Retry-After"]) > 0
    enforce(limits, "signup", ip="192.0.2.8")  # another address has its own counter
    assert "counting in this process" in caplog.text
