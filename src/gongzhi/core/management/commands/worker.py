from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from gongzhi.core.worker import Worker


class Command(BaseCommand):
    help = "Run the worker: durable timers (SLA warnings, overdue marks…) and periodic jobs"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run one tick and exit")
        parser.add_argument("--poll", type=float, default=None, help="seconds between idle ticks")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = Worker(poll_seconds=options["poll"])
        if options["once"]:
            ran = worker.tick()
            self.stdout.write(f"ran {ran} timer(s)")
            return
        worker.run_forever()
