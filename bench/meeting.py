"""Live meeting room benchmark (issues 4 and 12): a thousand phones in one process, five thousand
across processes, one ballot each.

Runs, each on a throw-away SQLite database with every member present:

* ``memory``: the embedded default (in-memory layer, one daphne process): a baseline of 10
  clients, then 1,000 clients;
* ``redis``: ``channels_redis`` with two (``--procs``) daphne processes, the clients spread
  evenly, so every update crosses processes: baseline 10, then 1,000, then 5,000 clients.

In each phase a fresh main motion is moved, seconded, stated and put to a vote; ``--voters``
(200) members vote at once, the chair announces the result. Measured: the time from the last
vote's acknowledgement until each client holds the announced result (p50/p99/max), clients that
never got it within 15 s (lost), and — read from the servers' logs — how often a hub's version
poll had to recover an update the channel layer never announced (recoveries; also the listener's
survived errors and any exception inside the application). Each figure is printed with its ratio to
the baseline of the same run and the machine's load average, because the machine is shared.
Targets: 1,000 in one process p99 < 250 ms; 5,000 across processes p99 < 1 s; nothing lost;
0 recoveries.

The clients are a minimal asyncio websocket client (RFC 6455 text frames) in this process; the
servers are separate daphne processes; everything is on 127.0.0.1. Loops are bounded in count
and time. Run: ``make bench`` or ``.venv/bin/python bench/meeting.py [--members 1000] [--big 5000]
[--procs 2] [--layers memory,redis]`` (``PYTHONPATH=src`` from a worktree).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, backend_env, free_port

from gongzhi.core.actors import EVERYTHING, SystemActor

BENCH = SystemActor("bench", frozenset({EVERYTHING}))
DECODER = json.JSONDecoder()


RESULT_TIMEOUT = 15.0  # a client without the result after this long counts as lost
# Thousands of handshakes queue on each server's one database thread; on a loaded shared box the
# last ones wait minutes (connecting is not what is measured).
HANDSHAKE_TIMEOUT = 600.0
# Votes queue on the servers' database threads the same way (each action costs more with every
# member of the roster): the bench waits, and prints how long the votes took.
ACK_TIMEOUT = 600.0
CONNECT_CONCURRENCY = 16
CONNECT_ATTEMPTS = 6
VOTERS = 200
# Lines the servers log (councils.room.RoomHub) that the bench counts.
RECOVERY_LINE = "the version poll recovered"
LISTEN_ERROR_LINE = "receiving from the channel layer failed"
LATE_LINE = "came after the poll recovered"
APP_ERROR_LINE = "Exception inside application"

# ------------------------------------------------------------------------------ child: seed


def seed(members: int) -> dict[str, Any]:
    """Runs in a child with Django configured: a council of ``members``, all present, sessions."""
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone

    from gongzhi.accounts.actions import do_assign_role, do_create_user
    from gongzhi.accounts.enums import Role
    from gongzhi.councils import actions
    from gongzhi.places.actions import do_create_place

    city = do_create_place("city", "B440300", "深圳市", None, actor=BENCH)
    district = do_create_place("district", "B440305", "南山区", city, actor=BENCH)
    sub = do_create_place("subdistrict", "B440305007", "桃源街道", district, actor=BENCH)
    place = do_create_place("community", "B440305007001", "平山社区", sub, actor=BENCH)
    record = actions.do_create_profile("bench-ronr", "RONR", "ronr", {}, actor=BENCH)
    council = actions.do_create_council("千人议事会", place, record, actor=BENCH)
    users = []
    for i in range(members):
        user = do_create_user(f"m{i}", f"成员{i}", None, actor=BENCH, validate=False)
        do_assign_role(user, Role.COUNCIL_MEMBER, place, actor=BENCH)
        actions.do_add_member(council, f"成员{i}", actor=BENCH, user=user)
        users.append(user)
    mod_user = do_create_user("mod", "主持人", None, actor=BENCH, validate=False)
    do_assign_role(mod_user, Role.COUNCIL_MODERATOR, place, actor=BENCH)
    moderator = actions.do_register_moderator(mod_user, place, actor=BENCH, display_name="主持人",
                                              certificate_no="B-1", certified_on=timezone.localdate())
    actions.do_assign_moderator(moderator, council, actor=BENCH)
    meeting = actions.do_schedule_meeting(council, "千人会议", timezone.now() + timedelta(hours=1), actor=BENCH,
                                          moderator=moderator)
    actions.do_start_meeting(meeting, actor=mod_user)
    for user in users:
        actions.do_apply_meeting_action(meeting, {"type": "arrive"}, actor=user)

    def cookie(user: Any) -> str:
        s = SessionStore()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        s.create()
        return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"

    return {"meeting": meeting.pk, "moderator": cookie(mod_user), "members": [cookie(u) for u in users]}


# ---------------------------------------------------------------------------- websocket client


class WS:
    """Just enough RFC 6455 for this benchmark: text frames, masked from the client, ping/pong."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int, path: str, cookie: str) -> WS:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                      f"Origin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\n\r\n").encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HANDSHAKE_TIMEOUT)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head[:200].decode(errors="replace"))
        return cls(reader, writer)

    def send(self, data: dict[str, Any]) -> None:
        payload = json.dumps(data).encode()
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81])
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(header + mask + masked)

    async def recv(self) -> dict[str, Any]:
        return json.loads(await self.recv_raw())  # type: ignore[no-any-return]

    async def recv_raw(self) -> bytes:
        chunks = b""
        while True:
            b0, b1 = await self.reader.readexactly(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
            data = await self.reader.readexactly(n)
            if opcode == 0x8:
                raise ConnectionError("closed by server")
            if opcode == 0x9:
                self.writer.write(bytes([0x8A, 0x80 | len(data)]) + b"\0\0\0\0" + data)
                continue
            chunks += data
            if b0 & 0x80:
                return chunks

    def close(self) -> None:
        self.writer.close()


@dataclass
class Client:
    ws: WS
    version: int = 0
    state: dict[str, Any] = field(default_factory=dict)
    got_result_at: float | None = None
    want: str | None = None  # motion id whose result we wait for
    light: bool = True  # members only look for the result; the moderator's client follows the state
    acks: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def run(self) -> None:
        try:
            while True:
                raw = await self.ws.recv_raw()
                arrived = time.perf_counter()
                if self.light and raw.startswith(b'{"type":"update"'):
                    # Five thousand clients share this one process: decode only the result of an
                    # update, or the bench would time its own JSON parsing, not the server.
                    if self.want is not None and self.got_result_at is None:
                        at = raw.find(b'"result":')
                        if at >= 0:
                            result, _ = DECODER.raw_decode(raw[at + 9:].decode())
                            if isinstance(result, dict) and result.get("motion_id") == self.want:
                                self.got_result_at = arrived
                    continue
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind in ("state", "update", "resync"):
                    if msg["version"] >= self.version:
                        self.version, self.state = msg["version"], msg["state"]
                    result = self.state.get("result") or {}
                    if self.want and result.get("motion_id") == self.want and self.got_result_at is None:
                        self.got_result_at = arrived
                elif kind in ("ack", "refused"):
                    await self.acks.put(msg)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return

    async def act(self, action: dict[str, Any]) -> dict[str, Any]:
        self.ws.send({"id": 1, "action": action})
        reply = await asyncio.wait_for(self.acks.get(), ACK_TIMEOUT)
        if reply["type"] != "ack":
            raise RuntimeError(f"{action} refused: {reply}")
        return reply


async def open_clients(ports: list[int], meeting: int, cookies: list[str]) -> list[Client]:
    clients: list[Client] = []
    # Connect in waves: a thousand handshakes at once is a SYN flood, and daphne drops a handshake
    # the application has not accepted within 5 s (each waits its turn on the database thread).
    sem = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int, cookie: str) -> Client:
        async with sem:
            for attempt in range(CONNECT_ATTEMPTS):  # as a phone does: retry with backoff
                try:
                    ws = await WS.connect(ports[i % len(ports)], f"/ws/meetings/{meeting}/", cookie)
                    first = await asyncio.wait_for(ws.recv(), HANDSHAKE_TIMEOUT)
                    break
                except (ConnectionError, asyncio.IncompleteReadError):
                    if attempt == CONNECT_ATTEMPTS - 1:
                        raise
                    await asyncio.sleep(0.5 * 2 ** attempt)
            c = Client(ws)
            c.version, c.state = first["version"], first["state"]
            return c

    clients = list(await asyncio.gather(*(one(i, c) for i, c in enumerate(cookies))))
    for c in clients:
        c.task = asyncio.get_running_loop().create_task(c.run())  # type: ignore[attr-defined]
    return clients


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    data = sorted(values)
    return data[min(len(data) - 1, int(len(data) * p))]


