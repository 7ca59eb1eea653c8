"""Websocket routes of the live meeting room (served by the ASGI process, ``gongzhi.asgi``).

Registered with ``core.registry.register_websocket_route`` from ``CouncilsConfig.ready()``;
``daphne gongzhi.asgi:application`` serves them.
"""

from __future__ import annotations

from django.urls import path

from gongzhi.councils import converters  # noqa: F401  (registers ``council_pk``: out-of-range ids do not match)
from gongzhi.councils.consumers import MeetingConsumer

websocket_urlpatterns = [
    path("ws/meetings/<council_pk:meeting_id>/", MeetingConsumer.as_asgi()),
]
