"""How HTTP is served: one command line, used by ``gongzhi run`` and by bench/intake.py (so the
benchmark measures exactly what a deployment runs). No Django imports: the bench's parent
process builds the command without setting Django up."""

from __future__ import annotations

import sys


def web_command(host: str, port: int, workers: int, threads: int, *, access_log: bool = True) -> list[str]:
    """The HTTP server as ``gongzhi run`` starts it (bench/intake.py measures the same command).

    Each worker process runs ``threads`` request threads; connections are kept alive between
    requests, and a worker that dies is started again.
    """
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "gongzhi.wsgi:application",
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads),
        "--respawn-failed-workers", "--workers-kill-timeout", "10",
        "--no-ws",  # websockets go to daphne on the next port
        *(["--access-log"] if access_log else []), "--log-level", "info" if access_log else "warning",
    ]
