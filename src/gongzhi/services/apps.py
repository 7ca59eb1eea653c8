from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "gongzhi.services"
    label = "services"
    verbose_name = _("一门式一网式政务服务")

    def ready(self) -> None:
        from gongzhi.core import registry
        from gongzhi.services import actions, notify, stats
        from gongzhi.services.sweeps import recompute_provisional_case_deadlines

        registry.register_timer("services.task_warning", actions.handle_task_warning)
        registry.register_timer("services.task_overdue", actions.handle_task_overdue)
        registry.register_periodic("services.fold_figures", stats.fold_dirty_cases)
        registry.register_periodic("services.retry_notifications", notify.retry_unsent)
        registry.on_calendar_changed(recompute_provisional_case_deadlines)
