"""Websocket routes of the live meeting room (served by the ASGI process, ``gongzhi.asgi``).

Registered with ``core.registry.register_websocket_route`` from ``CouncilsConfig.ready()``;
``daphne gongzhi.asgi:application`` serves them.
"""

from __future__ import annotations

from django.urls import path

from gongzhi.councils.consumers import MeetingConsumer

websocket_urlpatterns = [
    path("ws/meetings/<int:meeting_id>/", MeetingConsumer.as_asgi()),
]
