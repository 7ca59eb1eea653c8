"""Tell the live room that a meeting moved on.

The message carries only the new version: each process's hub (``room.RoomHub``) reads the state
every local viewer may see (``room.snapshot``) from the cache or the database, so nothing secret
or viewer-specific travels over the channel layer, and coalescing bursts (a tally changing with
every vote) is the hub's job. The end of a login is announced here too (``user_group``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)


def group_name(meeting_id: int) -> str:
    return f"meeting-{meeting_id}"


def broadcast_meeting(meeting_id: int, version: int, outcomes: Sequence[dict[str, Any]] = ()) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    kinds = [o.get("type", "") for o in outcomes]
    try:
        async_to_sync(layer.group_send)(
            group_name(meeting_id), {"type": "meeting.update", "version": version, "outcomes": kinds}
        )
    except Exception:  # a broadcast failure must never undo a stored action; clients resync
        log.exception("broadcast of meeting %s v%s failed", meeting_id, version)


def user_group(user_id: int) -> str:
    """The group where the end of a user's login is announced to every live-room process."""
    return f"councils-user-{user_id}"


def announce_session_end(user_id: int, session_key: str | None) -> None:
    """Tell every process's live room that ``session_key`` of ``user_id`` ended: their sockets
    opened with it close at once (the hubs' own session check is the slower safety net, e.g. when
    the layer is in-memory and the logout happened in another process)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            user_group(user_id), {"type": "session.ended", "user": user_id, "session_key": session_key}
        )
    except Exception:  # a logout must never fail because the room could not be told
        log.exception("announcing the end of a session of user %s failed", user_id)


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_logged_out`` receiver: the signal fires before the session is flushed, so its key
    is still the one the user's sockets were opened with."""
    if user is None or getattr(user, "pk", None) is None:
        return
    session = getattr(request, "session", None)
    announce_session_end(user.pk, getattr(session, "session_key", None))
