"""Shared benchmark plumbing: a throw-away database per backend, a real server, a load driver.

Each backend runs in its own child process (Django settings are per process). Figures are
printed with a baseline measured in the same run, because these machines are shared and noisy.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
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
def web_server(env: dict[str, str], workers: int | None = None, threads: int | None = None) -> Iterator[int]:
    """The HTTP server exactly as ``gongzhi run`` starts it (gongzhi.core.server), without the
    access log; yields its port once /api/v1/health answers."""
    from gongzhi.core.server import web_command

    workers = workers or int(os.environ.get("BENCH_WORKERS", 2))
    # As `gongzhi run` (see run.py): one thread per worker on SQLite, four on PostgreSQL.
    default_threads = 4 if "postgres" in env.get("DATABASE_URL", "") else 1
    threads = threads or int(os.environ.get("BENCH_THREADS", default_threads))
    port = free_port()
    cmd = web_command("127.0.0.1", port, workers, threads, access_log=False)
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
    client_cpu_seconds: float = 0.0  # CPU of this whole process during the run (the load driver's cost)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def client_ms_per_request(self) -> float:
        """The driver's own CPU per completed request (any status), in milliseconds."""
        n = self.ok + self.errors
        return self.client_cpu_seconds / n * 1000 if n else float("nan")

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        data = sorted(self.latencies)
        return data[min(len(data) - 1, int(len(data) * p))]


TIMEOUT = 30.0  # seconds without a complete response before a request counts as failed (status 0)
_HEADERS = re.compile(rb"\r\n(content-length|transfer-encoding|connection)[ \t]*:[ \t]*([^\r]*)")


class _Client:
    """One client: its keep-alive connection and the response being read on it."""

    __slots__ = ("body_at", "buf", "chunk_at", "chunked", "cid", "close", "deadline", "head", "length", "n",
                 "out", "sock", "status", "t0", "writing")

    def __init__(self, cid: int) -> None:
        self.cid = cid
        self.n = 0
        self.sock: socket.socket | None = None
        self.out = b""  # request bytes not yet sent
        self.writing = False  # registered for EVENT_WRITE (only while a request did not fit the send buffer)
        self.buf = bytearray()
        self.head = False  # HEAD request: the response has no body whatever its headers say
        self.t0 = self.deadline = 0.0
        self.status = 0  # 0 until the response head has been read
        self.body_at = 0
        self.length = 0  # body length; -1: chunked or read until the server closes
        self.chunked = False
        self.chunk_at = 0  # next unparsed chunk-size line of a chunked body
        self.close = False


def _chunked_end(buf: bytearray, at: int) -> tuple[int, int]:
    """Parse a chunked body from ``at``: (end of the message or -1, where parsing stopped)."""
    while True:
        eol = buf.find(b"\r\n", at)
        if eol < 0:
            return -1, at
        size = int(bytes(buf[at:eol]).split(b";", 1)[0], 16)
        if size == 0:  # last chunk, then optional trailer fields, then an empty line
            if buf[eol + 2:eol + 4] == b"\r\n":
                return eol + 4, at
            end = buf.find(b"\r\n\r\n", eol)
            return (end + 4 if end >= 0 else -1), at
        if len(buf) < eol + 2 + size + 2:
            return -1, at
        at = eol + 2 + size + 2


