from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MicroprojectsConfig(AppConfig):
    name = "gongzhi.microprojects"
    label = "microprojects"
    verbose_name = _("民生微实事")

    def ready(self) -> None:
        from gongzhi.core.registry import (
            register_demo_loader,
            register_figures,
            register_front_door,
            register_landing_link,
        )
        from gongzhi.microprojects.demo import load_demo_microprojects

        register_demo_loader(60, "microprojects", load_demo_microprojects)  # after councils (50)

        def _front_door(request: object) -> dict[str, Any]:
            from gongzhi.microprojects.queries import communities_with_projects

            return {"communities": communities_with_projects()[:8]}

        register_front_door(25, "microprojects", "microprojects/_front_door.html", _front_door)
        register_landing_link("community_worker", "microprojects:office", _("民生微实事 · 审核与立项"))
        register_landing_link("resident", "microprojects:propose", _("我要提民生微实事项目"))

        def _figures(place: Any, year: int) -> dict[str, Any]:
            from dataclasses import asdict

            from gongzhi.microprojects.queries import figures

            return asdict(figures(place, year))

        register_figures("microprojects", _("民生微实事"), _figures)
