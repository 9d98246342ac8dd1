"""Rate limits on the `limits` library: one rule per action, counted per account and per client address.

The counters live in Redis when a broker is configured (``NEEDLECARE_BROKER_URL``), so every web process on
every machine shares them; otherwise in this process's memory. Each rule is a moving window: at most
``amount`` counted events in any ``window_s`` seconds, per key.

Keys are normalised here, once, for every caller: an account is its e-mail address stripped and lower-cased
(as login and sign-up store it), so ``"  Ann@Example.org"`` and ``"ann@example.org"`` share one counter.

When Redis cannot be reached, the counters fall back to this process's memory until it can again (a
warning is logged): the limits still hold per process, and no request fails because the broker is down.

Other routes call :func:`enforce` (count every request, refuse over the limit) with a rule of their own
added by :meth:`RateLimits.add`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from needlecare.settings import Settings
from needlecare.web.errors import RateLimitedError

log = logging.getLogger(__name__)

T = TypeVar("T")


def account_key(email: str) -> str:
    """The counter key of the account with *email*: stripped and lower-cased.

    Examples
    --------
    >>> account_key("  Ann@Example.ORG ")
    'account:ann@example.org'
    """
    return "account:" + email.strip().lower()


def address_key(ip: str) -> str:
    """The counter key of a client address."""
    return "address:" + ip


def storage_uri(settings: Settings) -> str:
    """The `limits` storage for *settings*: the broker's Redis, else this process's memory.

    Examples
    --------
    >>> storage_uri(Settings(broker_url="unix:///run/redis.sock"))
    'redis+unix:///run/redis.sock'
    >>> storage_uri(Settings(broker_url=None))
    'memory://'
    """
    url = settings.jobs.broker_url
    if url is None:
        return "memory://"
    return "redis+" + url if url.startswith("unix://") else url


@dataclass(frozen=True)
class Rule:
    """At most *amount* events per *window_s* seconds, per key.

    Attributes
    ----------
    name
        The action (``login``, ``signup``...), part of every counter's key.
    amount
        Events allowed inside the window.
    window_s
        Window length in seconds.
    """

    name: str
    amount: int
    window_s: int


class RateLimits:
    """The app's rules and their shared counters.

    Parameters
    ----------
    storage
        A `limits` storage URI (``memory://``, ``redis://host:port/db``).
    namespace
        Prefix of every counter key (the broker namespace: several apps may share one Redis; in Redis the
        keys are ``<namespace>:ratelimit:...``).
    """

    def __init__(self, storage: str, namespace: str = "needlecare") -> None:
        options = {"key_prefix": f"{namespace}:ratelimit"} if storage.startswith("redis") else {}
        found = storage_from_string(storage, **options)
        if not isinstance(found, Storage):
            raise ValueError(f"{storage!r} is not a synchronous rate-limit storage")
        self.storage = found
        self._limiter = MovingWindowRateLimiter(self.storage)
        self._local = MovingWindowRateLimiter(storage_from_string("memory://"))
        self._namespace = namespace
        self._items: dict[str, RateLimitItem] = {}
        self.rules: dict[str, Rule] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """The rules of *settings*: login per account and address, sign-up, password reset, invitations and
        newsletter subscribe requests."""
        limits = cls(storage_uri(settings), settings.jobs.broker_namespace)
        window = settings.web.login_window_s
        limits.add(Rule("login", settings.web.login_max_failures, window))
        limits.add(Rule("login-address", settings.web.login_address_max_failures, window))
        limits.add(Rule("signup", settings.web.signup_max_per_address, 3600))
        limits.add(Rule("password-reset", settings.web.login_max_failures, 3600))
        limits.add(Rule("password-reset-address", settings.web.login_address_max_failures, 3600))
        limits.add(Rule("invitation", settings.web.invitations_max_per_hour, 3600))
        newsletter = settings.newsletter
        limits.add(Rule("newsletter", newsletter.max_requests_per_ip, newsletter.request_window_s))
        return limits

    def add(self, rule: Rule) -> None:
        """Register (or replace) *rule*."""
        self.rules[rule.name] = rule
        self._items[rule.name] = RateLimitItemPerSecond(rule.amount, rule.window_s, namespace=self._namespace)

    def _run(self, action: Callable[[MovingWindowRateLimiter], T]) -> T:
        """*action* on the shared counters, or on this process's when the shared store cannot be reached."""
        if self._limiter is self._local:
            return action(self._local)
        try:
            return action(self._limiter)
        except Exception as exc:  # the storage's own connection errors (redis, ...): counted locally
            if "redis" not in type(exc).__module__ and not isinstance(exc, ConnectionError | OSError):
                raise
            log.warning("rate-limit storage unreachable (%s): counting in this process", exc)
            return action(self._local)

    def retry_after(self, rule: str, key: str) -> int:
        """Seconds until *key* may count another event under *rule* (0: allowed now)."""
        item = self._items[rule]

        def wait(limiter: MovingWindowRateLimiter) -> int:
            if limiter.test(item, rule, key):
                return 0
            stats = limiter.get_window_stats(item, rule, key)
            return max(1, math.ceil(stats.reset_time - time.time()))

        return self._run(wait)

    def hit(self, rule: str, key: str) -> None:
        """Count one event of *key* under *rule* (not counted once the limit is reached)."""
        self._run(lambda limiter: limiter.hit(self._items[rule], rule, key))

    def clear(self, rule: str, key: str) -> None:
        """Forget the events of *key* under *rule* (after a successful login)."""
        self._run(lambda limiter: limiter.clear(self._items[rule], rule, key))


def refuse(wait_s: int, what: str = "attempts") -> RateLimitedError:
    """The 429 error asking to wait *wait_s* seconds (with its ``Retry-After`` header)."""
    return RateLimitedError(
        f"Too many {what}. Try again in {wait_s} seconds.", headers={"Retry-After": str(wait_s)}
    )


def enforce(limits: RateLimits, rule: str, *, email: str | None = None, ip: str | None = None) -> None:
    """Count one request under *rule* for the account *email* and the client *ip*; 429 if either is over.

    The account's counter uses *rule*; the address's uses ``<rule>-address`` when that rule exists, else
    *rule* as well. Nothing is counted when the request is refused.

    Raises
    ------
    RateLimitedError
        One of the counters is at its limit; ``Retry-After`` says for how long.
    """
    counters = []
    if email is not None:
        counters.append((rule, account_key(email)))
    if ip is not None:
        counters.append((rule + "-address" if rule + "-address" in limits.rules else rule, address_key(ip)))
    wait = max((limits.retry_after(r, k) for r, k in counters), default=0)
    if wait:
        raise refuse(wait, "requests")
    for r, k in counters:
        limits.hit(r, k)
