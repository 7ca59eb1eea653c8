"""``gongzhi demo``: load the Shenzhen demo data (places, users, people, and every app's share).

Everything runs in one transaction: Ctrl-C (or any error) rolls back, so an interrupted load
leaves no half-written data. Each app's loader is idempotent, so running it twice is harmless.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

from gongzhi.core.actors import DEMO
from gongzhi.core.registry import REGISTRY


def load_demo(stdout: Any = None, *, verbose: bool = True) -> list[tuple[str, str, str, str]]:
    """Run every registered demo loader in one transaction; return the demo logins."""
    logins: list[tuple[str, str, str, str]] = []
    out = stdout or sys.stdout
    with transaction.atomic():
        total = len(REGISTRY.demo_loaders)
        for n, loader in enumerate(REGISTRY.demo_loaders, start=1):
            started = time.monotonic()

            def progress(message: str, _key: str = loader.key) -> None:
                if verbose:
                    out.write(f"    {_key}: {message}\n")

            if verbose:
                out.write(f"[{n}/{total}] {loader.key} …\n")
            result = loader.load(actor=DEMO, progress=progress)
            if isinstance(result, list):
                logins.extend(result)
            if verbose:
                out.write(f"[{n}/{total}] {loader.key} done in {time.monotonic() - started:.1f}s\n")
    return logins


def print_logins(out: Any, logins: list[tuple[str, str, str, str]]) -> None:
    if not logins:
        return
    out.write("\n演示账号 Demo logins (demo data only — change before real use):\n")
    # The role choices are named by a setting (like AUTH_USER_MODEL): core imports no app.
    labels = dict(import_string(settings.GONGZHI_ROLE_CHOICES).choices)
    width = max(len(row[0]) for row in logins)
    for username, password, role, place in logins:
        label = labels.get(role, role)
        out.write(f"  {username.ljust(width)}  {password}  {label} · {place}\n")
    for note in REGISTRY.demo_notes.values():
        out.write(note(logins))


class Command(BaseCommand):
    help = "Load the Shenzhen demo data (idempotent; interruptible without half-written data)"

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            logins = load_demo(self.stdout)
        except KeyboardInterrupt as exc:
            raise CommandError("已中断，演示数据未写入 (interrupted: nothing was written)") from exc
        print_logins(self.stdout, logins)
