from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "gongzhi.assets"
    label = "assets"
    verbose_name = _("集体资产监管")

    def ready(self) -> None:
        from gongzhi.assets.demo import load_demo_assets
        from gongzhi.core import registry

        # After places (10), accounts (20), people (30), services (40/45) and councils (50).
        registry.register_demo_loader(60, "assets", load_demo_assets)
        from gongzhi.assets.actions import DAILY_TIMER, arm_daily_monitoring, handle_daily_monitoring

        # Once a day: the month's rent due is posted and every alert recomputed.
        registry.register_timer(DAILY_TIMER, handle_daily_monitoring)
        registry.register_periodic("assets.arm_daily_monitoring", arm_daily_monitoring)

        def _front_door(request: object) -> dict[str, object]:
            from gongzhi.assets.queries import public_deals

            return {"deals": list(public_deals()[:5])}

        # Listings and result notices are public (阳光交易): reachable from the front door.
        registry.register_front_door(30, "assets", "assets/_front_door.html", _front_door)
        registry.register_landing_link("asset_manager", "assets:console", _("集体资产监管"))
        for role in ("community_supervisor", "subdistrict_supervisor", "district_supervisor", "auditor", "administrator"):
            registry.register_landing_link(role, "assets:console", _("集体资产监管"))
