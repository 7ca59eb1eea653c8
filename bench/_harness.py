"""Shared benchmark plumbing: a throw-away database per backend, a real server, a load driver.

Each backend runs in its own child process (Django settings are per process). Figures are
printed with a baseline measured in the same run, because these machines are shared and noisy.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@contextlib.contextmanager
def backend_env(backend: str, name: str) -> Iterator[dict[str, str]]:
    """Environment for a fresh database of ``backend`` ("sqlite" or "postgres")."""
    var = Path(tempfile.mkdtemp(prefix=f"gongzhi-bench-{name}-"))
    # DEBUG off as deployed: with DEBUG on, Django wraps every cursor to record each query.
    env = {**os.environ, "GONGZHI_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
           "LOG_LEVEL": "WARNING", "DEBUG": "false"}
    env.pop("DATABASE_URL", None)
    dbname = f"gongzhi_bench_{name}_{os.getpid()}"
    if backend == "postgres":
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}"')
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname
    try:
        yield env
    finally:
        shutil.rmtree(var, ignore_errors=True)
        if backend == "postgres":
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int | None = None, threads: int | None = None) -> Iterator[int]:
    workers = workers or int(os.environ.get("BENCH_WORKERS", 2))
    # As `gongzhi run` (see run.py): one thread per worker on SQLite, four on PostgreSQL.
    default_threads = 4 if "postgres" in env.get("DATABASE_URL", "") else 1
    threads = threads or int(os.environ.get("BENCH_THREADS", default_threads))
    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", "gongzhi.wsgi:application", "--bind", f"127.0.0.1:{port}",
           "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
           "--log-level", "warning", "--keep-alive", "30"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/v1/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            raise RuntimeError("server did not start")
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@dataclass
class LoadResult:
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * p))]


def drive(port: int, make_request: Callable[[int, int], tuple[str, str, dict[str, str], bytes]],
          clients: int, seconds: float) -> LoadResult:
    """``clients`` threads with keep-alive connections, each sending requests for ``seconds``."""
    result = LoadResult()
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    start = time.monotonic()

    def client(cid: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        n = 0
        ok = err = 0
        lat: list[float] = []
        statuses: dict[int, int] = {}
        while time.monotonic() < stop_at:
            method, path, headers, body = make_request(cid, n)
            n += 1
            t0 = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                status = 0
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            lat.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if 200 <= status < 300:
                ok += 1
            else:
                err += 1
        with lock:
            result.ok += ok
            result.errors += err
            result.latencies.extend(lat)
            for k, v in statuses.items():
                result.statuses[k] = result.statuses.get(k, 0) + v

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.monotonic() - start
    return result


def run_child(script: Path, backend: str, env: dict[str, str], *args: str) -> dict[str, object]:
    """Run ``script --child BACKEND`` with ``env``; it prints one JSON line prefixed RESULT."""
    out = subprocess.run(
        [sys.executable, str(script), "--child", backend, *args], env=env, cwd=ROOT,
        capture_output=True, text=True, check=False,
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]
    sys.stderr.write(out.stdout[-4000:] + out.stderr[-4000:])
    raise RuntimeError(f"{script.name} {backend} failed (exit {out.returncode})")
