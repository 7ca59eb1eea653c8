"""ASGI entry: websockets only (the live meeting room). HTTP is served by gunicorn (WSGI)."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from gongzhi.core.registry import REGISTRY  # noqa: E402

websocket_urlpatterns: list = list(getattr(REGISTRY, "websocket_routes", []))

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
