from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CouncilsConfig(AppConfig):
    name = "gongzhi.councils"
    label = "councils"
    verbose_name = _("居民议事会")

    def ready(self) -> None:
        from gongzhi.core.registry import (
            register_demo_loader,
            register_landing_link,
            register_websocket_route,
        )
        from gongzhi.councils.demo import load_demo_councils

        register_demo_loader(50, "councils", load_demo_councils)  # after places, accounts, people, services
        # The public front door lists the latest published minutes (居民议事 is open government).
        from gongzhi.core.registry import register_front_door

        def _front_door(request: object) -> dict[str, object]:
            from gongzhi.councils.queries import public_minutes

            return {"minutes": list(public_minutes()[:5])}

        register_front_door(20, "councils", "councils/_front_door.html", _front_door)
        # Other apps rely on a meeting's resolution (a company decision held as a shareholders' meeting).
        from gongzhi.core.registry import register_resolution_lookup
        from gongzhi.councils.queries import resolution_of_meeting

        register_resolution_lookup(resolution_of_meeting)
        for role in ("council_member", "council_moderator", "community_worker"):
            register_landing_link(role, "councils:meeting_list", _("议事会会议"))

        # --- live meeting room (websockets): consumers.py / routing.py belong to the live-room half ---
        from gongzhi.core.registry import REGISTRY
        from gongzhi.councils.routing import websocket_urlpatterns

        known = {str(getattr(r, "pattern", "")) for r in REGISTRY.websocket_routes}
        for route in websocket_urlpatterns:
            if str(route.pattern) not in known:  # ready() may run more than once in tests
                register_websocket_route(route)
        # A logout closes the user's open meeting sockets in every process (broadcast.py).
        from django.contrib.auth.signals import user_logged_out

        from gongzhi.councils.broadcast import on_user_logged_out

        user_logged_out.connect(on_user_logged_out, dispatch_uid="councils-close-sockets-on-logout")
        # --- end live meeting room ---
