"""Tell the live room that a meeting moved on.

The message carries only the new version: each consumer reads the state it may show its own
viewer (``queries.meeting_state_for``) from the cache or the database, so nothing secret or
viewer-specific travels over the channel layer, and coalescing bursts (a tally changing with
every vote) is the consumer's job.
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
