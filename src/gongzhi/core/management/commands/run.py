"""``gongzhi run``: migrate, load the demo data if the database is empty, then serve.

Processes (DESIGN.md §4, FIELD-NOTES): HTTP through granian's WSGI server (WSGI — several times
the throughput of an ASGI server here; granian's Rust HTTP layer took ~20% less CPU per request
than gunicorn's threaded worker in bench/intake.py), websockets through one daphne (ASGI) process
on PORT+1, and the worker loop. This command supervises them: Ctrl-C or SIGTERM stops all three; if one dies
the others are stopped too, so a half-running platform never stays up unnoticed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from gongzhi.core.files import private_dir
from gongzhi.core.management.commands.demo import load_demo, print_logins
from gongzhi.core.server import web_command


def database_is_empty() -> bool:
    """Nothing was ever written: every write is an action, and every action leaves an audit event
    (core's own table — core does not look into the apps' tables)."""
    from gongzhi.core.models import AuditEvent

    return not AuditEvent.objects.exists()


class Command(BaseCommand):
    help = "Start Gongzhi: web server, websocket server and worker (migrates and loads demo data first)"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        # One process per core; on SQLite one thread per process: measured by bench/intake.py,
        # threads in one process convoy on the GIL while one of them holds SQLite's write lock
        # (2 workers × 1 thread took ~200 submissions/s where 2 × 4 took ~130 on 2 cores).
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", os.cpu_count() or 2)))
        # PostgreSQL has no single write lock, and threads overlap its round trips.
        threads = "4" if settings.IS_POSTGRES else "1"
        parser.add_argument("--web-threads", type=int, default=int(os.environ.get("WEB_THREADS", threads)))
        parser.add_argument("--no-demo", action="store_true", help="do not load demo data into an empty database")
        parser.add_argument("--no-worker", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        private_dir(settings.VAR_DIR)
        self.stdout.write("migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        logins: list[tuple[str, str, str, str]] = []
        if not options["no_demo"] and database_is_empty():
            self.stdout.write("empty database: loading the Shenzhen demo data …")
            logins = load_demo(self.stdout)
        elif not options["no_demo"]:
            # Already loaded: the loaders are idempotent and return the logins without writing.
            logins = load_demo(self.stdout, verbose=False)

        host, port = options["host"], options["port"]
        ws_port = port + 1
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "gongzhi.settings", "GONGZHI_WS_PORT": str(ws_port)}
        # A real server, not the development server: DEBUG off unless asked for (with DEBUG on,
        # Django records every SQL query of every request — measured ~20% of intake time).
        env.setdefault("DEBUG", "false")
        procs: dict[str, subprocess.Popen[bytes]] = {}
        procs["web"] = subprocess.Popen(web_command(host, port, options["web_workers"], options["web_threads"]), env=env)  # noqa: S603
        procs["websocket"] = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "daphne", "-b", host, "-p", str(ws_port), "gongzhi.asgi:application"], env=env
        )
        if not options["no_worker"]:
            procs["worker"] = subprocess.Popen([sys.executable, "-m", "gongzhi.cli", "worker"], env=env)

        url_host = f"[{host}]" if ":" in host else host
        print_logins(self.stdout, logins)
        self.stdout.write(self.style.SUCCESS(f"\n共治 Gongzhi is running on http://{url_host}:{port}/  (Ctrl-C to stop)"))
        self.stdout.write(f"websockets on ws://{url_host}:{ws_port}/  ·  API docs http://{url_host}:{port}/api/v1/docs\n")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with {proc.returncode}; stopping the rest")
                    exit_code = proc.returncode or 1
                    stopping = True
                    break
            time.sleep(0.5)
        for proc in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.stdout.write("stopped")
        if exit_code:
            sys.exit(exit_code)
