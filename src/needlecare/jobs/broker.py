"""The Dramatiq broker from settings: Redis for ``redis://`` URLs, none (in-process jobs) otherwise.

The Redis broker acknowledges a message only after its actor has finished (Dramatiq's default), so a worker
killed mid-job leaves the message to be redelivered once its heartbeat is older than
``broker_heartbeat_timeout_ms``. Failed jobs are retried with exponential backoff (Dramatiq's ``Retries``
middleware, ``job_max_retries``); after the last retry the message is dead-lettered (kept in the queue's
``.XQ`` set for a week, listed by ``needlecare jobs dead``) and :class:`GiveUp` records the failure on the
job's row.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    Middleware,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from needlecare.settings import Settings

logger = logging.getLogger(__name__)

#: Longest a single job may run before it is interrupted, ms (photo analysis takes seconds).
TIME_LIMIT_MS = 10 * 60 * 1000

#: Called with (actor name, message args, error text) when a message is given up.
GiveUpHook = Callable[[str, tuple[Any, ...], str], None]


class GiveUp(Middleware):  # type: ignore[misc]
    """After ``Retries`` has failed a message for good, tell the application (to mark its row failed)."""

    def __init__(self, hook: GiveUpHook) -> None:
        self.hook = hook

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: Any = None
    ) -> None:
        if exception is None or not message.failed:
            return
        error = "".join(traceback.format_exception_only(type(exception), exception)).strip()
        try:
            self.hook(message.actor_name, tuple(message.args), error)
        except Exception:  # the hook must never take the worker down
            logger.exception("could not record the failure of message %s", message.message_id)


def middleware(settings: Settings, hook: GiveUpHook) -> list[Any]:
    """Dramatiq's default middleware with retries from *settings*, and :class:`GiveUp`.

    ``after_*`` hooks run in reverse order: :class:`GiveUp` is listed before ``Retries`` to see its verdict.
    """
    return [
        AgeLimit(),
        TimeLimit(time_limit=TIME_LIMIT_MS),
        ShutdownNotifications(),
        Callbacks(),
        Pipelines(),
        GiveUp(hook),
        Retries(
            max_retries=settings.jobs.job_max_retries,
            min_backoff=settings.jobs.job_min_backoff_ms,
            max_backoff=settings.jobs.job_max_backoff_ms,
        ),
    ]


def make_broker(settings: Settings, hook: GiveUpHook) -> dramatiq.Broker | None:
    """The broker for ``settings.jobs.broker_url``: a :class:`RedisBroker`, or ``None`` (in-process jobs)."""
    if settings.jobs.broker_url is None:
        return None
    return RedisBroker(  # type: ignore[no-untyped-call]
        url=settings.jobs.broker_url,
        namespace=settings.jobs.broker_namespace,
        heartbeat_timeout=settings.jobs.broker_heartbeat_timeout_ms,
        maintenance_chance=settings.jobs.broker_maintenance_chance,
        middleware=middleware(settings, hook),
    )
