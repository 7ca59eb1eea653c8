"""Issue #10: a meeting socket lives only as long as the session that opened it.

Logging out (in any process), the session being deleted (deactivation, idle expiry, another
process's cleanup) or the user being deactivated closes the user's sockets with 4401 — at the
latest on the next frame the socket sends, at once for a logout, and within the hub's periodic
check for a socket that only listens (a projector, a phone left open on the table).
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client

from gongzhi.councils.routing import websocket_urlpatterns
from gongzhi.councils.tests.test_consumers import _fresh_channel_layer, build_room, receive, run

__all__ = ["_fresh_channel_layer"]  # the autouse fixture of the socket tests, used here too


@pytest.fixture
def room(transactional_db: None, place_tree: SimpleNamespace, make_user: Callable[..., Any]) -> SimpleNamespace:
    return build_room(place_tree, make_user)


def logged_in(user: Any) -> tuple[Client, Any]:
    """A browser session for ``user`` and the socket application that reads its cookie."""
    client = Client()
    client.force_login(user)
    app = AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
    return client, app


def socket(app: Any, meeting_id: int, cookie: bytes, query: str = "") -> WebsocketCommunicator:
    path = f"/ws/meetings/{meeting_id}/" + (f"?{query}" if query else "")
    return WebsocketCommunicator(app, path, headers=[(b"cookie", cookie)])


def cookie_of(client: Client) -> bytes:
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def closed_with(comm: WebsocketCommunicator, timeout: float = 3) -> int:
    """Skip state messages until the server closes the socket; its close code."""
    while True:
        out = await comm.receive_output(timeout)
        if out["type"] == "websocket.close":
            await comm.disconnect()  # what the server does next: the socket leaves the hub
            return int(out.get("code", 1000))


def test_a_frame_after_the_session_was_deleted_closes_the_socket(room: SimpleNamespace) -> None:
    from django.contrib.sessions.models import Session

    client, app = logged_in(room.users[0])
    cookie = cookie_of(client)

    async def scenario() -> None:
        comm = socket(app, room.meeting.pk, cookie)
        assert (await comm.connect())[0]
        await receive(comm, "state")
        # Another process ended the session (idle expiry, an administrator's cleanup): no
        # logout signal reaches this process, the next frame finds the session gone.
        await database_sync_to_async(lambda: Session.objects.all().delete())()
        await comm.send_json_to({"id": 1, "action": {"type": "arrive"}, "expected_version": 1})
        assert await closed_with(comm) == 4401

    run(scenario)
    from gongzhi.councils.models import MeetingEvent

    assert not MeetingEvent.objects.filter(meeting=room.meeting, kind="Arrive").exists()


def test_a_frame_from_a_deactivated_user_closes_the_socket(room: SimpleNamespace) -> None:
    from django.contrib.auth import get_user_model

    client, app = logged_in(room.users[0])
    cookie = cookie_of(client)

    async def scenario() -> None:
        comm = socket(app, room.meeting.pk, cookie)
        assert (await comm.connect())[0]
        await receive(comm, "state")
        await database_sync_to_async(
            lambda: get_user_model().objects.filter(pk=room.users[0].pk).update(is_active=False))()
        await comm.send_json_to({"type": "resync"})
        assert await closed_with(comm) == 4401

    run(scenario)


def test_logout_closes_the_users_open_sockets_at_once(room: SimpleNamespace) -> None:
    client, app = logged_in(room.users[0])
    cookie = cookie_of(client)
    other_client, _ = logged_in(room.users[1])
    other_cookie = cookie_of(other_client)

    async def scenario() -> None:
        mine = socket(app, room.meeting.pk, cookie)
        projector = socket(app, room.meeting.pk, cookie, "view=projector")
        theirs = socket(app, room.meeting.pk, other_cookie)
        for comm in (mine, projector, theirs):
            assert (await comm.connect())[0]
            await receive(comm, "state")
        await database_sync_to_async(client.logout)()
        # Both sockets of the session that logged out close without sending anything…
        assert await closed_with(mine) == 4401
        assert await closed_with(projector) == 4401
        # …another user's socket stays open and working.
        await theirs.send_json_to({"type": "resync"})
        assert (await receive(theirs, "resync"))["version"] == 1
        await theirs.disconnect()

    run(scenario)


def test_a_listening_socket_is_closed_by_the_hubs_periodic_session_check(
        room: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.contrib.sessions.models import Session

    from gongzhi.councils import room as live

    monkeypatch.setattr(live, "SESSION_CHECK_SECONDS", 0.05)
    client, app = logged_in(room.users[0])
    cookie = cookie_of(client)

    async def scenario() -> None:
        comm = socket(app, room.meeting.pk, cookie, "view=projector")
        assert (await comm.connect())[0]
        await receive(comm, "state")
        await database_sync_to_async(lambda: Session.objects.all().delete())()
        assert await closed_with(comm) == 4401

    run(scenario)
