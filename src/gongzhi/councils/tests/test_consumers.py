"""The live room's websocket protocol, driven through Channels' ``WebsocketCommunicator``.

Each test runs its scenario in one event loop (``async_to_sync``); database work inside the
consumer runs back on the test's thread (``database_sync_to_async`` is thread-sensitive), so
``transactional_db`` is all it needs, and broadcasts really happen after commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from gongzhi.accounts.enums import Role
from gongzhi.core.tests.actors import SYSTEM as TEST_SYSTEM
from gongzhi.councils.routing import websocket_urlpatterns

SYSTEM = TEST_SYSTEM


@pytest.fixture(autouse=True)
def _fresh_channel_layer(settings: Any) -> Iterator[None]:
    # The in-memory layer's queues belong to the event loop that first used them; each test has
    # its own loop, so each gets its own layer.
    from channels.layers import channel_layers

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def build_room(place_tree: SimpleNamespace, make_user: Callable[..., Any], *, profile: str = "ronr",
               members: int = 3, in_person: bool = False, start: bool = True) -> SimpleNamespace:
    """A council of ``members`` with user accounts, a trained moderator, one meeting (started)."""
    from gongzhi.councils import actions

    place = place_tree.community_a
    record = actions.do_create_profile(f"{profile}-t", f"测试规则 {profile}", profile, {}, actor=SYSTEM)
    council = actions.do_create_council("平山社区居民议事会", place, record, actor=SYSTEM)
    people = []
    for i in range(members):
        user = make_user(Role.COUNCIL_MEMBER, place, username=f"member{i + 1}")
        people.append((user, actions.do_add_member(council, f"成员{i + 1}", actor=SYSTEM, user=user)))
    mod_user = make_user(Role.COUNCIL_MODERATOR, place, username="moderator")
    moderator = actions.do_register_moderator(mod_user, place, actor=SYSTEM, display_name="李主持", training_hours=24,
                                               certificate_no="LH-2026-001", certified_on=timezone.localdate())
    actions.do_assign_moderator(moderator, council, actor=SYSTEM)
    meeting = actions.do_schedule_meeting(council, "关于楼间空调冷凝水管的议事会议", timezone.now() + timedelta(hours=1),
                                          actor=SYSTEM, moderator=moderator, location="平山社区党群服务中心",
                                          in_person=in_person)
    outsider = make_user(Role.COUNCIL_MEMBER, place_tree.community_d, username="outsider")
    if start:
        actions.do_start_meeting(meeting, actor=mod_user)
        meeting.refresh_from_db()
    ids = [str(m.pk) for _, m in people]
    return SimpleNamespace(council=council, meeting=meeting, users=[u for u, _ in people], ids=ids,
                           mod_user=mod_user, moderator=moderator, mod_id=f"mod-{moderator.pk}", outsider=outsider)


@pytest.fixture
def room(transactional_db: None, place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    return build_room(place_tree, make_user)


def communicator(meeting_id: int, user: Any, query: str = "") -> WebsocketCommunicator:
    app = URLRouter(websocket_urlpatterns)
    path = f"/ws/meetings/{meeting_id}/" + (f"?{query}" if query else "")
    comm = WebsocketCommunicator(app, path)
    comm.scope["user"] = user
    return comm


async def receive(comm: WebsocketCommunicator, kind: str | tuple[str, ...] | None = None,
                  timeout: float = 3) -> dict[str, Any]:
    """The next message (of ``kind``), skipping others."""
    kinds = (kind,) if isinstance(kind, str) else kind
    while True:
        message = json.loads(await comm.receive_from(timeout=timeout))
        if kinds is None or message["type"] in kinds:
            return message  # type: ignore[no-any-return]


async def until(comm: WebsocketCommunicator, check: Callable[[dict[str, Any]], bool],
                timeout: float = 3) -> dict[str, Any]:
    """Read state messages until one satisfies ``check``."""
    while True:
        message = await receive(comm, ("state", "update", "resync"), timeout)
        if check(message):
            return message


async def act(comm: WebsocketCommunicator, action: dict[str, Any], version: int | None = None,
              ref: int = 1, **extra: Any) -> dict[str, Any]:
    await comm.send_json_to({"id": ref, "action": action, "expected_version": version, **extra})
    return await receive(comm, ("ack", "refused", "resync"))


def run(coro: Callable[[], Any]) -> Any:
    return async_to_sync(coro)()


# ----------------------------------------------------------------------------------- connect


def test_outsider_and_anonymous_are_refused_at_the_handshake(room: SimpleNamespace) -> None:
    from django.contrib.auth.models import AnonymousUser

    async def scenario() -> None:
        for user, code in ((room.outsider, 4404), (AnonymousUser(), 4401)):
            comm = communicator(room.meeting.pk, user)
            connected, close_code = await comm.connect()
            assert not connected and close_code == code

    run(scenario)


def test_session_cookie_authenticates_through_auth_middleware(room: SimpleNamespace, client: Any) -> None:
    client.force_login(room.users[0])
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def scenario() -> None:
        app = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        comm = WebsocketCommunicator(app, f"/ws/meetings/{room.meeting.pk}/", headers=[(b"cookie", cookie)])
        connected, _ = await comm.connect()
        assert connected
        hello = await receive(comm, "state")
        assert hello["you"]["member"] == room.ids[0]
        await comm.disconnect()

    run(scenario)


def test_state_on_connect_names_the_viewer_and_their_legal_actions(room: SimpleNamespace) -> None:
    async def scenario() -> None:
        member = communicator(room.meeting.pk, room.users[0])
        assert (await member.connect())[0]
        hello = await receive(member, "state")
        assert hello["version"] == room.meeting.version == 1  # the call to order
        assert hello["state"]["session"] == "in_session" and hello["state"]["chair"] == room.mod_id
        assert hello["roster"][room.ids[0]] == "成员1" and hello["roster"][room.mod_id] == "李主持"
        assert hello["you"]["member"] == room.ids[0] and "arrive" in hello["you"]["legal"]
        assert "call_vote:show_of_hands" not in hello["you"]["legal"]

        console = communicator(room.meeting.pk, room.mod_user)
        assert (await console.connect())[0]
        mod = await receive(console, "state")
        assert mod["you"]["member"] == room.mod_id and mod["you"]["chair"] and mod["you"]["moderator"]
        # Nothing is pending and nobody has asked for the floor: the chair may only adjourn.
        assert mod["you"]["legal"] == ["declare_adjourned"]
        await member.disconnect()
        await console.disconnect()

    run(scenario)


# ------------------------------------------------------------------------------------ actions


def test_action_is_acked_and_every_other_socket_gets_the_update(room: SimpleNamespace) -> None:
    async def scenario() -> None:
        a = communicator(room.meeting.pk, room.users[0])
        b = communicator(room.meeting.pk, room.users[1])
        projector = communicator(room.meeting.pk, room.users[2], "view=projector")
        for comm in (a, b, projector):
            assert (await comm.connect())[0]
            await receive(comm, "state")
        ack = await act(a, {"type": "arrive"}, version=1)
        assert ack == {"type": "ack", "id": 1, "version": 2}
        seen = await until(b, lambda m: m["version"] == 2)
        assert seen["state"]["quorum"]["present"] == 1
        assert "arrive" in seen["you"]["legal"]  # b has not signed in yet
        shown = await until(projector, lambda m: m["version"] == 2)
        assert shown["you"]["legal"] == []  # the projector is nobody: no controls
        mine = await until(a, lambda m: m["version"] == 2)
        assert "arrive" not in mine["you"]["legal"] and "leave" in mine["you"]["legal"]
        for comm in (a, b, projector):
            await comm.disconnect()

    run(scenario)


def test_refusal_names_the_rule_in_chinese_and_stores_nothing(room: SimpleNamespace) -> None:
    from gongzhi.councils.models import MeetingEvent

    async def scenario() -> None:
        a = communicator(room.meeting.pk, room.users[0])
        assert (await a.connect())[0]
        await receive(a, "state")
        await act(a, {"type": "arrive"}, version=1)
        # A main motion without the floor (RONR §42).
        refused = await act(a, {"type": "move", "kind": "main", "text": "在楼间加装空调冷凝水管"}, version=2, ref=7)
        assert refused["type"] == "refused" and refused["id"] == 7
        assert refused["rule"] == "no_floor" and "发言" in refused["message"]
        # A member cannot call the vote; bad JSON gets a refusal too, not a crash.
        refused = await act(a, {"type": "call_vote"}, version=2)
        assert refused["rule"] == "not_chair"
        await a.send_to(text_data="{not json")
        assert (await receive(a, "refused"))["rule"] == "invalid"
        await a.disconnect()

    run(scenario)
    assert list(MeetingEvent.objects.filter(meeting=room.meeting).values_list("kind", flat=True)) == [
        "CallToOrder", "Arrive"]


def test_stale_version_gets_a_resync_with_the_current_state(room: SimpleNamespace) -> None:
    async def scenario() -> None:
        a = communicator(room.meeting.pk, room.users[0])
        b = communicator(room.meeting.pk, room.users[1])
        for comm in (a, b):
            assert (await comm.connect())[0]
            await receive(comm, "state")
        await act(a, {"type": "arrive"}, version=1)
        # b's screen still shows version 1.
        answer = await act(b, {"type": "arrive"}, version=1, ref=3)
        assert answer["type"] == "resync" and answer["rule"] == "stale_version" and answer["id"] == 3
        assert answer["version"] == 2 and answer["state"]["quorum"]["present"] == 1
        assert "刷新" in answer["message"]
        for comm in (a, b):
            await comm.disconnect()

    run(scenario)


def test_reconnect_with_last_version_gets_the_state_rebuilt_from_the_log(room: SimpleNamespace) -> None:
    from gongzhi.councils import engine

    async def scenario() -> None:
        a = communicator(room.meeting.pk, room.users[0])
        assert (await a.connect())[0]
        await receive(a, "state")
        await act(a, {"type": "arrive"}, version=1)
        await act(a, {"type": "request_floor", "stance": "pro"}, version=2, ref=2)
        await a.disconnect()
        # What a server restart does to memory: the cached engines are gone.
        engine.forget()
        again = communicator(room.meeting.pk, room.users[0], "since=3")
        assert (await again.connect())[0]
        state = await receive(again, "state")
        assert state["resumed"] is True and state["version"] == 3
        assert state["state"]["queue"] == [{"member": room.ids[0], "stance": "pro"}]
        assert state["you"]["requested"] is True
        await again.disconnect()

    run(scenario)


def test_moderator_records_for_members_in_person(transactional_db: None, place_tree: SimpleNamespace,
                                                 make_user: Callable[..., Any]) -> None:
    r = build_room(place_tree, make_user, in_person=True)

    async def scenario() -> None:
        console = communicator(r.meeting.pk, r.mod_user)
        assert (await console.connect())[0]
        hello = await receive(console, "state")
        rows = {row["member"]: row["legal"] for row in hello["you"]["in_person"]}
        assert rows[r.ids[1]] == ["arrive"]
        ack = await act(console, {"type": "arrive"}, version=1, on_behalf_of=r.ids[1])
        assert ack["type"] == "ack"
        state = await until(console, lambda m: m["version"] == 2)
        rows = {row["member"]: row["legal"] for row in state["you"]["in_person"]}
        assert "request_floor" in rows[r.ids[1]] and "arrive" not in rows[r.ids[1]]
        # A member cannot record for another member.
        member = communicator(r.meeting.pk, r.users[0])
        assert (await member.connect())[0]
        await receive(member, "state")
        refused = await act(member, {"type": "arrive"}, version=2, on_behalf_of=r.ids[2])
        assert refused["type"] == "refused" and refused["rule"] == "not_chair"
        await console.disconnect()
        await member.disconnect()

    run(scenario)


# --------------------------------------------------------------------------------- coalescing


def test_coalescing_drops_intermediate_tallies_never_the_result(transactional_db: None, place_tree: SimpleNamespace,
                                                                make_user: Callable[..., Any],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Deterministic at any machine speed: tallies are held for an hour, so after the first push
    every later count waits — until the result, which goes out at once and carries them all."""
    from gongzhi.councils import actions
    from gongzhi.councils import room as hub

    monkeypatch.setattr(hub, "TALLY_INTERVAL", 3600.0)
    monkeypatch.setattr(hub, "WATCH_SECONDS", 3600.0)  # the recovery poll plays no part here
    r = build_room(place_tree, make_user, members=7)
    meeting = r.meeting
    for user in r.users:
        actions.do_apply_meeting_action(meeting, {"type": "arrive"}, actor=user)
    do = actions.do_apply_meeting_action
    do(meeting, {"type": "request_floor"}, actor=r.users[0])
    do(meeting, {"type": "recognize", "member": r.ids[0]}, actor=r.mod_user)
    do(meeting, {"type": "move", "kind": "main", "text": "每月开一次议事会"}, actor=r.users[0])
    do(meeting, {"type": "second"}, actor=r.users[1])
    do(meeting, {"type": "state_question"}, actor=r.mod_user)
    do(meeting, {"type": "call_vote"}, actor=r.mod_user)

    async def scenario() -> None:
        watcher = communicator(meeting.pk, r.users[6])
        assert (await watcher.connect())[0]
        start = (await receive(watcher, "state"))["version"]
        voters = []
        for user in r.users[:6]:
            comm = communicator(meeting.pk, user)
            assert (await comm.connect())[0]
            await receive(comm, "state")
            voters.append(comm)
        # Six votes in a burst, then the result at once.
        for i, comm in enumerate(voters):
            await comm.send_json_to({"id": i, "action": {"type": "cast_vote", "choice": "aye" if i < 4 else "no"}})
        for comm in voters:
            assert (await receive(comm, ("ack", "refused")))["type"] == "ack"
        await voters[0].disconnect()
        console = communicator(meeting.pk, r.mod_user)
        assert (await console.connect())[0]
        await receive(console, "state")
        assert (await act(console, {"type": "announce_result"}))["type"] == "ack"
        final = start + 7
        seen = []
        while True:
            message = await receive(watcher, ("update", "state"))
            seen.append(message["version"])
            if message["version"] == final:
                break
        # One tally push (the first vote's, with however many votes it found), then the result:
        # the later tallies were coalesced into it.
        assert len(seen) == 2 and seen[0] < final, seen
        result = message["state"]["result"]
        assert result["adopted"] and (result["ayes"], result["noes"]) == (4, 2)
        assert message["state"]["ballot"] is None
        for comm in (*voters[1:], console, watcher):
            await comm.disconnect()

    run(scenario)


