"""ASGI entry: websockets only (the live meeting room). HTTP is served by granian (WSGI)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from gongzhi.core.registry import REGISTRY  # noqa: E402


class NoSuchSocket(AsyncWebsocketConsumer):
    """Any path no app serves: the handshake is refused with 4404. Without this, Channels'
    URLRouter raises for an unknown path and the server answers with an error (a 500 / 1011)."""

    async def connect(self) -> None:
        await self.close(code=4404)


websocket_urlpatterns: list = [*getattr(REGISTRY, "websocket_routes", []), re_path(r"", NoSuchSocket.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Session-authenticated sockets accept only pages from our own hosts (ALLOWED_HOSTS):
        # another site must not open a meeting socket with a member's cookie.
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