async def ballot(ports: list[int], data: dict[str, Any], n_clients: int, n_voters: int, label: str) -> dict[str, Any]:
    meeting = data["meeting"]
    t_connect = time.perf_counter()
    clients = await open_clients(ports, meeting, data["members"][:n_clients])
    connect_s = time.perf_counter() - t_connect
    (mod,) = await open_clients(ports, meeting, [data["moderator"]])
    mod.light = False
    mover, seconder = clients[0], clients[1]
    # A fresh main motion: floor, move, second, state, call the vote.
    await mover.act({"type": "request_floor"})
    await asyncio.sleep(0.05)
    state = await _until(mod, lambda s: bool(s.get("queue")))
    member_id = state["queue"][-1]["member"]
    await mod.act({"type": "recognize", "member": member_id})
    await mover.act({"type": "move", "kind": "main", "text": f"{label}：每月开一次议事会"})
    await seconder.act({"type": "second"})
    await mod.act({"type": "state_question"})
    await mod.act({"type": "call_vote"})
    state = await _until(mod, lambda s: s.get("ballot") is not None)
    motion = state["ballot"]["motion_id"]
    for c in clients:
        c.want, c.got_result_at = motion, None
    voters = clients[:n_voters]
    t_votes = time.perf_counter()
    await asyncio.gather(*(v.act({"type": "cast_vote", "choice": "aye" if i % 3 else "no"})
                           for i, v in enumerate(voters)))
    last_vote = time.perf_counter()
    await mod.act({"type": "announce_result"})
    deadline = time.monotonic() + RESULT_TIMEOUT
    while time.monotonic() < deadline and any(c.got_result_at is None for c in clients):
        await asyncio.sleep(0.01)
    lat = [c.got_result_at - last_vote for c in clients if c.got_result_at is not None]
    lost = sum(1 for c in clients if c.got_result_at is None)
    for c in [*clients, mod]:
        c.task.cancel()  # type: ignore[attr-defined]
        c.ws.close()
    await asyncio.sleep(0.5)  # let the servers see the sockets go before the next phase
    return {"clients": n_clients, "voters": n_voters, "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
            "max": max(lat) if lat else float("nan"), "lost": lost, "connect_s": connect_s,
            "votes_s": last_vote - t_votes}