def test_hub_coalesces_a_burst_of_versions_to_the_newest() -> None:
    from gongzhi.councils.room import RoomHub

    hub = RoomHub.__new__(RoomHub)
    hub.target, hub.tally_only = 5, True
    hub.wake = SimpleNamespace(set=lambda: None)  # type: ignore[assignment]
    for version in (9, 7, 8):
        hub.note(version, ["VoteRecorded"])
    assert hub.target == 9 and hub.tally_only  # older versions arriving late change nothing
    hub.note(10, ["ResultAnnounced", "MotionDisposed"])
    assert hub.target == 10 and not hub.tally_only  # the result is never throttled


# ------------------------------------------------------------------------------ distinct views


def test_each_distinct_view_is_built_once_and_sent_as_the_same_text(
        transactional_db: None, place_tree: SimpleNamespace, make_user: Callable[..., Any],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Eight members, a moderator and a projector: after one member signs in there are four
    distinct screens (the one who is present, the seven who are not, the moderator, the
    projector), so four views are built — not ten — and members who share a screen get the
    very same text."""
    from gongzhi.councils import room as hub

    monkeypatch.setattr(hub, "WATCH_SECONDS", 3600.0)
    r = build_room(place_tree, make_user, members=8)
    built: list[Any] = []
    original = hub.viewer_state

    def counting(engine: Any, viewer: Any, **kwargs: Any) -> Any:
        built.append(viewer)
        return original(engine, viewer, **kwargs)

    async def scenario() -> None:
        members = [communicator(r.meeting.pk, user) for user in r.users]
        console = communicator(r.meeting.pk, r.mod_user)
        projector = communicator(r.meeting.pk, r.users[0], "view=projector")
        sockets = [*members, console, projector]
        for comm in sockets:
            assert (await comm.connect())[0]
            await receive(comm, "state")
        monkeypatch.setattr(hub, "viewer_state", counting)
        assert (await act(members[0], {"type": "arrive"}, version=1))["type"] == "ack"
        texts = []
        for comm in sockets:
            while True:
                raw = await comm.receive_from(timeout=3)
                if json.loads(raw)["type"] == "update":
                    texts.append(raw)
                    break
        assert len(built) == 4, built
        assert len(set(texts[1:8])) == 1  # the seven absent members: one text
        assert len(set(texts)) == 4
        absent = json.loads(texts[1])
        assert "arrive" in absent["you"]["legal"] and absent["you"]["member"] is True  # a member; the id is not in an update
        assert "leave" in json.loads(texts[0])["you"]["legal"]
        for comm in sockets:
            await comm.disconnect()

    run(scenario)


# ---------------------------------------------------------------------------------- delivery


def test_a_version_the_layer_never_announced_is_recovered_by_the_poll_and_counted(
        room: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    from gongzhi.councils import actions
    from gongzhi.councils import room as hub

    monkeypatch.setattr(hub, "WATCH_SECONDS", 0.05)
    monkeypatch.setattr(hub, "RECOVER_AFTER", 0.0)
    before = hub.RoomHub.recoveries

    async def scenario() -> None:
        a = communicator(room.meeting.pk, room.users[0])
        assert (await a.connect())[0]
        await receive(a, "state")
        # Stored with its announcement lost (as a dead listener or a dropped message would).
        monkeypatch.setattr(actions, "broadcast_meeting", lambda *args, **kwargs: None)
        from channels.db import database_sync_to_async

        await database_sync_to_async(actions.do_apply_meeting_action)(room.meeting, {"type": "arrive"},
                                                                      actor=room.users[1])
        seen = await until(a, lambda m: m["version"] == 2)
        assert seen["state"]["quorum"]["present"] == 1
        await a.disconnect()

    run(scenario)
    assert hub.RoomHub.recoveries == before + 1


def test_an_announced_version_is_not_counted_as_a_recovery(room: SimpleNamespace,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from gongzhi.councils import room as hub

    monkeypatch.setattr(hub, "WATCH_SECONDS", 0.01)
    before = hub.RoomHub.recoveries

    async def scenario() -> None:
        import asyncio

        a = communicator(room.meeting.pk, room.users[0])
        b = communicator(room.meeting.pk, room.users[1])
        for comm in (a, b):
            assert (await comm.connect())[0]
            await receive(comm, "state")
        await act(a, {"type": "arrive"}, version=1)
        await until(b, lambda m: m["version"] == 2)
        await asyncio.sleep(0.1)  # several polls after delivery: nothing to recover
        for comm in (a, b):
            await comm.disconnect()

    run(scenario)
    assert hub.RoomHub.recoveries == before


def test_the_redis_layer_reads_longer_than_its_blocking_pop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cause of the lost announcements: redis-py's default 5 s read timeout equalled
    channels_redis's 5 s blocking pop, so a quiet room's receive raised and killed the listener."""
    import runpy

    from channels_redis.core import RedisChannelLayer

    import gongzhi.settings

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    scaled = runpy.run_path(gongzhi.settings.__file__)
    config = scaled["CHANNEL_LAYERS"]["default"]["CONFIG"]
    assert all(host["socket_timeout"] > RedisChannelLayer.brpop_timeout for host in config["hosts"])


def test_the_listener_survives_a_failing_receive() -> None:
    """redis-py's 5 s read timeout once killed the hub's listener: every later announcement was
    lost to that process. An error now costs one retry, never the listener."""
    import asyncio

    from gongzhi.councils import room as hub

    class FlakyLayer:
        calls = 0

        async def receive(self, channel: str) -> dict[str, Any]:
            self.calls += 1
            if self.calls == 1:
                raise TimeoutError("Timeout reading from 127.0.0.1:6379")
            if self.calls == 2:
                return {"type": "meeting.update", "version": 7, "outcomes": ["ResultAnnounced"]}
            await asyncio.Event().wait()
            raise AssertionError

    async def scenario() -> tuple[int, int]:
        room_hub = hub.RoomHub(1)
        errors = hub.RoomHub.listen_errors
        original = (hub.get_channel_layer, hub.LISTEN_RETRY_SECONDS)
        layer = FlakyLayer()
        hub.get_channel_layer, hub.LISTEN_RETRY_SECONDS = (lambda: layer), 0.0  # type: ignore[assignment]
        try:
            task = asyncio.get_running_loop().create_task(room_hub._listen())
            for _ in range(1000):  # bounded: a few loop turns are enough
                if room_hub.target == 7:
                    break
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        finally:
            hub.get_channel_layer, hub.LISTEN_RETRY_SECONDS = original
        return room_hub.target, hub.RoomHub.listen_errors - errors

    assert asyncio.run(scenario()) == (7, 1)


@pytest.mark.django_db(transaction=True)
def test_foreign_origin_is_refused_by_the_asgi_application() -> None:
    """gongzhi.asgi only accepts sockets opened by pages of our own hosts (ALLOWED_HOSTS)."""
    import asyncio

    from gongzhi.asgi import application

    async def attempt(origin: bytes) -> tuple[bool, object]:
        comm = WebsocketCommunicator(application, "/ws/meetings/1/", headers=[(b"origin", origin)])
        connected, detail = await comm.connect()
        await comm.disconnect()
        return bool(connected), detail

    # Our own origin reaches the consumer, which refuses the anonymous user with its own code…
    assert asyncio.run(attempt(b"http://127.0.0.1:8001")) == (False, 4401)
    # …a foreign origin is turned away before any consumer code runs.
    connected, detail = asyncio.run(attempt(b"http://evil.example"))
    assert connected is False and detail != 4401
