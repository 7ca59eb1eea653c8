from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "gongzhi.places"
    label = "places"
    verbose_name = _("行政区划")

    def ready(self) -> None:
        from gongzhi.core.registry import MapLayer, register_demo_loader, register_map_layer
        from gongzhi.places.demo import load_demo_places
        from gongzhi.places.queries import district_centres_geojson

        # Places come first: users, departments and everything else hang under them.
        register_demo_loader(10, "places", load_demo_places)
        register_map_layer(MapLayer("places.districts", str(_("区中心")), district_centres_geojson))

        from gongzhi.core.registry import register_landing_link, register_timer
        from gongzhi.places.actions import PLAN_TIMER, handle_plan_timer

        # Restructuring plans take effect on their date by a durable timer (places.RestructurePlan).
        register_timer(PLAN_TIMER, handle_plan_timer)
        for role in ("subdistrict_supervisor", "district_supervisor", "administrator"):
            register_landing_link(role, "places:plans", _("社区区划调整方案"))
