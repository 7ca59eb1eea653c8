"""Websocket routes of the live meeting room (served by the ASGI process, ``gongzhi.asgi``).

Registered with ``core.registry.register_websocket_route`` from ``CouncilsConfig.ready()``.
"""

from __future__ import annotations

from django.urls import path

from gongzhi.councils.consumers import MeetingConsumer

websocket_urlpatterns = [
    path("ws/meetings/<int:meeting_id>/", MeetingConsumer.as_asgi()),
]


def asgi_application() -> object:
    """``gongzhi.asgi.application`` with the room's routes, whether or not ``apps.py`` has
    registered them yet (for the browser test and the benchmark, which run daphne on it)."""
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter

    from gongzhi import asgi

    routes = list(asgi.websocket_urlpatterns)
    if not any(str(getattr(r, "pattern", "")).startswith("ws/meetings/") for r in routes):
        routes += websocket_urlpatterns
    return ProtocolTypeRouter({"http": asgi.django_asgi_app, "websocket": AuthMiddlewareStack(URLRouter(routes))})


def __getattr__(name: str) -> object:
    # ``daphne gongzhi.councils.routing:application`` (PEP 562: built on first use, after Django
    # is configured by gongzhi.asgi).
    if name == "application":
        return asgi_application()
    raise AttributeError(name)
