from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "gongzhi.services"
    label = "services"
    verbose_name = _("一门式一网式政务服务")

    def ready(self) -> None:
        from gongzhi.core import registry
        from gongzhi.services import actions, notify, stats, uploads
        from gongzhi.services.domain import catalog_search, search

        registry.register_timer("services.task_warning", actions.handle_task_warning)
        registry.register_timer("services.task_overdue", actions.handle_task_overdue)
        registry.register_periodic("services.fold_figures", stats.fold_dirty_cases)
        from gongzhi.services.actions import places as place_moves

        # Open cases follow a community split or merge; closed ones and past figures stay.
        registry.register_place_move("services.open_cases", _("在办办件"), place_moves.count_open_cases_at,
                                     place_moves.move_open_cases, order=30)
        registry.register_periodic("services.send_notifications", notify.send_pending)
        registry.register_periodic("services.clean_pending_uploads", uploads.clean_expired)
        registry.register_warm_up("services.search_dictionary", search.warm_up)
        registry.register_warm_up("services.pinyin_dictionary", catalog_search.warm_up)
        from gongzhi.services.views.hall import front_door_context

        registry.register_front_door(10, "services", "services/_front_door.html", front_door_context)
        registry.on_calendar_changed(actions.do_recompute_provisional_deadlines)

        from gongzhi.services.demo import load_demo_catalog

        # After places (10), accounts (20) and people (30): items need departments and places.
        registry.register_demo_loader(40, "services", load_demo_catalog)
        # Then ninety days of cases through the actions (officers for every routed department first).
        from gongzhi.services.demo_cases import load_demo_cases

        registry.register_demo_loader(45, "services.cases", load_demo_cases)

        links = [
            ("window_clerk", "services:window", _("综合窗口受理")),
            ("resident", "services:online", _("网上办事大厅")),
            ("resident", "services:my_cases", _("我的办件")),
            ("enterprise_agent", "services:online", _("网上办事大厅")),
            ("enterprise_agent", "services:my_cases", _("我的办件")),
            ("department_officer", "services:tasks", _("部门审批")),
            ("department_officer", "services:reviews", _("差评整改与申诉")),
        ]
        links += [
            (role, "services:appeals", _("差评申诉审核"))
            for role in ("community_supervisor", "subdistrict_supervisor", "district_supervisor")
        ]
        links += [
            (role, "services:board", _("阳光办督导"))
            for role in ("community_supervisor", "subdistrict_supervisor", "district_supervisor", "auditor", "administrator")
        ]
        for role, url_name, label in links:
            registry.register_landing_link(role, url_name, label)

        # Intake caches catalog items per process; any catalog write in this process drops the
        # cache at once (other processes pick the change up within INTAKE_CACHE_SECONDS).
        from django.db.models.signals import post_delete, post_save

        from gongzhi.services.models import ItemCoDepartment, ItemMaterial, ItemRoute, ServiceItem
        from gongzhi.services.routing import clear_intake_cache

        def _drop(**_kwargs: object) -> None:
            clear_intake_cache()

        for model in (ServiceItem, ItemMaterial, ItemCoDepartment, ItemRoute):
            post_save.connect(_drop, sender=model, weak=False, dispatch_uid=f"intake-cache-{model.__name__}")
            post_delete.connect(_drop, sender=model, weak=False, dispatch_uid=f"intake-cache-del-{model.__name__}")
