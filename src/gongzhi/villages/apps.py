from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VillagesConfig(AppConfig):
    name = "gongzhi.villages"
    label = "villages"
    verbose_name = _("城中村综合治理")

    def ready(self) -> None:
        from gongzhi.core import registry
        from gongzhi.villages import actions
        from gongzhi.villages.demo import load_demo_villages

        if actions.CHECK_TIMER not in registry.REGISTRY.timer_handlers:
            registry.register_timer(actions.CHECK_TIMER, actions.handle_schedule_check)
        if actions.REPAIR_TIMER not in registry.REGISTRY.timer_handlers:
            registry.register_timer(actions.REPAIR_TIMER, actions.handle_repair_overdue)
        registry.register_demo_loader(60, "villages", load_demo_villages)  # after councils
        for role in ("community_worker", "department_officer", "community_supervisor", "subdistrict_supervisor",
                     "district_supervisor", "administrator"):
            registry.register_landing_link(role, "villages:portfolio", _("城中村改造项目"))