async def _until(c: Client, check: Any, timeout: float = 60) -> dict[str, Any]:
    """Wait until the client's latest state satisfies ``check`` (bounded)."""
    deadline = time.monotonic() + timeout
    while not check(c.state):
        if time.monotonic() > deadline:
            raise TimeoutError("state never arrived")
        await asyncio.sleep(0.02)
    return c.state


# --------------------------------------------------------------------------------- orchestrate


def daphnes(env: dict[str, str], count: int, log_path: Path) -> tuple[list[subprocess.Popen[bytes]], list[int]]:
    procs, ports = [], []
    for _ in range(count):
        port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "gongzhi.asgi:application"],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(log_path, "ab")))
        ports.append(port)
    import socket

    for port in ports:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("daphne did not start") from None
                time.sleep(0.2)
    return procs, ports


def server_counts(log_path: Path) -> dict[str, int]:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return {"recoveries": text.count(RECOVERY_LINE), "late": text.count(LATE_LINE),
            "listen_errors": text.count(LISTEN_ERROR_LINE),
            "app_errors": text.count(APP_ERROR_LINE)}


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def run_layer(name: str, sizes: list[int], redis: bool, procs_count: int, voters: int) -> dict[str, Any]:
    members = max(sizes)
    with backend_env("sqlite", f"meeting-{name}") as env:
        if redis:
            env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
        env.pop("GONGZHI_WS_PORT", None)
        code = ("import django, json, sys; django.setup()\n"
                "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
                "sys.path.insert(0, 'bench'); from meeting import seed\n"
                f"print('SEED ' + json.dumps(seed({members})))")
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                             check=False, timeout=3600)
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-3000:])
        data = json.loads(next(line for line in out.stdout.splitlines() if line.startswith("SEED "))[5:])
        print(f"  [{name}] seeded {members} members, all present, in {time.perf_counter() - t:.0f} s", flush=True)
        # The servers' log (counted per phase as a difference, so an existing file is fine).
        log_path = Path(os.environ.get("BENCH_DAPHNE_LOG") or Path(env["GONGZHI_VAR_DIR"]) / "daphne.log")
        procs, ports = daphnes(env, procs_count, log_path)
        phases = []
        try:
            for n in [10, *sizes]:
                before = server_counts(log_path)
                row = asyncio.run(ballot(ports, data, n, min(voters, n) if n > 10 else 5,
                                         "基线" if n == 10 else f"{n}人"))
                after = server_counts(log_path)
                row.update({k: after[k] - before[k] for k in after}, load=load())
                phases.append(row)
                print(f"  [{name}] {n} clients: p99 {row['p99'] * 1000:.0f} ms, lost {row['lost']}, "
                      f"recoveries {row['recoveries']} (load {row['load']})", flush=True)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    p.kill()
        return {"layer": name, "processes": len(ports), "phases": phases}


