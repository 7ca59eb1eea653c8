"""The clock the actions read: ``now()`` and ``localdate()``.

Normally Django's ``timezone.now()``. The demo loader replays ninety days of a service hall
through the real actions and the real SLA timers, so for that replay the actions must believe
it is the simulated moment: ``frozen_at(when)`` sets it for the current context (a
``ContextVar``: other threads and requests are untouched) until the block ends.

Only code that writes a business time (case accepted, task claimed, timer due, audit event…)
reads this clock; sessions, login throttling, tokens and the TOTP check keep the real time.
Nothing in a request sets the clock: ``frozen_at`` is for the demo loader (and tests).
``time-machine`` stays a test dependency; this is the one run-time seam.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime

from django.utils import timezone

_frozen: ContextVar[datetime | None] = ContextVar("gongzhi_clock", default=None)


def now() -> datetime:
    """The current time (aware), or the frozen moment inside ``frozen_at``."""
    return _frozen.get() or timezone.now()


def localdate() -> date:
    """Today in the project's time zone, by :func:`now`."""
    return timezone.localtime(now()).date()


def is_frozen() -> bool:
    return _frozen.get() is not None


@contextmanager
def frozen_at(when: datetime) -> Iterator[datetime]:
    """Make :func:`now` return ``when`` (aware) inside the block; nests, restores on exit."""
    if timezone.is_naive(when):
        raise ValueError("frozen_at needs an aware datetime")
    token = _frozen.set(when)
    try:
        yield when
    finally:
        _frozen.reset(token)
