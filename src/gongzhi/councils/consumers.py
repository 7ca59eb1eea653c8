"""The live meeting room over websockets: one socket per phone, console or projector.

Flow: a client connects to ``/ws/meetings/<id>/`` (session cookie → ``AuthMiddlewareStack``),
``access_meeting`` decides whether it may see the meeting, and it receives the full state for its
viewer. It sends ``{"action": {...}, "expected_version": n, "id": ...}``; the action goes to
``actions.do_apply_meeting_action`` in a worker thread and the client gets an ``ack``, a
``refused`` (rule + Chinese message, nothing stored) or, when its screen was stale, a ``resync``
with the current state. Every stored event is broadcast (after commit) to the group
``meeting-<id>`` as a bare version number, which the process's hub (``room.RoomHub``) fans out
as ``update`` messages: ``{"type": "update", "version", "state", "you"}``, built once per distinct
view and sent as the same text to every socket sharing it, so an update's ``you`` leaves out
``member`` (the ``state`` on connect and every ``resync`` name it).

This module only speaks the protocol; what a viewer is shown and the fan-out live in
``councils/room.py``, which the pages and the API read too.

A socket lives only as long as the login that opened it: every frame that reads or writes the
meeting re-checks the session first (still there, unexpired, its user active), in the same worker
call; a logout closes the user's sockets at once through the hub, and the hub re-checks listening
sockets periodically; either way the close code is 4401. Bad frames (not JSON, nested past what the parser takes,
too long, binary) are refused with a message and the socket stays open — never a 1011.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.http import Http404

from gongzhi.core.errors import ActionError
from gongzhi.councils import actions, queries
from gongzhi.councils.models import Meeting
from gongzhi.councils.room import (
    SESSION_ENDED,
    RoomHub,
    Viewer,
    roster_of,
    session_valid,
    snapshot,
    viewer_for,
)

log = logging.getLogger(__name__)

# A phone that sends more than this many actions a second is refused, not queued: every action is
# a database transaction, and one stuck "vote" button must not starve the room.
MAX_ACTIONS_PER_SECOND = 10
# The longest frame read: a motion's text is at most 4,000 characters (``domain/codec.py``), six
# times that if a client escapes every one as ``\uXXXX``; anything longer is not a client of
# ours, and not parsing it keeps a hostile frame from costing more than its length.
MAX_FRAME_CHARS = 32_000
# Client references (``id``) are echoed back: only short numbers and strings are.
MAX_REF_CHARS = 64


# ------------------------------------------------------------------------------------- consumer


class SessionEnded(Exception):
    """The login that opened the socket is over (logged out, expired, deleted, user inactive)."""


class MeetingConsumer(AsyncWebsocketConsumer):
    """One socket of the live room. See the module docstring for the protocol."""

    viewer: Viewer | None = None
    hub: RoomHub | None = None
    # No channel of its own: the hub is the process's one subscriber. An alias that names no
    # layer makes Channels skip the per-socket channel and its receive loop — with channels_redis
    # a thousand of those loops timed out reading from Redis (bench/meeting.py).
    channel_layer_alias = "councils-room-sockets-use-the-hub"

    user_id: int = 0
    session_key: str | None = None
    ended = False

    async def connect(self) -> None:
        self.meeting_id = int(self.scope["url_route"]["kwargs"]["meeting_id"])
        self.sent_version = -1
        self.pending: tuple[int, str] | None = None
        self.sending = False
        self.ready = False
        self.recent: list[float] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=SESSION_ENDED)  # before accept: the handshake is refused
            return
        self.user_id = user.pk
        # Sockets from browsers come through AuthMiddlewareStack and carry the session they were
        # opened with; it is re-checked on every frame and by the hub.
        session = self.scope.get("session")
        self.session_key = getattr(session, "session_key", None) if session is not None else None
        if session is not None and self.session_key is None:
            await self.close(code=SESSION_ENDED)
            return
        # Only ASCII words are read from the query; undecodable bytes are replaced, not a crash.
        query = parse_qs(self.scope.get("query_string", b"").decode("utf-8", "replace"))
        projector = query.get("view", [""])[0] == "projector"
        try:
            self.meeting, self.viewer, self.roster = await database_sync_to_async(self._load)(user, projector)
        except Http404:
            await self.close(code=4404)
            return
        await self.accept()
        # Join the hub before reading the first state, so no update between the two is missed.
        self.hub = await RoomHub.join(self, self.meeting_id)
        since = query.get("since", [""])[0]
        await self.send_state(kind="state", resumed=since.isdigit())

    def _snapshot_with_roster(self) -> tuple[int, dict[str, Any], dict[Any, dict[str, Any]], dict[str, str]]:
        self._require_session()
        assert self.viewer is not None
        version, public, per = snapshot(self.meeting_id, [self.viewer])
        # The roster is frozen when the meeting starts; a socket opened before then learns it here.
        roster = self.roster if self.roster else roster_of(Meeting.objects.get(pk=self.meeting_id))
        return version, public, per, roster

    def _load(self, user: Any, projector: bool) -> tuple[Any, Viewer, dict[str, str]]:
        meeting = queries.access_meeting(user, self.meeting_id)
        return meeting, viewer_for(meeting, user, projector), roster_of(meeting)

    async def disconnect(self, code: int) -> None:
        if self.hub is not None:
            await self.hub.leave(self)
            self.hub = None

    async def end_session(self) -> None:
        """The login that opened this socket ended: stop sending and close (4401). The server's
        disconnect that follows takes the socket out of the hub."""
        if self.ended:
            return
        self.ended = True
        self.pending = None
        await self.close(code=SESSION_ENDED)

    def _require_session(self) -> None:
        """Raise :class:`SessionEnded` if the login behind this socket is over. Called at the top
        of the worker-thread call each frame makes anyway (the action, the resync read), so the
        check costs two primary-key reads and no extra hop to the one database thread."""
        if self.session_key is not None and not session_valid(self.session_key, self.user_id):
            raise SessionEnded

    # ------------------------------------------------------------------------------ outgoing

    async def send_state(self, *, kind: str = "state", resumed: bool = False, extra: dict[str, Any] | None = None) -> None:
        assert self.viewer is not None
        try:
            version, public, per, self.roster = await database_sync_to_async(self._snapshot_with_roster)()
        except SessionEnded:
            await self.end_session()
            return
        message = {"type": kind, "version": version, "state": public, "you": per[self.viewer.key],
                   "roster": self.roster, "resumed": resumed, **(extra or {})}
        await self.send(text_data=json.dumps(message, ensure_ascii=False, separators=(",", ":")))
        self.sent_version = max(self.sent_version, version)
        self.ready = True
        await self._flush()

    async def offer(self, version: int, text: str) -> None:
        """The hub has a newer state: ``text`` is the whole update message, the very same string
        for every socket that shares this viewer's view. If a send is under way keep only the
        newest (coalescing)."""
        if version <= self.sent_version or self.ended:
            return
        self.pending = (version, text)
        if self.ready and not self.sending:
            await self._flush()

    async def _flush(self) -> None:
        self.sending = True
        try:
            while self.pending is not None:
                version, text = self.pending
                self.pending = None
                if version <= self.sent_version:
                    continue
                await self.send(text_data=text)
                self.sent_version = version
        finally:
            self.sending = False

    async def reply(self, message: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(message, ensure_ascii=False, separators=(",", ":")))

    # ------------------------------------------------------------------------------ incoming

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.ended:
            return
        if text_data is None:
            await self.reply({"type": "refused", "rule": "invalid", "message": "消息应为 JSON 文本。"})
            return
        if len(text_data) > MAX_FRAME_CHARS:
            await self.reply({"type": "refused", "rule": "invalid",
                              "message": f"消息过长（最多 {MAX_FRAME_CHARS} 个字符）。"})
            return
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):
            # RecursionError: nested deeper than the parser goes — bad input like any other.
            await self.reply({"type": "refused", "rule": "invalid", "message": "消息不是有效的 JSON。"})
            return
        if not isinstance(content, dict):
            await self.reply({"type": "refused", "rule": "invalid", "message": "消息应为 JSON 对象。"})
            return
        ref = _ref(content.get("id"))
        if content.get("type") == "resync" or "action" not in content:
            await self.send_state(kind="resync", extra={"id": ref})
            return
        now = time.monotonic()
        self.recent = [t for t in self.recent if now - t < 1.0] + [now]
        if len(self.recent) > MAX_ACTIONS_PER_SECOND:
            await self.reply({"type": "refused", "id": ref, "rule": "rate_limited",
                              "message": "操作过于频繁，请稍候再试。"})
            return
        await self.act(content, ref)

    async def act(self, content: dict[str, Any], ref: Any) -> None:
        expected = content.get("expected_version")
        if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
            await self.reply({"type": "refused", "id": ref, "rule": "invalid", "message": "expected_version 应为整数。"})
            return
        user = self.scope["user"]
        try:
            result = await database_sync_to_async(self._apply)(content.get("action"), user, expected,
                                                               content.get("on_behalf_of"))
        except SessionEnded:
            await self.end_session()
            return
        except actions.StaleAction as exc:
            await self.send_state(kind="resync", extra={"id": ref, "rule": "stale_version",
                                                        "message": _message(exc)})
            return
        except ActionError as exc:
            await self.reply({"type": "refused", "id": ref, "rule": getattr(exc, "rule", exc.code),
                              "message": _message(exc), "message_en": getattr(exc, "message_en", "")})
            return
        except Http404 as exc:
            await self.reply({"type": "refused", "id": ref, "rule": "not_entitled", "message": _message(exc)})
            return
        except Exception:
            # A bug, not bad input: logged with its traceback; the socket stays open.
            log.exception("meeting %s: action failed", self.meeting_id)
            await self.reply({"type": "refused", "id": ref, "rule": "error", "message": "服务器出错，请重试。"})
            return
        version = int(getattr(result, "version", 0))
        await self.reply({"type": "ack", "id": ref, "version": version})
        # Tell the local hub now (no need to wait for the broadcast's round trip through the
        # layer); the actor's own screen updates with the room's next push. No per-actor read
        # here: 200 votes would queue 200 state reads on the one database thread ahead of the
        # announcement (measured: +0.4 s on the result at 300 sockets).
        if self.hub is not None:
            kinds = [o.get("type", "") for o in getattr(result, "outcomes", []) if isinstance(o, dict)]
            self.hub.note(version, kinds)

    def _apply(self, action: Any, user: Any, expected: int | None, on_behalf_of: Any) -> Any:
        self._require_session()
        meeting = Meeting.objects.filter(pk=self.meeting_id).first()
        if meeting is None:
            raise Http404("没有找到该会议")
        return actions.do_apply_meeting_action(
            meeting, action if isinstance(action, dict) else {}, actor=user,
            expected_version=expected, on_behalf_of=str(on_behalf_of) if on_behalf_of else None,
        )


def _ref(value: Any) -> int | str | None:
    """The client's reference, echoed only if it is a plain short number or string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int) and abs(value) < 2**53:
        return value
    if isinstance(value, str) and len(value) <= MAX_REF_CHARS:
        return value
    return None


def _message(exc: BaseException) -> str:
    for attr in ("message_zh", "message"):
        value = getattr(exc, attr, None)
        if value:
            return str(value)
    return "操作被拒绝。"
