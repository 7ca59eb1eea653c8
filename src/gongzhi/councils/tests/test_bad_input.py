"""Issue #10: nonsense in every councils URL and socket message gets a 4xx / 4xxx, never a 500
or a 1011."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from gongzhi.councils.tests.helpers import build_council
from gongzhi.councils.tests.test_consumers import _fresh_channel_layer, build_room, communicator, receive, run

__all__ = ["_fresh_channel_layer"]

HUGE = "99999999999999999999"


@pytest.fixture
def council(db: None, place_tree: Any, make_user: Callable[..., Any]) -> Any:
    return build_council(place_tree, make_user)


@pytest.mark.parametrize("path", [
    f"/councils/minutes/{HUGE}/",
    f"/councils/meetings/{HUGE}/",
    f"/councils/meetings/{HUGE}/console/",
    f"/councils/meetings/{HUGE}/projector/",
    f"/councils/meetings/{HUGE}/minutes/",
    f"/councils/meetings/{HUGE}/minutes.pdf",
    f"/councils/meetings/{HUGE}/minutes.docx",
    "/councils/meetings/2147483648/",
    "/councils/minutes/0/",
])
def test_out_of_range_ids_are_404_for_visitors_and_members(council: Any, path: str) -> None:
    member = Client()
    member.force_login(council.users[0])
    for client in (Client(), member):
        response = client.get(path)
        assert response.status_code in (302, 404), (path, response.status_code)


def test_console_and_minutes_posts_with_nonsense_are_answered_not_crashed(council: Any) -> None:
    chair = Client()
    chair.force_login(council.chair_user)
    base = f"/councils/meetings/{council.meeting.pk}"
    for data in ({"op": "x" * 5000}, {"op": ["start", "minutes"]}, {}):
        assert chair.post(f"{base}/console/", data).status_code in (200, 302)
    # No minutes yet: the page says so (never a 404 for someone who follows the meeting).
    assert chair.post(f"{base}/minutes/", {"as_role": "\x00"}).status_code in (200, 302)


def test_api_with_nested_json_body_is_4xx(council: Any) -> None:
    member = Client()
    member.force_login(council.users[0])
    deep = "[" * 100_000 + "]" * 100_000
    body = '{"action": {"type": "arrive", "x": ' + deep + "}}"
    response = member.post(f"/api/v1/councils/meetings/{council.meeting.pk}/actions", body,
                           content_type="application/json")
    assert 400 <= response.status_code < 500, response.status_code


@pytest.fixture
def room(transactional_db: None, place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    return build_room(place_tree, make_user)


def test_deeply_nested_frame_is_refused_and_the_socket_stays_open(room: SimpleNamespace) -> None:
    deep = "[" * 100_000 + "]" * 100_000

    async def scenario() -> None:
        comm = communicator(room.meeting.pk, room.users[0])
        assert (await comm.connect())[0]
        await receive(comm, "state")
        for frame in (deep, '{"id": 1, "action": {"type": "arrive", "x": ' + deep + "}}",
                      '{"id": ' + deep + ', "action": {"type": "arrive"}}'):
            await comm.send_to(text_data=frame)
            refused = await receive(comm, "refused")
            assert refused["rule"] == "invalid" and refused["message"]
        # Still a working socket.
        await comm.send_json_to({"type": "resync"})
        assert (await receive(comm, "resync"))["version"] == 1
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("content", [
    {"id": 1, "action": "arrive"},
    {"id": 1, "action": {"type": ["arrive"]}},
    {"id": 1, "action": {"type": "move", "kind": {"a": 1}, "text": 5}},
    {"id": 1, "action": {"type": "cast_vote", "choice": None}},
    {"id": 1, "action": {"type": "arrive"}, "expected_version": "1"},
    {"id": 1, "action": {"type": "arrive"}, "expected_version": 10**30},
    {"id": 1, "action": {"type": "arrive"}, "on_behalf_of": {"x": 1}},
    {"id": 1, "action": {"type": "arrive"}, "on_behalf_of": "9" * 40},
    {"id": {"nested": [1, 2]}, "action": {"type": "arrive", "at": "2000-01-01T00:00:00"}},
    {"id": 1, "action": {"type": "recognize", "member": 10**30}},
    {"id": 1, "action": {"type": "hand_over_chair", "to": ["x"]}},
])
def test_nonsense_messages_are_refused_with_a_message(room: SimpleNamespace, content: dict[str, Any]) -> None:
    async def scenario() -> None:
        comm = communicator(room.meeting.pk, room.users[0])
        assert (await comm.connect())[0]
        await receive(comm, "state")
        await comm.send_json_to(content)
        answer = await receive(comm, ("ack", "refused", "resync"))
        assert answer["type"] in ("refused", "ack", "resync")
        if answer["type"] == "refused":
            assert answer["rule"] != "error" and answer["message"]
        await comm.send_json_to({"type": "resync"})
        assert (await receive(comm, "resync"))["type"] == "resync"
        await comm.disconnect()

    run(scenario)


def test_binary_frame_is_refused(room: SimpleNamespace) -> None:
    async def scenario() -> None:
        comm = communicator(room.meeting.pk, room.users[0])
        assert (await comm.connect())[0]
        await receive(comm, "state")
        await comm.send_to(bytes_data=b"\xff\x00")
        assert (await receive(comm, "refused"))["rule"] == "invalid"
        await comm.disconnect()

    run(scenario)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/ws/nowhere/", f"/ws/meetings/{HUGE}/", "/ws/meetings/abc/", "/"])
def test_unknown_or_out_of_range_socket_paths_are_refused_cleanly(path: str) -> None:
    import asyncio

    from gongzhi.asgi import application

    async def attempt() -> tuple[bool, object]:
        comm = WebsocketCommunicator(application, path, headers=[(b"origin", b"http://127.0.0.1:8001")])
        connected, detail = await comm.connect()
        await comm.disconnect()
        return bool(connected), detail

    connected, code = asyncio.run(attempt())
    assert connected is False and code in (4404, 4401), code


@pytest.mark.parametrize("query", [b"\xff\xfe", b"since=%ff&view=%00", b"since=" + b"9" * 5000])
def test_socket_query_string_nonsense_is_not_a_crash(room: SimpleNamespace, query: bytes) -> None:
    async def scenario() -> None:
        comm = communicator(room.meeting.pk, room.users[0])
        comm.scope["query_string"] = query
        connected, _ = await comm.connect()
        assert connected
        assert (await receive(comm, "state"))["version"] == 1
        await comm.disconnect()

    run(scenario)


def test_an_overlong_frame_is_refused_but_the_longest_motion_is_not(room: SimpleNamespace) -> None:
    import json

    async def scenario() -> None:
        comm = communicator(room.meeting.pk, room.users[0])
        assert (await comm.connect())[0]
        await receive(comm, "state")
        await comm.send_to(text_data=json.dumps({"id": 1, "action": {"type": "arrive"}, "pad": "x" * 40_000}))
        assert "过长" in (await receive(comm, "refused"))["message"]
        # A 4,000-character motion, every character escaped, still reaches the rules of order.
        motion = {"id": 2, "action": {"type": "move", "kind": "main", "text": "议" * 4000}}
        await comm.send_to(text_data=json.dumps(motion, ensure_ascii=True))
        assert (await receive(comm, "refused"))["rule"] in ("not_present", "no_floor")  # not "invalid"
        await comm.disconnect()

    run(scenario)


@pytest.mark.parametrize("body", [
    {"action": "arrive"},
    {"action": {"type": ["arrive"]}},
    {"action": {"type": "move", "kind": {"a": 1}, "text": 5}},
    {"action": {"type": "move", "kind": "divide", "text": "x", "parts": [[["a"]]]}},
    {"action": {"type": "move", "kind": "suspend_rules", "text": "x", "rules": {"x": 1}, "speech_seconds": 1e308}},
    {"action": {"type": "cast_vote", "choice": None}},
    {"action": {"type": "recognize", "member": 10**30}},
    {"action": {"type": "call_vote", "method": "\x00"}},
    {"action": {"type": "arrive", "at": "2000-01-01T00:00:00", "actor": "mod-1"}},
    {"action": {"type": "arrive"}, "expected_version": -1},
    {"action": {"type": "arrive"}, "expected_version": 10**30},
    {"action": {"type": "arrive"}, "on_behalf_of": "../../x"},
    {"nothing": True},
    [],
])
def test_api_action_nonsense_is_4xx(council: Any, body: Any) -> None:
    member = Client()
    member.force_login(council.users[0])
    r = member.post(f"/api/v1/councils/meetings/{council.meeting.pk}/actions", body,
                    content_type="application/json")
    assert 400 <= r.status_code < 500, (r.status_code, r.content[:300])
    assert r.json()["detail"]