def drive(port: int, make_request: Callable[[int, int], tuple[str, str, dict[str, str], bytes]],
          clients: int, seconds: float) -> LoadResult:
    """``clients`` keep-alive HTTP/1.1 connections, each sending one request after another for
    ``seconds``; every request is built by ``make_request(client id, request number)``.

    Written by hand on purpose: client and server share this 2-core machine, so every
    millisecond of CPU the load driver spends is taken from the server being measured.
    ``http.client`` with one thread per client (response headers parsed by the ``email``
    package, a GIL hand-off per request) cost ~0.4 ms of CPU per health check and ~0.9 ms per
    submission here. This single-threaded ``selectors`` loop over raw non-blocking sockets
    (measured 2-2.5x cheaper, and cheaper than raw sockets in threads) encodes each request
    with one join and reads only what it needs from the response: the status line and the
    framing (Content-Length, Transfer-Encoding: chunked, else until the server closes), plus
    Connection: close. It adds Host and Content-Length itself (``make_request`` must not).
    A socket error or ``TIMEOUT`` counts as status 0 and the client reconnects, as after
    Connection: close. ``client_cpu_seconds`` is the whole process' CPU during the run.
    """
    result = LoadResult()
    latencies, statuses = result.latencies, result.statuses
    sel = selectors.DefaultSelector()
    host = f"Host: 127.0.0.1:{port}\r\n"
    ready = [_Client(cid) for cid in range(clients)]  # clients with no request in flight
    busy: set[_Client] = set()
    cpu0 = time.process_time()
    start = time.monotonic()
    stop_at = start + seconds

    def disconnect(c: _Client) -> None:
        if c.sock is not None:
            sel.unregister(c.sock)
            c.sock.close()
            c.sock = None

    def finish(c: _Client, status: int) -> None:
        latencies.append(time.perf_counter() - c.t0)
        statuses[status] = statuses.get(status, 0) + 1
        if 200 <= status < 300:
            result.ok += 1
        else:
            result.errors += 1
        if status == 0 or c.close:
            disconnect(c)
        busy.discard(c)
        ready.append(c)

    def send(c: _Client) -> None:
        assert c.sock is not None
        try:
            sent = c.sock.send(c.out)
        except BlockingIOError:
            sent = 0
        except OSError:
            finish(c, 0)
            return
        c.out = c.out[sent:]
        if bool(c.out) != c.writing:
            c.writing = not c.writing
            events = selectors.EVENT_READ | selectors.EVENT_WRITE if c.writing else selectors.EVENT_READ
            sel.modify(c.sock, events, c)

    def begin(c: _Client) -> None:
        method, path, headers, body = make_request(c.cid, c.n)
        c.n += 1
        fields = "".join([f"{k}: {v}\r\n" for k, v in headers.items()])
        length = f"Content-Length: {len(body)}\r\n" if body or method in ("POST", "PUT", "PATCH") else ""
        c.out = f"{method} {path} HTTP/1.1\r\n{host}{fields}{length}\r\n".encode("latin-1") + body
        c.head = method == "HEAD"
        c.status = 0
        c.close = False
        c.buf.clear()
        c.t0 = time.perf_counter()
        c.deadline = c.t0 + TIMEOUT
        busy.add(c)
        if c.sock is None:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            except OSError:
                finish(c, 0)
                return
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ, c)
            c.sock, c.writing = sock, False
        send(c)

    def parse_head(c: _Client) -> bool:
        """Read the status line and framing headers once the head is complete."""
        buf = c.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = bytes(buf[:end + 2]).lower()
            version, status = head.split(None, 2)[:2]
            c.status = int(status)
            if c.status >= 200:
                break
            del buf[:end + 4]  # 1xx: an interim response, the real one follows
        fields = dict(_HEADERS.findall(head))
        c.close = b"close" in fields.get(b"connection", b"") or (
            version == b"http/1.0" and b"keep-alive" not in fields.get(b"connection", b""))
        c.body_at = end + 4
        c.chunked = False
        if c.head or c.status in (204, 304):
            c.length = 0
        elif b"chunked" in fields.get(b"transfer-encoding", b""):
            c.length, c.chunked, c.chunk_at = -1, True, c.body_at
        elif b"content-length" in fields:
            c.length = int(fields[b"content-length"])
        else:  # no framing: the body runs until the server closes the connection
            c.length, c.close = -1, True
        return True

    def receive(c: _Client) -> None:
        assert c.sock is not None
        try:
            data = c.sock.recv(262144)
        except BlockingIOError:
            return
        except OSError:
            finish(c, 0)
            return
        if not data:  # closed by the server: complete only if the body was "until close"
            finish(c, c.status if c.status and c.length == -1 and not c.chunked else 0)
            return
        c.buf += data
        if not c.status and not parse_head(c):
            return
        if c.chunked:
            end, c.chunk_at = _chunked_end(c.buf, c.chunk_at)
            if end >= 0:
                finish(c, c.status)
        elif c.length >= 0 and len(c.buf) >= c.body_at + c.length:
            finish(c, c.status)

    check_at = 0.0
    while ready or busy:
        if ready:
            if time.monotonic() < stop_at:
                todo, ready = ready, []
                for c in todo:
                    begin(c)
            else:
                for c in ready:
                    disconnect(c)
                ready.clear()
            continue
        for key, mask in sel.select(1.0):
            c = key.data
            if mask & selectors.EVENT_WRITE and c.out:
                send(c)
            if mask & selectors.EVENT_READ and c in busy:
                try:
                    receive(c)
                except ValueError:  # a malformed status line, length or chunk size
                    finish(c, 0)
        now = time.perf_counter()
        if now >= check_at:
            check_at = now + 1.0
            for c in [c for c in busy if now > c.deadline]:
                finish(c, 0)
    sel.close()
    result.seconds = time.monotonic() - start
    result.client_cpu_seconds = time.process_time() - cpu0
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