def redis_available() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), 1).close()
        return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1000, help="clients of the one-process run")
    parser.add_argument("--big", type=int, default=5000, help="clients of the largest cross-process run")
    parser.add_argument("--procs", type=int, default=2, help="daphne processes on the Redis layer (>= 2)")
    parser.add_argument("--voters", type=int, default=VOTERS)
    parser.add_argument("--layers", default="memory,redis")
    args, _ = parser.parse_known_args()
    layers = args.layers.split(",")
    print(f"  load average at start (1/5/15 min): {load()}", flush=True)
    results = []
    if "memory" in layers:
        results.append(run_layer("memory", [args.members], redis=False, procs_count=1, voters=args.voters))
    if "redis" in layers and redis_available():
        sizes = sorted({args.members, args.big})
        results.append(run_layer("redis", sizes, redis=True, procs_count=max(2, args.procs), voters=args.voters))
    elif "redis" in layers:
        print("  Redis not reachable on 127.0.0.1:6379: cross-process runs skipped")
    print(f"\n  time from the last vote to every client holding the announced result ({args.voters} voters; "
          "ratios to the 10-client baseline of the same run):")
    print("  layer    procs  clients   p50 ms   p99 ms   max ms  p99/base  lost  recov (late)  listen-err  app-err"
          "  connect s  votes s  load 1/5/15")
    verdicts = []
    for r in results:
        base = r["phases"][0]
        for row in r["phases"]:
            ratio = f"{row['p99'] / base['p99']:.1f}x" if row is not base and base["p99"] > 0 else ""
            print(f"  {r['layer']:<8} {r['processes']:>5} {row['clients']:>8} {row['p50'] * 1000:>8.0f} "
                  f"{row['p99'] * 1000:>8.0f} {row['max'] * 1000:>8.0f} {ratio:>9} {row['lost']:>5} "
                  f"{row['recoveries']:>6} {'(' + str(row['late']) + ')':>6} {row['listen_errors']:>11} "
                  f"{row['app_errors']:>8} "
                  f"{row['connect_s']:>10.1f} {row['votes_s']:>8.1f}  {row['load']}")
            target = None
            if r["layer"] == "memory" and row["clients"] >= 1000:
                target = 0.25
            elif r["layer"] == "redis" and row["clients"] >= 5000:
                target = 1.0
            if target is not None:
                met = row["p99"] < target and row["lost"] == 0 and row["recoveries"] == 0
                verdicts.append(f"{r['layer']} {row['clients']} clients in {r['processes']} process(es): "
                                f"p99 < {target * 1000:.0f} ms, nothing lost, 0 recoveries: "
                                f"{'met' if met else 'NOT met'}")
    print()
    for line in verdicts:
        print("  " + line)
    print(f"  load average at end (1/5/15 min): {load()}")
    print("RESULT " + json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
