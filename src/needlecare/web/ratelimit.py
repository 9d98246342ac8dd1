"""In-process login rate limit: at most N failed attempts per (account, client IP) in a sliding window.

Good for the single-process embedded default; a multi-process deployment would keep the counters in Redis.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginRateLimiter:
    """Count failures per key; ``retry_after`` > 0 means the key is locked for that many seconds.

    Parameters
    ----------
    max_failures
        Failures allowed inside the window before further attempts are refused.
    window_s
        Sliding window length in seconds.
    clock
        Monotonic time source in seconds (injectable for tests).
    """

    def __init__(
        self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and now - q[0] >= self.window_s:
            q.popleft()
        return q

    def retry_after(self, account: str, ip: str) -> int:
        """Seconds until another attempt is allowed (0 if allowed now)."""
        key = (account.lower(), ip)
        with self._lock:
            now = self._clock()
            q = self._prune(key, now)
            if len(q) < self.max_failures:
                return 0
            return max(1, int(q[0] + self.window_s - now + 0.999))

    def record_failure(self, account: str, ip: str) -> None:
        """Count one failed attempt."""
        key = (account.lower(), ip)
        with self._lock:
            self._prune(key, self._clock()).append(self._clock())

    def reset(self, account: str, ip: str) -> None:
        """Forget the failures of a key (after a successful login)."""
        with self._lock:
            self._failures.pop((account.lower(), ip), None)
