"""The worker loop: durable timers plus periodic jobs (audit sealing, feed polls…).

Several workers on several machines may run at once: timers are claimed with a conditional
UPDATE and the audit sealer locks the chain head, so nothing fires twice. SIGTERM/SIGINT finish
the current tick and exit cleanly.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

from django.conf import settings
from django.db import close_old_connections

from gongzhi.core import registry
from gongzhi.core.actions import claim_due_timers, run_timer

log = logging.getLogger("gongzhi.worker")


class Worker:
    def __init__(self, poll_seconds: float | None = None) -> None:
        self.poll_seconds = poll_seconds if poll_seconds is not None else settings.WORKER_POLL_SECONDS
        self.stopping = False

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        self.stopping = True

    def tick(self) -> int:
        """One pass: due timers, then periodic jobs. Returns how many timers ran."""
        ran = 0
        for timer in claim_due_timers():
            run_timer(timer)
            ran += 1
        for key, job in list(registry.REGISTRY.periodic.items()):
            try:
                job()
            except Exception:
                log.exception("periodic job %s failed", key)
        return ran

    def run_forever(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        log.info("worker started (poll %.1fs)", self.poll_seconds)
        while not self.stopping:
            close_old_connections()
            try:
                ran = self.tick()
            except Exception:
                log.exception("worker tick failed")
                ran = 0
            if not ran:
                # Sleep in small steps so a stop signal is honoured quickly.
                slept = 0.0
                while slept < self.poll_seconds and not self.stopping:
                    time.sleep(0.1)
                    slept += 0.1
        log.info("worker stopped")
